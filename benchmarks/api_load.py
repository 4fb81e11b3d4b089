"""The operator's Kubernetes API calls under its full load, against the real API server: the client-side
QPS/burst limit holds, counted by the operator and by the API server itself.

POLICIES policies watch one Chat App and are all due at once (schedule spread 1 s, health check every 30 s),
and one operator process runs with its QPS and burst lowered so that its demand exceeds the limit. The
operator authenticates as its own ServiceAccount and a FlowSchema makes the API server count that identity's
requests (``apiserver_flowcontrol_dispatched_requests_total{flow_schema=...}``). kopf's watches and patches
use the same identity but not the limited client, so the API server's count is the limited calls plus
kopf's. The operator's /metrics is scraped every SAMPLE_SECONDS: ``maintenance_operator_api_requests_total``
(calls let through by the limit) and the in-flight and queued gauges of API calls and Prometheus queries.

The limit holds when no stretch between two scrapes let through more than ``burst + qps x seconds``; the
worst stretch is reported as ``worst_window_excess`` (calls above that bound; <= 0 holds).

Run: ``PYTHONPATH=operator .venv/bin/python -m benchmarks.api_load``; writes benchmarks/results/api_load.json.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from benchmarks import fleet_schedule, operator_rss

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hack"))
import chatapp_stack as stack_lib  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "api_load.json"
POLICIES = 30
QPS = 5.0
BURST = 10
WINDOW_SECONDS = 40.0
SAMPLE_SECONDS = 0.5
LAG_ALLOWANCE_SECONDS = 0.5
"""A call is counted when its reserved slot has passed and the event loop ran it again: on a loaded machine
a late loop can bunch calls whose slots were earlier. Allowed: this much of QPS on top of the bound."""
DISPATCHED = "apiserver_flowcontrol_dispatched_requests_total"
GAUGES = (
    "maintenance_operator_api_requests_in_flight",
    "maintenance_operator_prometheus_queries_in_flight",
    "maintenance_operator_prometheus_queries_queued",
)


def _sample(text: str, name: str, labels: str = "") -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (line[len(name)] in " {") and labels in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def apiserver_dispatched(api: client.ApiClient, flow_schema: str) -> float:
    """Requests the API server dispatched for one FlowSchema, from its own /metrics."""
    return _sample(fleet_schedule.apiserver_metrics(api), DISPATCHED, f'flow_schema="{flow_schema}"')


#: Flow-control objects (FlowSchema, PriorityLevelConfiguration) for a ServiceAccount (name, namespace).
FlowControl = Callable[[str, str], list[dict[str, Any]]]
PLURALS = {"FlowSchema": "flowschemas", "PriorityLevelConfiguration": "prioritylevelconfigurations"}


def nominal_seats(api: client.ApiClient, priority_level: str) -> float:
    """The seats the API server gives a priority level (0 when it has no such level)."""
    return _sample(
        fleet_schedule.apiserver_metrics(api),
        "apiserver_flowcontrol_nominal_limit_seats",
        f'priority_level="{priority_level}"',
    )


class OperatorIdentity:
    """A ServiceAccount (cluster-admin) for the operator, a kubeconfig for it, and a FlowSchema with which
    the API server counts its requests apart from everyone else's: its own (in the built-in workload-high
    level), or the objects ``flow_control`` makes for the account (the chart's, for instance)."""

    def __init__(
        self,
        api: client.ApiClient,
        stack: stack_lib.Stack,
        *,
        namespace: str,
        work: Path,
        flow_control: FlowControl | None = None,
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.name = f"mo-load-{uuid.uuid4().hex[:6]}"
        self.flow_schema = self.name
        self.priority_level = "workload-high"
        self.created: list[tuple[str, str]] = []
        core = client.CoreV1Api(api)
        core.create_namespaced_service_account(namespace, {"metadata": {"name": self.name}})
        subject = {"kind": "ServiceAccount", "name": self.name, "namespace": namespace}
        client.RbacAuthorizationV1Api(api).create_cluster_role_binding(
            {
                "metadata": {"name": self.name},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": "cluster-admin",
                },
                "subjects": [subject],
            }
        )
        docs = (flow_control or self._own_flow_schema)(self.name, namespace)
        for doc in sorted(docs, key=lambda d: d["kind"] == "FlowSchema"):  # the level first
            client.CustomObjectsApi(api).create_cluster_custom_object(
                "flowcontrol.apiserver.k8s.io", "v1", PLURALS[doc["kind"]], doc
            )
            self.created.append((PLURALS[doc["kind"]], doc["metadata"]["name"]))
            if doc["kind"] == "FlowSchema":
                self.flow_schema = doc["metadata"]["name"]
                self.priority_level = doc["spec"]["priorityLevelConfiguration"]["name"]
        stack_lib.wait_for(self._in_force, timeout=30, interval=0.2, what=f"FlowSchema {self.flow_schema}")
        token = core.create_namespaced_service_account_token(
            self.name, namespace, {"spec": {"expirationSeconds": 3600}}
        ).status.token
        admin = yaml.safe_load(Path(stack.kubeconfig).read_text())
        self.kubeconfig = work / "operator.kubeconfig"
        self.kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "local", "cluster": admin["clusters"][0]["cluster"]}],
                    "users": [{"name": "operator", "user": {"token": token}}],
                    "contexts": [{"name": "operator", "context": {"cluster": "local", "user": "operator"}}],
                    "current-context": "operator",
                }
            )
        )

    @staticmethod
    def _own_flow_schema(name: str, namespace: str) -> list[dict[str, Any]]:
        return [
            {
                "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
                "kind": "FlowSchema",
                "metadata": {"name": name},
                "spec": {
                    "matchingPrecedence": 700,
                    "priorityLevelConfiguration": {"name": "workload-high"},
                    "distinguisherMethod": {"type": "ByUser"},
                    "rules": [
                        {
                            "subjects": [
                                {
                                    "kind": "ServiceAccount",
                                    "serviceAccount": {"name": name, "namespace": namespace},
                                }
                            ],
                            "resourceRules": [
                                {
                                    "verbs": ["*"],
                                    "apiGroups": ["*"],
                                    "resources": ["*"],
                                    "clusterScope": True,
                                    "namespaces": ["*"],
                                }
                            ],
                            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                        }
                    ],
                },
            }
        ]

    def _in_force(self) -> bool:
        """The API server's flow-control configuration has taken the FlowSchema in, with its priority level
        (it sets Dangling, to False once the level exists)."""
        found: dict[str, Any] = client.CustomObjectsApi(self.api).get_cluster_custom_object(
            "flowcontrol.apiserver.k8s.io", "v1", "flowschemas", self.flow_schema
        )
        conditions = (found.get("status") or {}).get("conditions") or []
        return any(c.get("type") == "Dangling" and c.get("status") == "False" for c in conditions)

    def close(self) -> None:
        objects = client.CustomObjectsApi(self.api)
        try:
            client.RbacAuthorizationV1Api(self.api).delete_cluster_role_binding(self.name)
        except ApiException as exc:
            if exc.status != 404:
                raise
        for plural, name in self.created:
            try:
                objects.delete_cluster_custom_object("flowcontrol.apiserver.k8s.io", "v1", plural, name)
            except ApiException as exc:
                if exc.status != 404:
                    raise


def _scrape(url: str) -> tuple[float, float, str]:
    start = time.monotonic()
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return start, time.monotonic(), text


def _readings(text: str) -> dict[str, float]:
    in_flight = "maintenance_operator_api_requests_in_flight"
    return {
        "requests": _sample(text, "maintenance_operator_api_requests_total"),
        "api_queued": _sample(text, in_flight, 'state="queued"'),
        "api_running": _sample(text, in_flight, 'state="running"'),
        "prometheus_in_flight": _sample(text, "maintenance_operator_prometheus_queries_in_flight"),
        "prometheus_queued": _sample(text, "maintenance_operator_prometheus_queries_queued"),
        "throttle_wait_sum": _sample(text, "maintenance_operator_api_throttle_seconds_sum"),
    }


def worst_window(samples: list[dict[str, float]], *, qps: float, burst: int) -> float:
    """The most calls any stretch between two scrapes let through above ``burst + qps x seconds``.

    A stretch runs from the start of the earlier scrape to the end of the later one: every call counted
    between the two counter readings was let through inside it."""
    worst = float("-inf")
    for i, first in enumerate(samples):
        for last in samples[i + 1 :]:
            allowed = burst + qps * (last["end"] - first["start"])
            worst = max(worst, last["requests"] - first["requests"] - allowed)
    return worst


def measure(
    stack: stack_lib.Stack,
    *,
    namespace: str,
    work: Path,
    policies: int = POLICIES,
    qps: float = QPS,
    burst: int = BURST,
    window: float = WINDOW_SECONDS,
    flow_control: FlowControl | None = None,
) -> dict[str, Any]:
    """Run the operator under `policies` due at once for `window` seconds and count its API calls."""
    api = stack.api()
    stack_lib.deploy_chatapp(api, namespace)
    for i in range(policies):
        body = stack_lib.demo_policy(namespace, schedule={"healthCheck": "30s", "performanceAnalysis": "10m"})
        body["metadata"]["name"] = f"chatapp-{i:02d}"
        stack_lib.create(api, "maintenancepolicies", namespace, body)
    identity = OperatorIdentity(api, stack, namespace=namespace, work=work, flow_control=flow_control)
    metrics_port = stack_lib._free_port()
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    operator = stack_lib.OperatorProcess(
        stack,
        namespaces=[namespace],
        log_path=work / "operator.log",
        extra_env={
            "KUBECONFIG": str(identity.kubeconfig),
            "MAINTENANCE_OPERATOR_WEBHOOK_MODE": "none",
            "MAINTENANCE_OPERATOR_METRICS_PORT": str(metrics_port),
            "MAINTENANCE_OPERATOR_API_QPS": str(qps),
            "MAINTENANCE_OPERATOR_API_BURST": str(burst),
            "MAINTENANCE_OPERATOR_SCHEDULE_SPREAD_SECONDS": "1",
        },
    )
    samples: list[dict[str, float]] = []
    seen: set[str] = set()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    try:
        at_server_before = apiserver_dispatched(api, identity.flow_schema)
        operator.start()
        stack_lib.wait_for(lambda: _scrape(url), timeout=60, interval=0.2, what="the operator's /metrics")
        end = time.monotonic() + window
        while time.monotonic() < end:
            start, finish, text = _scrape(url)
            seen |= {g for g in GAUGES if f"\n{g}" in text}
            samples.append({"start": start, "end": finish, **_readings(text)})
            time.sleep(max(0.0, SAMPLE_SECONDS - (time.monotonic() - start)))
        alive = operator.alive()
    finally:
        operator.stop()
        at_server = apiserver_dispatched(api, identity.flow_schema) - at_server_before
        seats = nominal_seats(api, identity.priority_level)
        identity.close()
    first, last = samples[0], samples[-1]
    elapsed = last["end"] - first["start"]
    counted = last["requests"]
    return {
        "policies": policies,
        "qps": qps,
        "burst": burst,
        "window_s": round(elapsed, 1),
        "load_average": load,
        "operator_alive": alive,
        "operator_calls_total": counted,
        "operator_calls_in_window": last["requests"] - first["requests"],
        "operator_calls_per_s_in_window": round((last["requests"] - first["requests"]) / elapsed, 2),
        "bound_in_window": round(burst + qps * elapsed, 1),
        "worst_window_excess": round(worst_window(samples, qps=qps, burst=burst), 2),
        "lag_allowance": qps * LAG_ALLOWANCE_SECONDS,
        "peak_api_queued": max(s["api_queued"] for s in samples),
        "peak_api_running": max(s["api_running"] for s in samples),
        "peak_prometheus_in_flight": max(s["prometheus_in_flight"] for s in samples),
        "peak_prometheus_queued": max(s["prometheus_queued"] for s in samples),
        "throttle_wait_s_total": round(last["throttle_wait_sum"], 2),
        "flow_schema": identity.flow_schema,
        "priority_level": identity.priority_level,
        "priority_level_nominal_seats": seats,
        "apiserver_requests_of_operator_identity": at_server,
        "apiserver_requests_not_through_the_limit": at_server - counted,
        "gauges_exposed": sorted(seen),
    }


def main() -> None:
    stack = operator_rss.cluster()
    stack.kubectl("apply", "-f", str(ROOT / "crds"))
    namespace = f"bench-api-load-{uuid.uuid4().hex[:4]}"
    work = Path(tempfile.mkdtemp(prefix="bench-api-load-"))
    try:
        result = measure(stack, namespace=namespace, work=work)
    finally:
        stack_lib.delete_namespace(stack.api(), namespace)
    result["logs"] = str(work)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
