"""The five faults of the Chat App on real Pods (kind), shared by tests/kind and `make demo` on kind.

Each fault is injected the way a user would see it happen (the processes leak, a bad image is released,
the load generator sends more traffic, the mounted ConfigMap gets a bad value, the LLM dependency goes
away) and `inject` returns once Prometheus shows the breach. `clear` undoes what the operator does not
(the extra traffic, the LLM outage), so that the next fault starts from a healthy app.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import chatapp_stack as stack_lib
import kind_stack

MIB = 1024 * 1024
CONFIG_MAP = "chatapp-config"
BASE_LOAD = {"LOAD_RATE": "100", "REQUESTS_PER_SECOND": "10"}  # hack/kind/manifests/chatapp.yaml
SURGE_LOAD = {"LOAD_RATE": "250", "REQUESTS_PER_SECOND": "25"}  # 2 Pods of capacity 100 each; 3 take it


@dataclass(frozen=True)
class Fault:
    """One fault: what it breaks, what shows it, what the operator should do about it."""

    scenario: str
    title: str
    expected: str
    indicator: str
    actions: frozenset[str]
    breach: str  # PromQL over the namespace, as a template with {ns}
    threshold: float
    # the policy's verification while this fault is fixed (real Pods take longer than kwok's)
    verification: dict[str, Any] | None = None

    def query(self, namespace: str) -> str:
        return self.breach.format(ns=namespace)


LEAK_CEILING = 0.92
MEMORY_LEAK = Fault(
    scenario="memory_leak",
    title="memory leak",
    expected="memory past 90% of the limit → RolloutRestart, new processes back at baseline",
    indicator="memory-usage",
    actions=frozenset({"RolloutRestart"}),
    breach='max(chatapp_memory_bytes{{namespace="{ns}"}} / chatapp_memory_limit_bytes{{namespace="{ns}"}})',
    threshold=0.9,
)
BAD_RELEASE = Fault(
    scenario="bad_release",
    title="bad release",
    expected="chatapp:1.1 fails requests → Rollback to the previous revision",
    indicator="error-ratio",
    actions=frozenset({"Rollback"}),
    breach=(
        'sum(rate(chatapp_request_errors_total{{namespace="{ns}"}}[15s]))'
        ' / sum(rate(chatapp_requests_total{{namespace="{ns}"}}[15s]))'
    ),
    threshold=0.05,
)
LOAD_SURGE = Fault(
    scenario="load_surge",
    title="load surge",
    expected="2.5x traffic fills the queues → Scale out within bounds, the queues drain",
    indicator="queue-depth",
    actions=frozenset({"Scale"}),
    breach='max(chatapp_eventbus_queue_depth{{namespace="{ns}"}})',
    threshold=500,
    # new Pods take traffic once Ready, in the Service and scraped; the app averages its load over 10 s
    verification={"initialDelay": "45s", "window": "30s", "interval": "5s", "failureLimit": 1},
)
CONFIG_CORRUPTION = Fault(
    scenario="config_corruption",
    title="config corruption",
    expected="eventbus.maxQueue=-1 fails reloads → ConfigPatch back to the known-good value",
    indicator="config-reload-failure-rate",
    actions=frozenset({"ConfigPatch"}),
    breach='sum(rate(chatapp_config_reload_failures_total{{namespace="{ns}"}}[15s]))',
    threshold=0.1,
    # the kubelet refreshes a mounted ConfigMap on its pod sync (up to ~90 s)
    verification={"initialDelay": "100s", "window": "30s", "interval": "5s", "failureLimit": 1},
)
LLM_OUTAGE = Fault(
    scenario="llm_outage",
    title="external LLM outage",
    expected="the LLM dependency has no endpoints → no write to the cluster (NoAction/Escalate)",
    indicator="llm-error-ratio",
    actions=frozenset({"NoAction", "Escalate"}),
    breach=(
        'sum(rate(chatapp_llm_api_errors_total{{namespace="{ns}"}}[15s]))'
        ' / sum(rate(chatapp_llm_api_requests_total{{namespace="{ns}"}}[15s]))'
    ),
    threshold=0.2,
)
FAULTS = (MEMORY_LEAK, BAD_RELEASE, LOAD_SURGE, CONFIG_CORRUPTION, LLM_OUTAGE)
DEFAULT_VERIFICATION = {"initialDelay": "20s", "window": "30s", "interval": "5s", "failureLimit": 1}


def demo_policy(namespace: str) -> dict[str, Any]:
    """One policy for all five faults in one namespace: high issues (a leak held below the OOM kill, a
    bad release) are resolved and approved automatically, like critical ones."""
    return kind_stack.demo_policy(
        namespace,
        severityRouting={"high": "AutoResolve"},
        autoApprove={"severities": ["critical", "high"], "maxRisk": "High"},
    )


def verification_patch(fault: Fault) -> dict[str, Any]:
    """The merge patch that gives the policy this fault's verification timings."""
    return {"spec": {"verification": dict(fault.verification or DEFAULT_VERIFICATION)}}


def breached(kind: kind_stack.KindCluster, namespace: str, fault: Fault) -> bool:
    return (kind.prometheus(fault.query(namespace)) or 0) > fault.threshold


def inject(kind: kind_stack.KindCluster, namespace: str, fault: Fault) -> None:
    """Break the app on its real Pods (after the policy's first scheduled round), and return once Prometheus
    shows it."""
    kind_stack.first_round_done(kind, namespace)
    timeout = 90.0
    if fault is MEMORY_LEAK:
        # to 92% of the 128Mi limit at 4 MiB/s, past the critical 0.9 in ~25 s; the headroom keeps the
        # kernel's OOM killer from ending the leak (and the issue) before the operator acts
        for pod in kind_stack.app_pods(kind, namespace):
            kind_stack.leak(
                kind,
                namespace,
                pod["metadata"]["name"],
                bytes_per_second=4 * MIB,
                limit_fraction=LEAK_CEILING,
            )
    elif fault is BAD_RELEASE:
        api = kind.api()
        stack_lib.set_image(api, namespace, "chatapp:1.1")
        stack_lib.wait_for(lambda: stack_lib.rolled_out(api, namespace), timeout=180, what="the 1.1 rollout")
    elif fault is LOAD_SURGE:
        _set_load(kind, namespace, SURGE_LOAD)
        timeout = 120
    elif fault is CONFIG_CORRUPTION:
        patch = json.dumps({"data": {"eventbus.maxQueue": "-1"}})
        kind.kubectl("-n", namespace, "patch", "configmap", CONFIG_MAP, "--type=merge", "-p", patch)
        timeout = 180
    elif fault is LLM_OUTAGE:
        kind.kubectl("-n", namespace, "scale", "deploy/chatapp-llm", "--replicas=0")
    else:
        raise ValueError(f"unknown fault {fault.scenario}")
    stack_lib.wait_for(
        lambda: breached(kind, namespace, fault),
        timeout=timeout,
        what=f"{fault.title}: {fault.query(namespace)}",
    )


def clear(kind: kind_stack.KindCluster, namespace: str, fault: Fault) -> None:
    """Undo what the operator rightly leaves alone: the extra traffic, the LLM outage."""
    if fault is LOAD_SURGE:
        _set_load(kind, namespace, BASE_LOAD)
    elif fault is LLM_OUTAGE:
        kind.kubectl("-n", namespace, "scale", "deploy/chatapp-llm", "--replicas=1")
        kind.kubectl(
            "-n", namespace, "rollout", "status", "deploy/chatapp-llm", "--timeout=120s", timeout=140
        )


def known_good_config(
    kind: kind_stack.KindCluster, namespace: str, *, timeout: float = 240
) -> dict[str, Any]:
    """Wait (asking for assessments) until the policy recorded the live ConfigMap values as known-good."""
    api = kind.api()

    def known() -> dict[str, Any] | None:
        status = stack_lib.get(api, "maintenancepolicies", namespace, "chatapp").get("status") or {}
        if status.get("knownGoodConfig"):
            return dict(status["knownGoodConfig"])
        stack_lib.request_assessment(api, namespace, f"good-{uuid.uuid4().hex[:6]}")
        return None

    return stack_lib.wait_for(known, timeout=timeout, interval=20, what="a known-good config")


def _set_load(kind: kind_stack.KindCluster, namespace: str, load: dict[str, str]) -> None:
    pairs = [f"{k}={v}" for k, v in load.items()]
    kind.kubectl("-n", namespace, "set", "env", "deploy/chatapp-loadgen", *pairs)
