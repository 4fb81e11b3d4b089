"""The kind cluster of `make e2e-kind` and of `make demo` on kind, and the Chat App on it as real Pods.

hack/kind/e2e.sh (or hack/demo.sh) starts the cluster, loads the images, installs Prometheus and the operator
(Helm) and exports where they are; these helpers deploy the Chat App in a namespace, follow its Remediations
and record per-scenario timings (detected / executing / verified after injection) in
$MO_KIND_DIR/timings.jsonl. The faults themselves are in kind_faults.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import client, config

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "hack"))
import chatapp_stack as stack_lib  # noqa: E402
import docker_engine  # noqa: E402

CHATAPP_MANIFEST = REPO / "hack" / "kind" / "manifests" / "chatapp.yaml"
APP_SELECTOR = "app.kubernetes.io/name=chatapp"


@dataclass(frozen=True)
class KindCluster:
    """A kind cluster with the workloads of hack/kind/install.sh: where things are."""

    kind_dir: Path
    kubeconfig: Path
    prometheus_url: str
    release: str = "maintenance-operator"
    release_namespace: str = "maintenance-system"

    @property
    def stack(self) -> stack_lib.Stack:
        return stack_lib.Stack(
            kubeconfig=str(self.kubeconfig),
            prometheus_url=self.prometheus_url,
            simulator_url="",
            operator_metrics_port=0,
        )

    def api(self) -> client.ApiClient:
        api_client: client.ApiClient = config.new_client_from_config(config_file=str(self.kubeconfig))
        return api_client

    def kubectl(self, *args: str, check: bool = True, timeout: float = 120) -> str:
        proc = subprocess.run(
            ["kubectl", f"--kubeconfig={self.kubeconfig}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def prometheus(self, query: str) -> float | None:
        return stack_lib.prometheus_value(self.stack, query)


def installed(kubeconfig: Path, *, docker_host: str) -> KindCluster:
    """Run hack/kind/install.sh (idempotent) unless hack/kind/e2e.sh already did (MO_KIND_INSTALLED=1)."""
    kind_dir = Path(os.environ.get("MO_KIND_DIR") or REPO / ".kind").resolve()
    url = os.environ.get("PROMETHEUS_URL", "")
    if os.environ.get("MO_KIND_INSTALLED") != "1" or not url:
        env = {
            **docker_engine.environment(docker_host),
            "KUBECONFIG": str(kubeconfig),
            "MO_KIND_DIR": str(kind_dir),
        }
        proc = subprocess.run(
            [str(REPO / "hack" / "kind" / "install.sh")],
            env=env,
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"hack/kind/install.sh failed:\n{proc.stderr[-4000:]}")
        url = proc.stdout.strip().splitlines()[-1].split("=", 1)[1]
    return KindCluster(kind_dir=kind_dir, kubeconfig=kubeconfig, prometheus_url=url)


# ---------------------------------------------------------------- the Chat App


def deploy_chatapp(kind: KindCluster, namespace: str) -> None:
    """The Chat App, its LLM dependency and its load generator, rolled out and scraped by Prometheus."""
    kind.kubectl("create", "namespace", namespace)
    kind.kubectl("-n", namespace, "apply", "-f", str(CHATAPP_MANIFEST))
    for deployment in ("chatapp", "chatapp-llm", "chatapp-loadgen"):
        kind.kubectl(
            "-n", namespace, "rollout", "status", f"deploy/{deployment}", "--timeout=180s", timeout=200
        )
    query = f'count(rate(chatapp_requests_total{{namespace="{namespace}"}}[15s]) > 0)'
    stack_lib.wait_for(lambda: (kind.prometheus(query) or 0) >= 2, timeout=90, what=query)


def app_pods(kind: KindCluster, namespace: str) -> list[dict[str, Any]]:
    """Running, not terminating Chat App Pods."""
    found = json.loads(kind.kubectl("-n", namespace, "get", "pods", "-l", APP_SELECTOR, "-o", "json"))
    return [
        p
        for p in found["items"]
        if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
    ]


def leak(
    kind: KindCluster, namespace: str, pod: str, *, bytes_per_second: int, limit_fraction: float
) -> None:
    """Start a real memory leak in the process of `pod` (its own HTTP endpoint, from inside the Pod)."""
    kind.kubectl(
        "-n",
        namespace,
        "exec",
        pod,
        "-c",
        "chatapp",
        "--",
        "python3",
        "-m",
        "chatapp_pod",
        "leak",
        f"--bytes-per-second={bytes_per_second}",
        f"--limit-fraction={limit_fraction}",
    )


def memory_ratio(kind: KindCluster, namespace: str) -> float | None:
    return kind.prometheus(
        f'max(chatapp_memory_bytes{{namespace="{namespace}"}}'
        f' / chatapp_memory_limit_bytes{{namespace="{namespace}"}})'
    )


# ---------------------------------------------------------------- remediations and timings


def first_round_done(kind: KindCluster, namespace: str, *, timeout: float = 120) -> None:
    """Wait for the policy's first scheduled round to finish: the performance analysis due when the policy is
    created (it also covers the health check due then). A fault injected afterwards is seen by the assessment
    the scenario asks for, not by a scheduled analysis that ran while the fault was building up."""
    api = kind.api()

    def done() -> bool:
        found = stack_lib.items(api, "healthassessments", namespace)
        analyses = {(a.get("spec") or {}).get("analysis") for a in found}
        phases = [(a.get("status") or {}).get("phase") for a in found]
        return "PerformanceAnalysis" in analyses and all(
            phase in stack_lib.ASSESSMENT_FINISHED for phase in phases
        )

    stack_lib.wait_for(done, timeout=timeout, interval=2, what="the policy's first scheduled round")


def leak_all(
    kind: KindCluster, namespace: str, *, bytes_per_second: int, limit_fraction: float
) -> dict[str, str]:
    """Start the leak in every Chat App process and wait until the worst is past 90% of its limit; returns
    the leaking Pods' names and uids."""
    first_round_done(kind, namespace)
    leaking = {p["metadata"]["name"]: p["metadata"]["uid"] for p in app_pods(kind, namespace)}
    for pod in leaking:
        leak(kind, namespace, pod, bytes_per_second=bytes_per_second, limit_fraction=limit_fraction)
    stack_lib.wait_for(
        lambda: (memory_ratio(kind, namespace) or 0) > 0.9, timeout=90, what="the leak past 90% of the limit"
    )
    return leaking


def remediation_for(
    kind: KindCluster,
    namespace: str,
    indicator: str,
    timeout: float = 120,
    *,
    exclude: Collection[str] = (),
    on_poll: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """The Remediation an assessment opened for an issue of `indicator` (not one of `exclude`)."""
    api = kind.api()

    def find() -> dict[str, Any] | None:
        if on_poll:
            on_poll()
        for assessment in stack_lib.items(api, "healthassessments", namespace):
            for issue in (assessment.get("status") or {}).get("issues") or []:
                name = issue.get("remediation")
                if issue["indicator"] == indicator and name and name not in exclude:
                    found: dict[str, Any] = stack_lib.get(
                        api, "remediations", namespace, issue["remediation"]
                    )
                    return found
        return None

    return stack_lib.wait_for(find, timeout=timeout, interval=2, what=f"a remediation for {indicator}")


@dataclass
class Timeline:
    """Seconds after the fault's injection at which a scenario reached each stage."""

    scenario: str
    injected: float = field(default_factory=time.monotonic)
    marks: dict[str, float] = field(default_factory=dict)

    def mark(self, stage: str) -> None:
        self.marks.setdefault(stage, round(time.monotonic() - self.injected, 1))

    def save(self, kind: KindCluster) -> None:
        """Append to $MO_KIND_DIR/timings.jsonl (benchmarks/kind_workloads.py takes the medians)."""
        line = json.dumps({"scenario": self.scenario, "at": time.time(), **self.marks})
        with (kind.kind_dir / "timings.jsonl").open("a") as out:
            out.write(line + "\n")
        sys.stderr.write(f"timings {line}\n")


def follow(
    kind: KindCluster,
    namespace: str,
    name: str,
    timeline: Timeline,
    *,
    timeout: float = 300,
    on_poll: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Poll a Remediation to its end, marking when it was seen Executing, Verifying and finished."""
    api = kind.api()

    def done() -> dict[str, Any] | None:
        if on_poll:
            on_poll()
        obj = stack_lib.get(api, "remediations", namespace, name)
        phase = (obj.get("status") or {}).get("phase")
        if phase in ("Executing", "Verifying"):
            timeline.mark("executing")
        if phase == "Verifying":
            timeline.mark("verifying")
        if phase in stack_lib.REMEDIATION_TERMINAL:
            timeline.mark("verified" if phase == "Succeeded" else phase.lower())
            return obj
        return None

    return stack_lib.wait_for(done, timeout=timeout, interval=1, what=f"remediation {name} to finish")


def demo_policy(namespace: str, **overrides: Any) -> dict[str, Any]:
    """The sample policy with the demo timings of tests/e2e (chatapp_stack.demo_policy), scheduled hourly:
    each scenario asks for its assessment when the fault shows."""
    base: dict[str, Any] = {"schedule": {"healthCheck": "1h", "performanceAnalysis": "1h"}}
    stack_lib._merge(base, overrides)
    return stack_lib.demo_policy(namespace, **base)


def manual_remediation(
    kind: KindCluster, namespace: str, *, severity: str, indicator: str, category: str, actions: list[Any]
) -> str:
    """A Remediation written by a person: validated, risk scored and routed like any plan."""
    name = f"manual-{uuid.uuid4().hex[:6]}"
    issue = {
        "fingerprint": f"manual{uuid.uuid4().hex[:10]}",
        "title": f"{indicator} (manual)",
        "severity": severity,
        "category": category,
        "dimension": "core",
        "indicator": indicator,
    }
    spec = {
        "policyRef": {"name": "chatapp"},
        "targetRef": {"name": "chatapp"},
        "issue": issue,
        "plan": {"actions": actions, "rationale": "written by hand", "confidence": 9.0},
    }
    stack_lib.create(
        kind.api(),
        "remediations",
        namespace,
        {"kind": "Remediation", "metadata": {"name": name}, "spec": spec},
    )
    return name


def phase(kind: KindCluster, namespace: str, name: str) -> str | None:
    status = stack_lib.get(kind.api(), "remediations", namespace, name).get("status") or {}
    return status.get("phase")


def plugin(kind: KindCluster, verb: str, name: str, namespace: str) -> str:
    """`kubectl maintenance VERB NAME` as a human runs it (the plugin in hack/)."""
    return stack_lib.run_plugin(str(kind.kubeconfig), verb, name, namespace)


def operator_pods(kind: KindCluster) -> list[dict[str, Any]]:
    found = json.loads(
        kind.kubectl(
            "-n",
            kind.release_namespace,
            "get",
            "pods",
            "-l",
            f"app.kubernetes.io/instance={kind.release}",
            "-o",
            "json",
        )
    )
    return [p for p in found["items"] if not p["metadata"].get("deletionTimestamp")]


def operator_ready(kind: KindCluster) -> dict[str, Any] | None:
    for pod in operator_pods(kind):
        conditions = {c["type"]: c["status"] for c in pod["status"].get("conditions") or []}
        if conditions.get("Ready") == "True":
            return pod
    return None


AUTO_APPROVE = {"severities": ["critical", "high"], "maxRisk": "High"}


def auto_policy(
    kind: KindCluster, namespace: str, *, route_high: bool = True, **overrides: Any
) -> dict[str, Any]:
    """Create the demo policy with critical and high plans auto-approved (and high issues routed to
    AutoResolve unless ``route_high`` is False): a scenario's fault is fixed without a human."""
    base: dict[str, Any] = {"autoApprove": AUTO_APPROVE}
    if route_high:
        base["severityRouting"] = {"high": "AutoResolve"}
    stack_lib._merge(base, overrides)
    return stack_lib.create(kind.api(), "maintenancepolicies", namespace, demo_policy(namespace, **base))


def detect(kind: KindCluster, namespace: str, indicator: str, timeline: Timeline) -> dict[str, Any]:
    """The fault shows (marked "breach"): ask for an assessment and wait for its Remediation ("detected")."""
    timeline.mark("breach")
    stack_lib.request_assessment(
        kind.api(), namespace, f"{timeline.scenario[:40].replace('_', '-')}-{uuid.uuid4().hex[:6]}"
    )
    found = remediation_for(kind, namespace, indicator)
    timeline.mark("detected")
    return found


def remediate(
    kind: KindCluster, namespace: str, indicator: str, timeline: Timeline, *, timeout: float = 300
) -> dict[str, Any]:
    """:func:`detect`, then :func:`follow` the Remediation to its end."""
    found = detect(kind, namespace, indicator, timeline)
    return follow(kind, namespace, found["metadata"]["name"], timeline, timeout=timeout)


def delete_operator_pod(
    kind: KindCluster, pod: dict[str, Any], *, force: bool = False, wait: bool = False
) -> None:
    """Delete an operator Pod gracefully (SIGTERM, the chart's grace period), or with ``force`` as a crash
    does (grace period 0: the API object is gone at once, the process killed); ``wait`` until it is gone."""
    how = ["--grace-period=0", "--force"] if force else []
    name = pod["metadata"]["name"]
    kind.kubectl("-n", kind.release_namespace, "delete", "pod", name, f"--wait={str(wait).lower()}", *how)


def replacement_ready(kind: KindCluster, old: dict[str, Any], *, timeout: float = 180) -> dict[str, Any]:
    """The operator Pod that replaced ``old``, once Ready."""

    def ready() -> dict[str, Any] | None:
        pod = operator_ready(kind)
        return pod if pod and pod["metadata"]["uid"] != old["metadata"]["uid"] else None

    return stack_lib.wait_for(ready, timeout=timeout, interval=1, what="a new operator Pod Ready")
