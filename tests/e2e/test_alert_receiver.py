"""The Alertmanager receiver on the real API server: a firing alert starts exactly one assessment, the
operator's HTTPS webhook server refuses notifications without the bearer token, and a policy renders its
PrometheusRule from its indicators."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from maintenance_operator.adapters import crs
from maintenance_operator.domain import alerts as matching
from maintenance_operator.handlers import alerts

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hack"))
import chatapp_stack as stack_lib

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-alert-token-not-secret"


def notification(namespace: str, *, status: str = "firing", deployment: str = "chatapp") -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="ChatAppErrorRatioHigh"}',
        "status": status,
        "receiver": "maintenance-operator",
        "groupLabels": {"alertname": "ChatAppErrorRatioHigh"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "truncatedAlerts": 0,
        "alerts": [
            {
                "status": status,
                "labels": {
                    "alertname": "ChatAppErrorRatioHigh",
                    "namespace": namespace,
                    "deployment": deployment,
                },
                "annotations": {"summary": "error ratio above critical"},
                "startsAt": "2026-12-06T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph",
                "fingerprint": "0123456789abcdef",
            }
        ],
    }


@pytest.fixture(scope="module")
def stack(local_cluster: Any, kubectl: Any) -> stack_lib.Stack:
    kubectl("apply", "-f", str(ROOT / "crds"))
    kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    return stack_lib.Stack(
        kubeconfig=str(local_cluster.kubeconfig),
        prometheus_url=local_cluster.prometheus_url,
        simulator_url=local_cluster.simulator_url,
        operator_metrics_port=local_cluster.operator_metrics_port,
    )


def assessments(kube_api: Any, namespace: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = stack_lib.items(kube_api, "healthassessments", namespace)
    return found


def from_alerts(kube_api: Any, namespace: str) -> list[dict[str, Any]]:
    return [
        a
        for a in assessments(kube_api, namespace)
        if alerts.ALERTS_ANNOTATION in (a["metadata"].get("annotations") or {})
    ]


def outside_a_slot_boundary() -> None:
    """Two posts must fall in one dedupe slot for the test to mean 'exactly once'."""
    second = datetime.now(UTC).timestamp() % matching.COOLDOWN_SECONDS
    if second > matching.COOLDOWN_SECONDS - 15:
        time.sleep(matching.COOLDOWN_SECONDS - second + 0.5)


async def test_identical_notifications_start_one_assessment(
    stack: stack_lib.Stack, kube_api: Any, namespace: str
) -> None:
    stack_lib.create(kube_api, "maintenancepolicies", namespace, stack_lib.demo_policy(namespace))
    resources = crs.CustomResources(kube_api)
    body = json.dumps(notification(namespace)).encode()

    async def post(payload: bytes = body) -> alerts.Reply:
        return await alerts.receive(
            body=payload,
            authorization=f"Bearer {TOKEN}",
            token=TOKEN,
            resources=resources,
            now=datetime.now(UTC),
        )

    outside_a_slot_boundary()
    first, second = await post(), await post()
    assert first.status == second.status == 200
    assert [r["outcome"] for r in first.body["matched"]] == ["Created"]
    assert [r["outcome"] for r in second.body["matched"]] == ["InFlight"]
    (created,) = assessments(kube_api, namespace)
    assert created["metadata"]["name"] == first.body["matched"][0]["assessment"]
    assert created["spec"] == {
        "policyRef": {"name": "chatapp"},
        "trigger": "OnDemand",
        "analysis": "HealthCheck",
    }
    assert created["metadata"]["labels"][crs.POLICY_LABEL] == "chatapp"
    assert created["metadata"]["annotations"][alerts.ALERTS_ANNOTATION] == "ChatAppErrorRatioHigh"
    assert created["metadata"]["ownerReferences"][0]["kind"] == "MaintenancePolicy"

    # resolved alerts and alerts about another Deployment start nothing
    resolved = await post(json.dumps(notification(namespace, status="resolved")).encode())
    other = await post(json.dumps(notification(namespace, deployment="gateway")).encode())
    assert resolved.body == other.body == {"matched": []}
    assert len(assessments(kube_api, namespace)) == 1


@pytest.fixture
def operator(stack: stack_lib.Stack, namespace: str, tmp_path: Path) -> Iterator[int]:
    port = stack_lib._free_port()
    process = stack_lib.OperatorProcess(
        stack,
        namespaces=[namespace],
        log_path=tmp_path / "operator.log",
        extra_env={
            "MAINTENANCE_OPERATOR_WEBHOOK_PORT": str(port),
            "MAINTENANCE_OPERATOR_POLICY_ALERT_RULES": "true",
            "MAINTENANCE_OPERATOR_POLICY_ALERT_RULE_LABELS": "release=prom",
            alerts.TOKEN_ENV: TOKEN,
        },
    ).start()
    yield port
    process.stop()
    stack_lib.delete_namespace(stack.api(), namespace)
    log = (tmp_path / "operator.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-4000:]
    assert TOKEN not in log


def post(port: int, body: dict[str, Any], token: str | None) -> tuple[int, dict[str, Any]]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the loopback server's certificate is self-signed per run
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"https://127.0.0.1:{port}/alertmanager",
        data=json.dumps(body).encode(),
        headers=headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_the_operator_receives_alerts_over_https(kube_api: Any, namespace: str, operator: int) -> None:
    stack_lib.create(
        kube_api,
        "maintenancepolicies",
        namespace,
        stack_lib.demo_policy(namespace, schedule={"healthCheck": "1h", "performanceAnalysis": "1h"}),
    )
    # the start-up analysis runs first; an alert during it is answered by that assessment
    stack_lib.wait_for(
        lambda: (
            assessments(kube_api, namespace)
            and all(
                (a.get("status") or {}).get("phase") in stack_lib.ASSESSMENT_FINISHED
                for a in assessments(kube_api, namespace)
            )
        ),
        timeout=120,
        what="the start-up assessment to finish",
    )
    status, _ = stack_lib.wait_for(
        lambda: post(operator, notification(namespace), token=None), timeout=30, what="the webhook server"
    )
    assert status == 401
    assert post(operator, notification(namespace), token="wrong")[0] == 401
    assert from_alerts(kube_api, namespace) == []

    outside_a_slot_boundary()
    replies = [post(operator, notification(namespace), token=TOKEN) for _ in range(2)]
    assert [status for status, _ in replies] == [200, 200]
    assert replies[0][1]["matched"][0]["outcome"] == "Created"
    assert replies[1][1]["matched"][0]["outcome"] in {"InFlight", "Duplicate"}
    (triggered,) = from_alerts(kube_api, namespace)
    assert triggered["spec"]["trigger"] == "OnDemand"
    # the operator picks it up like any other assessment
    stack_lib.wait_for(
        lambda: (
            (
                stack_lib.get(kube_api, "healthassessments", namespace, triggered["metadata"]["name"]).get(
                    "status"
                )
                or {}
            ).get("phase")
            in stack_lib.ASSESSMENT_FINISHED
        ),
        timeout=120,
        what="the alert-triggered assessment to finish",
    )
    assert len(from_alerts(kube_api, namespace)) == 1


@pytest.fixture
def monitoring_crds(stack: stack_lib.Stack, kubectl: Any) -> None:
    """prometheus-operator's PrometheusRule CRD, pinned upstream (hack/cluster/monitoring-crds.sh)."""
    script = ROOT / "hack" / "cluster" / "monitoring-crds.sh"
    proc = subprocess.run([str(script)], capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    kubectl("apply", "--server-side", "-f", proc.stdout.strip())
    kubectl(
        "wait", "--for=condition=Established", "crd/prometheusrules.monitoring.coreos.com", "--timeout=60s"
    )


def test_the_policy_renders_its_prometheus_rule(
    kube_api: Any, namespace: str, monitoring_crds: None, operator: int
) -> None:
    policy = stack_lib.demo_policy(namespace, schedule={"healthCheck": "1h", "performanceAnalysis": "1h"})
    stack_lib.create(kube_api, "maintenancepolicies", namespace, policy)
    objects = stack_lib.custom(kube_api)

    def rule() -> dict[str, Any]:
        found: dict[str, Any] = objects.get_namespaced_custom_object(
            "monitoring.coreos.com", "v1", namespace, "prometheusrules", "chatapp-maintenance-indicators"
        )
        return found

    rendered = stack_lib.wait_for(rule, timeout=60, what="the PrometheusRule")
    assert rendered["metadata"]["labels"]["release"] == "prom"
    assert rendered["metadata"]["ownerReferences"][0]["name"] == "chatapp"
    (group,) = rendered["spec"]["groups"]
    assert len(group["rules"]) == 2 * len(policy["spec"]["indicators"])
    first = group["rules"][0]
    assert first["labels"] == {
        "severity": "warning",
        "namespace": namespace,
        "maintenance_policy": "chatapp",
        "maintenance_indicator": policy["spec"]["indicators"][0]["name"],
    }
    assert f'namespace="{namespace}"' in first["expr"] and "$namespace" not in first["expr"]
