"""`make demo`: the whole maintenance loop on the local cluster with the embedded offline planner.

Deploys the Chat App, applies the sample policy (with demo timings), starts the operator, then injects
five faults one after another and narrates what happens: assessment, plan, approval, execution,
verification, rollback. Prints a timing table, writes benchmarks/results/demo.json, and ends with the
MaintenanceReport of the faults it ran (Markdown and a self-contained HTML page; the path is printed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kubernetes import client

import chatapp_stack as stack_lib
import demo_report

NAMESPACE = "chatapp-demo"


def say(text: str = "") -> None:
    print(text, flush=True)


def heading(text: str) -> None:
    say()
    say(f"━━ {text} " + "━" * max(0, 74 - len(text)))


@dataclass
class Step:
    fault: str
    expected: str
    fault_at: float = 0.0
    detected_at: float | None = None
    acted_at: float | None = None
    done_at: float | None = None
    action: str = ""
    outcome: str = ""
    notes: list[str] = field(default_factory=list)


class Demo:
    def __init__(self, stack: stack_lib.Stack, *, work: Path) -> None:
        self.stack = stack
        self.api = stack.api()
        self.work = work
        self.seen: set[str] = set()
        self.operator: stack_lib.OperatorProcess | None = None

    # ------------------------------------------------------------ setup

    def setup(self) -> None:
        heading("1. The Chat App and its MaintenancePolicy")
        if self._namespace_exists():
            say(f"Removing the previous demo namespace {NAMESPACE} …")
            stack_lib.delete_namespace(self.api, NAMESPACE)
            stack_lib.wait_for(
                lambda: not self._namespace_exists(), timeout=120, what="old demo namespace to go"
            )
        stack_lib.deploy_chatapp(self.api, NAMESPACE)
        stack_lib.wait_for(
            lambda: stack_lib.rolled_out(self.api, NAMESPACE), timeout=120, what="chatapp to roll out"
        )
        say(f"Deployment {NAMESPACE}/chatapp is Available with 2 pods (kwok fake nodes).")
        # a maintenance window that is always open: medium issues run (within the autoApprove limits)
        # instead of waiting for tonight, so the demo does not depend on the time of day
        policy = stack_lib.demo_policy(
            NAMESPACE,
            autoApprove={"severities": ["critical"], "maxRisk": "Medium"},
            maintenanceWindows=[{"start": "00:00", "duration": "24h"}],
        )
        stack_lib.create(self.api, "maintenancepolicies", NAMESPACE, policy)
        say("Applied MaintenancePolicy chatapp: 12 indicators in 5 dimensions (30/25/20/15/10),")
        say("  health check every 30s, performance analysis every 1m (demo timings), offline planner.")
        self.operator = stack_lib.OperatorProcess(
            self.stack, namespaces=[NAMESPACE], log_path=self.work / "operator.log"
        ).start()
        say(f"Operator started (log: {self.work / 'operator.log'}).")
        self.wait_healthy("the first healthy assessment")
        say("… waiting until the live ConfigMap values are known-good (healthy for a minute), so that a")
        say("  corrupted value can later be patched back to them")
        stack_lib.wait_for(self._known_good, timeout=240, interval=5, what="a known-good config")
        say("✔ known-good config recorded")

    def _known_good(self) -> bool:
        self.narrate()
        policy = stack_lib.get(self.api, "maintenancepolicies", NAMESPACE, "chatapp")
        return bool((policy.get("status") or {}).get("knownGoodConfig"))

    def _namespace_exists(self) -> bool:
        try:
            client.CoreV1Api(self.api).read_namespace(NAMESPACE)
            return True
        except client.ApiException:
            return False

    def report(self) -> demo_report.Written:
        """The operator's MaintenanceReport of everything above, rendered next to the operator's log."""
        written = demo_report.produce(
            create=lambda body: stack_lib.create(self.api, "maintenancereports", NAMESPACE, body),
            read=lambda: stack_lib.get(self.api, "maintenancereports", NAMESPACE, demo_report.REPORT),
            wait=lambda probe: stack_lib.wait_for(probe, timeout=120, what="the maintenance report"),
            namespace=NAMESPACE,
            into=self.work,
        )
        say(f"MaintenanceReport {NAMESPACE}/{demo_report.REPORT}: {written.phase}")
        say(f"  Markdown: {written.markdown}")
        say(f"  HTML:     {written.html}")
        say(f"  (again later: kubectl maintenance report {demo_report.REPORT} -n {NAMESPACE} --html FILE)")
        return written

    # ------------------------------------------------------------ narration

    def assessments(self) -> list[dict[str, Any]]:
        return stack_lib.items(self.api, "healthassessments", NAMESPACE)

    def remediations(self) -> list[dict[str, Any]]:
        return stack_lib.items(self.api, "remediations", NAMESPACE)

    def narrate(self) -> None:
        for a in self.assessments():
            status = a.get("status") or {}
            key = f"hass/{a['metadata']['name']}"
            if status.get("phase") and key not in self.seen:
                self.seen.add(key)
                issues = status.get("issues") or []
                score = status.get("overallScore")
                text = ", ".join(f"{i['severity']} {i['indicator']}" for i in issues) or "no issues"
                say(f"  [assessment] {a['metadata']['name']}: {status['phase']}, score {score}: {text}")
        for r in self.remediations():
            status = r.get("status") or {}
            phase = status.get("phase")
            key = f"mrem/{r['metadata']['name']}/{phase}"
            if phase and key not in self.seen:
                self.seen.add(key)
                plan = r["spec"]["plan"]
                actions = ", ".join(_action(a) for a in plan["actions"])
                risk = (status.get("risk") or {}).get("level", "?")
                say(
                    f"  [remediation] {r['metadata']['name']}: {phase} | plan: {actions} | risk {risk} | "
                    f"{status.get('message', '')[:110]}"
                )

    def wait_healthy(self, what: str, timeout: float = 240) -> None:
        start = time.monotonic()

        def healthy() -> bool:
            self.narrate()
            for a in reversed(self.assessments()):
                status = a.get("status") or {}
                created = a["metadata"]["creationTimestamp"]
                if status.get("phase") == "Completed" and _after(created, start_wall):
                    return bool(status.get("healthy"))
            return False

        start_wall = time.time()
        say(f"… waiting for {what}")
        stack_lib.wait_for(healthy, timeout=timeout, interval=2, what=what, progress=_ticker(start))
        say(f"✔ healthy again after {time.monotonic() - start:.0f}s")

    # ------------------------------------------------------------ scenarios

    def run_fault(
        self, step: Step, fault: dict[str, Any], *, before: Any = None, approve: bool = False
    ) -> None:
        if before:
            before()
        step.fault_at = time.monotonic()
        fault_id = stack_lib.inject(self.stack, fault)
        say(f"Injected fault {fault_id}. Expecting: {step.expected}")
        existing = {r["metadata"]["name"] for r in self.remediations()}
        say("  (letting the fault show in Prometheus for 12s, then asking for an on-demand assessment)")
        time.sleep(12)
        stack_lib.request_assessment(
            self.api, NAMESPACE, f"demo-{fault['type'].replace('_', '-')}-{int(time.time())}"
        )
        deadline = time.monotonic() + 300
        ticker = _ticker(step.fault_at)
        while time.monotonic() < deadline:
            self.narrate()
            assessed = [
                a
                for a in self.assessments()
                if (a.get("status") or {}).get("issues")
                and _after(
                    a["metadata"]["creationTimestamp"], time.time() - (time.monotonic() - step.fault_at)
                )
            ]
            if assessed and step.detected_at is None:
                step.detected_at = time.monotonic()
            new = [r for r in self.remediations() if r["metadata"]["name"] not in existing]
            if new:
                rem = new[0]
                status = rem.get("status") or {}
                step.action = ", ".join(_action(a) for a in rem["spec"]["plan"]["actions"])
                if status.get("phase") == "AwaitingApproval" and approve:
                    name = rem["metadata"]["name"]
                    say(f"  [human] kubectl maintenance approve {name} -n {NAMESPACE}")
                    out = stack_lib.subprocess_plugin(self.stack, "approve", name, NAMESPACE)
                    say(f"  [human] {out.strip()}")
                    approve = False
                if status.get("phase") in ("Executing", "Verifying") and step.acted_at is None:
                    step.acted_at = time.monotonic()
                if status.get("phase") in stack_lib.REMEDIATION_TERMINAL:
                    step.outcome = status["phase"]
                    step.done_at = time.monotonic()
                    break
            ticker(deadline - time.monotonic())
            time.sleep(2)
        self.narrate()
        stack_lib.clear_faults(self.stack)
        if not step.outcome:
            step.outcome = "no remediation" if step.detected_at else "not detected"


def _action(action: dict[str, Any]) -> str:
    kind = action["type"]
    if kind == "Scale":
        return f"Scale→{action['scale']['replicas']}"
    if kind == "Rollback":
        return f"Rollback→rev {action['rollback']['toRevision']}"
    if kind == "ConfigPatch":
        return f"ConfigPatch {action['configPatch']['key']}={action['configPatch']['value']}"
    if kind == "Escalate":
        return "Escalate"
    return kind


def _after(timestamp: str, wall: float) -> bool:
    from datetime import datetime

    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() >= wall - 1


def _ticker(start: float) -> Any:
    last = [0.0]

    def tick(_remaining: float) -> None:
        now = time.monotonic()
        if now - last[0] >= 10:
            last[0] = now
            say(f"    … {now - start:.0f}s")

    return tick


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cluster-env", default=str(stack_lib.ROOT / ".cluster" / "cluster.env"))
    parser.add_argument("--work", default=str(stack_lib.ROOT / ".demo"))
    parser.add_argument("--why", default="", help="which path runs and why (printed first and last)")
    args = parser.parse_args()
    if args.why:
        say(f"Demo path: local cluster (kwok nodes): {args.why}")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    stack = stack_lib.Stack.from_env_file(Path(args.cluster_env))
    demo = Demo(stack, work=work)
    began = time.monotonic()
    steps: list[Step] = []
    written: demo_report.Written | None = None
    try:
        demo.setup()
        scenarios: list[tuple[Step, dict[str, Any], Any, bool]] = [
            (
                Step("memory leak", "memory forecast/critical → RolloutRestart, auto-approved, verified"),
                {
                    "type": "memory_leak",
                    "deployment": "chatapp",
                    "namespace": NAMESPACE,
                    "bytesPerSecond": 30_000_000,
                },
                None,
                False,
            ),
            (
                Step("bad release", "error ratio after a new image → Rollback to the previous revision"),
                {
                    "type": "bad_release",
                    "deployment": "chatapp",
                    "namespace": NAMESPACE,
                    "image": "chatapp:1.1",
                },
                lambda: _release(demo),
                True,
            ),
            (
                Step("load surge", "queue depth and latency → Scale up within bounds"),
                {"type": "load_surge", "deployment": "chatapp", "namespace": NAMESPACE, "totalLoad": 250},
                None,
                True,
            ),
            (
                Step(
                    "config corruption", "config reload failures → ConfigPatch back to the known-good value"
                ),
                {
                    "type": "config_corruption",
                    "deployment": "chatapp",
                    "namespace": NAMESPACE,
                    "configMap": stack_lib.CONFIG_MAP,
                    "key": "eventbus.maxQueue",
                    "badValue": "-1",
                },
                None,
                True,
            ),
            (
                Step(
                    "external LLM outage", "external dependency → no write to the cluster (NoAction/Escalate)"
                ),
                {"type": "llm_slowdown", "deployment": "chatapp", "namespace": NAMESPACE},
                None,
                False,
            ),
        ]
        for number, (step, fault, before, approve) in enumerate(scenarios, start=2):
            heading(f"{number}. Fault: {step.fault}")
            steps.append(step)
            demo.run_fault(step, fault, before=before, approve=approve)
            say(f"Result: {step.outcome} ({step.action or 'no plan'})")
            if step.outcome not in ("Escalated", "no remediation"):
                demo.wait_healthy(f"recovery after the {step.fault}")
            else:
                time.sleep(20)
        heading(f"{len(scenarios) + 2}. The maintenance report of this demo")
        try:
            written = demo.report()
        except (TimeoutError, client.ApiException) as exc:
            say(f"No report: {exc}")
    finally:
        if demo.operator:
            demo.operator.stop()
    heading("Summary")
    rows = []
    for s in steps:
        detect = f"{s.detected_at - s.fault_at:.0f}s" if s.detected_at else "-"
        act = f"{s.acted_at - s.fault_at:.0f}s" if s.acted_at else "-"
        done = f"{s.done_at - s.fault_at:.0f}s" if s.done_at else "-"
        say(
            f"  {s.fault:<22} {s.action or '-':<34} {s.outcome:<14} "
            f"detect {detect:>5}  act {act:>5}  done {done:>5}"
        )
        rows.append(
            {
                "fault": s.fault,
                "action": s.action,
                "outcome": s.outcome,
                "detect_seconds": s.detected_at - s.fault_at if s.detected_at else None,
                "act_seconds": s.acted_at - s.fault_at if s.acted_at else None,
                "done_seconds": s.done_at - s.fault_at if s.done_at else None,
            }
        )
    total = time.monotonic() - began
    say(f"  demo took {total:.0f}s")
    if written is not None:
        say(f"  maintenance report ({written.phase}): {written.markdown}")
        say(f"  open it in a browser: file://{written.html.resolve()}")
    results = stack_lib.ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / "demo.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data.update({"total_seconds": total, "steps": rows})  # the `kind` entry (hack/demo_kind.py) stays
    path.write_text(json.dumps(data, indent=2) + "\n")
    if args.why:
        say(f"  path: local cluster (kwok nodes): {args.why}")
    return 0


def _release(demo: Demo) -> None:
    say("Releasing chatapp:1.1 (a new revision) …")
    stack_lib.set_image(demo.api, NAMESPACE, "chatapp:1.1")
    stack_lib.wait_for(
        lambda: stack_lib.rolled_out(demo.api, NAMESPACE), timeout=120, what="release to roll out"
    )


if __name__ == "__main__":
    sys.exit(main())
