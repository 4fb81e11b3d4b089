"""The Chat App on the local cluster, the operator as a process, and fault injection: shared by
`make demo` (hack/demo.py) and the end-to-end tests."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

ROOT = Path(__file__).resolve().parents[1]
GROUP = "maintenance.chatapp.io"
VERSION = "v1alpha1"
#: HealthAssessment phases of a finished assessment, and Remediation phases it never leaves (the operator's
#: machine.ASSESSMENT_FINISHED and api.TERMINAL_PHASES, as stored strings; tests/unit/test_chatapp_stack.py).
ASSESSMENT_FINISHED = frozenset({"Completed", "Inconclusive", "Failed"})
REMEDIATION_TERMINAL = frozenset(
    {"Succeeded", "RolledBack", "Failed", "Rejected", "Expired", "Escalated", "Terminated"}
)
APP_LABEL = {"app.kubernetes.io/name": "chatapp"}
CONFIG_MAP = "chatapp-config"
GOOD_CONFIG = {"eventbus.maxQueue": "1000", "plugins.enabled": "true", "llm.timeoutSeconds": "30"}
T = TypeVar("T")


@dataclass(frozen=True)
class Stack:
    """Where the local cluster, Prometheus and the simulator listen (from .cluster/cluster.env)."""

    kubeconfig: str
    prometheus_url: str
    simulator_url: str
    operator_metrics_port: int

    @classmethod
    def from_env_file(cls, path: Path) -> Stack:
        values = dict(
            line.split("=", 1)
            for line in path.read_text().splitlines()
            if "=" in line and not line.startswith("#")
        )
        values = {k: v.strip().strip('"') for k, v in values.items()}
        return cls(
            kubeconfig=values["KUBECONFIG"],
            prometheus_url=values["PROMETHEUS_URL"],
            simulator_url=values["SIMULATOR_URL"],
            operator_metrics_port=int(values.get("OPERATOR_METRICS_PORT", "0") or 0),
        )

    def api(self) -> client.ApiClient:
        api_client: client.ApiClient = config.new_client_from_config(config_file=self.kubeconfig)
        return api_client

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        result = subprocess.run(
            ["kubectl", "--kubeconfig", self.kubeconfig, *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout


# ---------------------------------------------------------------- the Chat App


def deploy_chatapp(
    api: client.ApiClient, namespace: str, *, image: str = "chatapp:1.0", replicas: int = 2
) -> None:
    """The Chat App Deployment (kwok runs its pods) and its ConfigMap."""
    core = client.CoreV1Api(api)
    apps = client.AppsV1Api(api)
    try:
        core.create_namespace({"metadata": {"name": namespace}})
    except ApiException as exc:
        if exc.status != 409:
            raise
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": CONFIG_MAP}, "data": dict(GOOD_CONFIG)}
    )
    apps.create_namespaced_deployment(
        namespace,
        {
            "metadata": {"name": "chatapp", "labels": dict(APP_LABEL)},
            "spec": {
                "replicas": replicas,
                "revisionHistoryLimit": 5,
                "progressDeadlineSeconds": 60,
                "selector": {"matchLabels": dict(APP_LABEL)},
                "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                "template": {
                    "metadata": {"labels": dict(APP_LABEL)},
                    "spec": {
                        "containers": [
                            {
                                "name": "chatapp",
                                "image": image,
                                "resources": {"limits": {"memory": "512Mi"}},
                            }
                        ]
                    },
                },
            },
        },
    )


def set_image(api: client.ApiClient, namespace: str, image: str) -> None:
    """A new release: a template change, hence a new revision."""
    client.AppsV1Api(api).patch_namespaced_deployment(
        "chatapp",
        namespace,
        {"spec": {"template": {"spec": {"containers": [{"name": "chatapp", "image": image}]}}}},
    )


def deployment(api: client.ApiClient, namespace: str) -> dict[str, Any]:
    result: dict[str, Any] = client.ApiClient.sanitize_for_serialization(
        api, client.AppsV1Api(api).read_namespaced_deployment("chatapp", namespace)
    )
    return result


def rolled_out(api: client.ApiClient, namespace: str) -> bool:
    d = deployment(api, namespace)
    spec, status = d.get("spec") or {}, d.get("status") or {}
    want = spec.get("replicas", 1)
    return (
        status.get("observedGeneration", 0) >= d["metadata"].get("generation", 0)
        and status.get("updatedReplicas", 0) == want
        and status.get("availableReplicas", 0) == want
        and status.get("replicas", 0) == want
    )


def demo_policy(namespace: str, **overrides: Any) -> dict[str, Any]:
    """The sample Chat App policy, retargeted to `namespace`, with timings short enough for a demo."""
    sample = next(
        doc
        for path in sorted((ROOT / "crds" / "samples").glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc and doc.get("kind") == "MaintenancePolicy"
    )
    policy = copy.deepcopy(sample)
    policy["metadata"] = {"name": "chatapp", "namespace": namespace}
    spec = policy["spec"]
    spec["schedule"] = {"healthCheck": "30s", "performanceAnalysis": "1m"}
    # rate() windows of 15s (1 s scrapes): a replaced pod's errors leave the window within seconds
    spec["verification"] = {"initialDelay": "20s", "window": "30s", "interval": "5s", "failureLimit": 1}
    spec["rateLimit"] = {"maxPerHour": 30, "cooldown": "0s"}
    spec["llm"] = {"mode": "Offline"}
    for indicator in spec["indicators"]:
        indicator["for"] = "0s"
        indicator["query"] = indicator["query"].replace("[1m]", "[15s]")
    _merge(spec, overrides)
    return policy


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


# ---------------------------------------------------------------- custom resources


def custom(api: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api)


def create(api: client.ApiClient, plural: str, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    body = {"apiVersion": f"{GROUP}/{VERSION}", **body}
    result: dict[str, Any] = custom(api).create_namespaced_custom_object(
        GROUP, VERSION, namespace, plural, body
    )
    return result


def get(api: client.ApiClient, plural: str, namespace: str, name: str) -> dict[str, Any]:
    result: dict[str, Any] = custom(api).get_namespaced_custom_object(GROUP, VERSION, namespace, plural, name)
    return result


def items(api: client.ApiClient, plural: str, namespace: str) -> list[dict[str, Any]]:
    result = custom(api).list_namespaced_custom_object(GROUP, VERSION, namespace, plural)
    found: list[dict[str, Any]] = sorted(
        result.get("items", []), key=lambda i: i["metadata"]["creationTimestamp"]
    )
    return found


def request_assessment(api: client.ApiClient, namespace: str, name: str, *, policy: str = "chatapp") -> str:
    create(
        api,
        "healthassessments",
        namespace,
        {"kind": "HealthAssessment", "metadata": {"name": name}, "spec": {"policyRef": {"name": policy}}},
    )
    return name


def delete_namespace(api: client.ApiClient, namespace: str) -> None:
    """Delete a namespace even when no operator runs to release the finalizers on its custom resources."""
    objects = custom(api)
    for plural in ("remediations", "healthassessments", "maintenancepolicies"):
        try:
            found = objects.list_namespaced_custom_object(GROUP, VERSION, namespace, plural).get("items", [])
        except ApiException:
            continue
        for item in found:
            objects.patch_namespaced_custom_object(
                GROUP,
                VERSION,
                namespace,
                plural,
                item["metadata"]["name"],
                {"metadata": {"finalizers": None}},
            )
    try:
        client.CoreV1Api(api).delete_namespace(namespace)
    except ApiException as exc:
        if exc.status != 404:
            raise


# ---------------------------------------------------------------- faults


def _http(method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    return json.loads(text) if text else None


def inject(stack: Stack, fault: dict[str, Any]) -> str:
    result = _http("POST", f"{stack.simulator_url}/faults", fault)
    return str(result["id"])


def clear_faults(stack: Stack) -> None:
    _http("DELETE", f"{stack.simulator_url}/faults")


def prometheus_value(stack: Stack, query: str) -> float | None:
    url = f"{stack.prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    result = _http("GET", url)["data"]["result"]
    return float(result[0]["value"][1]) if result else None


# ---------------------------------------------------------------- the operator


class OperatorProcess:
    """`python -m maintenance_operator run` as a child process, out of cluster."""

    def __init__(
        self,
        stack: Stack,
        *,
        namespaces: list[str],
        log_path: Path,
        extra_env: dict[str, str] | None = None,
        command: list[str] | None = None,
    ):
        """`command` replaces `python -m maintenance_operator run` (the sources) and then the child
        inherits nothing from this environment: it gets exactly the operator settings."""
        self.stack = stack
        self.namespaces = namespaces
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.command = command
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> OperatorProcess:
        inherited = {**os.environ, "PYTHONPATH": str(ROOT / "operator")} if self.command is None else {}
        env = {
            **inherited,
            "KUBECONFIG": self.stack.kubeconfig,
            "MAINTENANCE_OPERATOR_PROMETHEUS_URL": self.stack.prometheus_url,
            "MAINTENANCE_OPERATOR_METRICS_PORT": str(self.stack.operator_metrics_port or 0),
            "MAINTENANCE_OPERATOR_LIVENESS_ENDPOINT": f"http://127.0.0.1:{_free_port()}/healthz",
            "MAINTENANCE_OPERATOR_LOG_FORMAT": "text",
            "MAINTENANCE_OPERATOR_WEBHOOK_MODE": "local",
            "MAINTENANCE_OPERATOR_WEBHOOK_PORT": str(_free_port()),
            "MAINTENANCE_OPERATOR_APPROVAL_KEY": "e2e-approval-key-not-secret",
            **self.extra_env,
        }
        env.pop("ANTHROPIC_API_KEY", None)
        args = list(self.command or [sys.executable, "-m", "maintenance_operator", "run"])
        for namespace in self.namespaces:
            args += ["-n", namespace]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        return self

    def kill(self) -> None:
        """SIGKILL: no cleanup, as a crash or an evicted Pod."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    interval: float = 1.0,
    what: str,
    progress: Callable[[float], None] | None = None,
) -> T:
    """Poll until `probe` returns something truthy; raise TimeoutError naming `what` otherwise."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
        except (ApiException, OSError, KeyError) as exc:
            last_error = exc
        if progress:
            progress(deadline - time.monotonic())
        time.sleep(interval)
    raise TimeoutError(
        f"timed out after {timeout:.0f}s waiting for {what}"
        + (f" (last error: {last_error})" if last_error else "")
    )


def subprocess_plugin(stack: Stack, verb: str, name: str, namespace: str) -> str:
    """Run the `kubectl maintenance` plugin as a human would."""
    return run_plugin(stack.kubeconfig, verb, name, namespace)


def run_plugin(kubeconfig: str, verb: str, name: str, namespace: str) -> str:
    """`kubectl maintenance VERB NAME -n NAMESPACE` against the cluster of `kubeconfig`; its stdout."""
    result = subprocess.run(
        [str(ROOT / "hack" / "kubectl-maintenance"), verb, name, "-n", namespace],
        env={**os.environ, "KUBECONFIG": kubeconfig},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if result.returncode != 0:
        raise RuntimeError(f"kubectl maintenance {verb} failed: {result.stderr.strip()}")
    return result.stdout


def prepare_leak_check(api: client.ApiClient, stack: Stack, namespace: str) -> None:
    """The Chat App rolled out and scraped, and a demo policy (hourly schedules) watching it."""
    deploy_chatapp(api, namespace)
    wait_for(lambda: rolled_out(api, namespace), timeout=90, what="chatapp rollout")
    query = f'count(rate(chatapp_requests_total{{namespace="{namespace}"}}[15s]))'
    wait_for(lambda: (prometheus_value(stack, query) or 0) >= 2, timeout=60, what=query)
    create(
        api,
        "maintenancepolicies",
        namespace,
        demo_policy(namespace, schedule={"healthCheck": "1h", "performanceAnalysis": "1h"}),
    )


def leak_until_remediated(
    api: client.ApiClient, stack: Stack, namespace: str, assessment: str
) -> dict[str, Any]:
    """Inject a memory leak, ask for an assessment, and return the first Remediation that finished."""
    inject(stack, {"type": "memory_leak", "namespace": namespace, "bytesPerSecond": 40_000_000})
    time.sleep(12)
    request_assessment(api, namespace, assessment)

    def finished() -> dict[str, Any] | None:
        for rem in items(api, "remediations", namespace):
            if (rem.get("status") or {}).get("phase") in ("Succeeded", "Failed", "RolledBack"):
                return rem
        return None

    return wait_for(finished, timeout=180, what="a finished remediation")
