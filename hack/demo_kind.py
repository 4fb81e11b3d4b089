"""`make demo` on kind: the five faults on real Pods, fixed by the operator installed with Helm.

hack/demo.sh starts the kind cluster (hack/kind/up.sh) and installs Prometheus and the operator
(hack/kind/install.sh); this deploys the Chat App (one process per Pod, a load generator, an LLM
dependency) in its own namespace, applies one policy with demo timings, breaks the real Pods five times
(hack/kind_faults.py, the same injections as tests/kind) and narrates what the operator does, with the
offline planner. Ends with a timing table (the `kind` entry of benchmarks/results/demo.json) and the
MaintenanceReport of the faults.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kubernetes import client

import chatapp_stack as stack_lib
import demo
import demo_report
import kind_faults as faults
import kind_stack

NAMESPACE = demo.NAMESPACE
say, heading = demo.say, demo.heading


@dataclass
class Result:
    fault: faults.Fault
    action: str = ""
    outcome: str = ""
    marks: dict[str, float] = field(default_factory=dict)

    def done(self) -> float | None:
        stages = ("verified", "escalated", "rolledback", "failed", "rejected", "expired", "terminated")
        return next((self.marks[s] for s in stages if s in self.marks), None)

    def expected(self) -> bool:
        if self.fault is faults.LLM_OUTAGE:
            return self.outcome in ("Escalated", "Succeeded")
        return self.outcome == "Succeeded"

    def row(self) -> dict[str, Any]:
        return {
            "fault": self.fault.title,
            "action": self.action,
            "outcome": self.outcome,
            "breach_seconds": self.marks.get("breach"),
            "detect_seconds": self.marks.get("detected"),
            "act_seconds": self.marks.get("executing"),
            "verifying_seconds": self.marks.get("verifying"),
            "done_seconds": self.done(),
            "recovered_seconds": self.marks.get("recovered"),
        }


class KindDemo:
    def __init__(self, kind: kind_stack.KindCluster, *, work: Path) -> None:
        self.kind = kind
        self.api = kind.api()
        self.narrator = demo.Demo(kind.stack, work=work)

    def setup(self) -> None:
        heading("1. The Chat App on real Pods and its MaintenancePolicy")
        if self.narrator._namespace_exists():
            say(f"Removing the previous demo namespace {NAMESPACE} …")
            stack_lib.delete_namespace(self.api, NAMESPACE)
            stack_lib.wait_for(
                lambda: not self.narrator._namespace_exists(), timeout=180, what="old demo namespace to go"
            )
        kind_stack.deploy_chatapp(self.kind, NAMESPACE)
        pods = [p["metadata"]["name"] for p in kind_stack.app_pods(self.kind, NAMESPACE)]
        say(
            f"Deployment {NAMESPACE}/chatapp runs {len(pods)} processes ({', '.join(pods)}), a load generator"
        )
        say("  sending 100 messages/s through the app's Service, an LLM dependency; Prometheus scrapes them.")
        stack_lib.create(self.api, "maintenancepolicies", NAMESPACE, faults.demo_policy(NAMESPACE))
        say("Applied MaintenancePolicy chatapp (demo timings, offline planner; critical and high issues")
        say("  are approved up to High risk). The operator runs in maintenance-system (helm install).")
        say("… asking for assessments until the live ConfigMap values are recorded as known-good")
        faults.known_good_config(self.kind, NAMESPACE)
        self.narrator.narrate()
        say("✔ known-good config recorded")

    def run(self, fault: faults.Fault) -> Result:
        result = Result(fault)
        self.kind.kubectl(
            "-n",
            NAMESPACE,
            "patch",
            "maintenancepolicies.maintenance.chatapp.io",
            "chatapp",
            "--type=merge",
            "-p",
            json.dumps(faults.verification_patch(fault)),
        )
        existing = {r["metadata"]["name"] for r in stack_lib.items(self.api, "remediations", NAMESPACE)}
        say(f"Expecting: {fault.expected}")
        timeline = kind_stack.Timeline(fault.scenario)
        try:
            faults.inject(self.kind, NAMESPACE, fault)
            timeline.mark("breach")
            say(f"  [{timeline.marks['breach']:.0f}s] breach in Prometheus: {fault.query(NAMESPACE)}")
            stack_lib.request_assessment(self.api, NAMESPACE, f"demo-{fault.scenario.replace('_', '-')}")
            rem = kind_stack.remediation_for(
                self.kind,
                NAMESPACE,
                fault.indicator,
                timeout=180,
                exclude=existing,
                on_poll=self.narrator.narrate,
            )
            timeline.mark("detected")
            result.action = ", ".join(demo._action(a) for a in rem["spec"]["plan"]["actions"])
            rem = kind_stack.follow(
                self.kind,
                NAMESPACE,
                rem["metadata"]["name"],
                timeline,
                timeout=400,
                on_poll=self.narrator.narrate,
            )
            self.narrator.narrate()
            result.outcome = (rem.get("status") or {}).get("phase", "")
            faults.clear(self.kind, NAMESPACE, fault)
            stack_lib.wait_for(
                lambda: not faults.breached(self.kind, NAMESPACE, fault),
                timeout=180,
                interval=2,
                what=f"{fault.title} gone from Prometheus",
            )
            timeline.mark("recovered")
        except TimeoutError as exc:
            say(f"  ✘ {exc}")
            result.outcome = result.outcome or (
                "not detected" if "detected" not in timeline.marks else "timeout"
            )
            faults.clear(self.kind, NAMESPACE, fault)
        result.marks = dict(timeline.marks)
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kind-dir", default=str(stack_lib.ROOT / ".kind"))
    parser.add_argument("--prometheus-url", required=True)
    parser.add_argument("--work", default=str(stack_lib.ROOT / ".demo" / "kind"))
    parser.add_argument("--why", default="", help="which path runs and why (printed first and last)")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    kind_dir = Path(args.kind_dir).resolve()
    kind = kind_stack.KindCluster(
        kind_dir=kind_dir, kubeconfig=kind_dir / "kubeconfig", prometheus_url=args.prometheus_url
    )
    if args.why:
        say(f"Demo path: kind (real Pods): {args.why}")
    session = KindDemo(kind, work=work)
    began = time.monotonic()
    results: list[Result] = []
    written: demo_report.Written | None = None
    session.setup()
    for number, fault in enumerate(faults.FAULTS, start=2):
        heading(f"{number}. Fault on real Pods: {fault.title}")
        results.append(session.run(fault))
        r = results[-1]
        say(f"Result: {r.outcome} ({r.action or 'no plan'}); timings after injection: {r.marks}")
    heading(f"{len(faults.FAULTS) + 2}. The maintenance report of this demo")
    try:
        written = session.narrator.report()
    except (TimeoutError, client.ApiException) as exc:
        say(f"No report: {exc}")
    total = time.monotonic() - began
    heading("Summary (kind, real Pods)")
    for r in results:
        row = r.row()
        cells = "  ".join(
            f"{label} {row[key]:>5.0f}s" if row[key] is not None else f"{label}     -"
            for label, key in (("detect", "detect_seconds"), ("act", "act_seconds"), ("done", "done_seconds"))
        )
        say(f"  {r.fault.title:<22} {r.action or '-':<34} {r.outcome:<14} {cells}")
    say(f"  demo took {total:.0f}s (cluster start and install not included)")
    if written is not None:
        say(f"  maintenance report ({written.phase}): {written.markdown}")
        say(f"  open it in a browser: file://{written.html.resolve()}")
    if args.why:
        say(f"  path: kind (real Pods): {args.why}")
    record(
        {
            "total_seconds": total,
            "load_average": os.getloadavg()[0],
            "command": "MO_DEMO_TARGET=kind make demo",
            "steps": [r.row() for r in results],
        }
    )
    return 0 if results and all(r.expected() for r in results) and written is not None else 1


def record(entry: dict[str, Any]) -> None:
    """The `kind` entry of benchmarks/results/demo.json, beside the local (kwok) path's numbers."""
    path = stack_lib.ROOT / "benchmarks" / "results" / "demo.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    data["kind"] = entry
    path.write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
