"""The generated CRDs on a real API server: samples are accepted, bad objects are refused with the
schema's and CEL rules' own messages, and transition rules hold on update."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
GROUP, VERSION = "maintenance.chatapp.io", "v1alpha1"


@pytest.fixture(scope="module")
def crds(kubectl: Any) -> None:
    kubectl("apply", "--server-side", "-f", str(ROOT / "crds"))
    kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")


@pytest.fixture
def objects(kube_api: Any, crds: None, namespace: str) -> Iterator[client.CustomObjectsApi]:
    yield client.CustomObjectsApi(kube_api)


def sample_policy() -> dict[str, Any]:
    docs = yaml.safe_load_all((ROOT / "crds" / "samples" / "chatapp-policy.yaml").read_text())
    return next(d for d in docs if d and d["kind"] == "MaintenancePolicy")


def create(api: client.CustomObjectsApi, plural: str, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(body)
    body["metadata"] = {"name": body["metadata"]["name"], "namespace": namespace}
    result: dict[str, Any] = api.create_namespaced_custom_object(GROUP, VERSION, namespace, plural, body)
    return result


def rejected(api: client.CustomObjectsApi, plural: str, namespace: str, body: dict[str, Any]) -> str:
    with pytest.raises(ApiException) as caught:
        create(api, plural, namespace, body)
    assert caught.value.status == 422, caught.value.body
    status = json.loads(caught.value.body)
    causes = [c.get("message", "") for c in (status.get("details") or {}).get("causes") or []]
    return "\n".join([status.get("message", ""), *causes])


def changed(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(base)
    node: Any = out
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node.setdefault(key, {})
    node[int(keys[-1]) if keys[-1].isdigit() else keys[-1]] = value
    return out


def test_samples_are_accepted_and_printed(
    objects: client.CustomObjectsApi, namespace: str, kubectl: Any
) -> None:
    created = create(objects, "maintenancepolicies", namespace, sample_policy())
    assert created["spec"]["schedule"] == {"healthCheck": "5m", "performanceAnalysis": "15m"}
    out = kubectl("get", "mpol", "-n", namespace).stdout
    assert "TARGET" in out and "chatapp" in out
    out = kubectl("get", "maintenance", "-n", namespace).stdout
    assert "maintenancepolicy.maintenance.chatapp.io/chatapp" in out


POLICY_CASES = [
    ("spec.targetRef.namespace", "other", "targetRef.namespace is not supported"),
    ("spec.targetRef.kind", "StatefulSet", "Unsupported value"),
    (
        "spec.dimensionWeights",
        {"core": 50, "component": 25, "integration": 20, "userExperience": 15, "operational": 10},
        "dimensionWeights must sum to 100",
    ),
    (
        "spec.actions.scale",
        {"enabled": True, "min": 5, "max": 2},
        "actions.scale.min must be <= actions.scale.max",
    ),
    ("spec.actions.configPatch", {"enabled": True}, "needs configMapRef and at least one allowedKeys"),
    (
        "spec.schedule",
        {"healthCheck": "10s", "performanceAnalysis": "15m"},
        "schedule.healthCheck must be at least 30s",
    ),
    ("spec.schedule", {"healthCheck": "10m", "performanceAnalysis": "5m"}, "must not be shorter than"),
    ("spec.indicators.0.critical", 0.001, "critical must be at or beyond warning"),
    ("spec.indicators.0.for", "5 minutes", "should match"),
    ("spec.indicators.0.dimension", "security", "Unsupported value"),
    ("spec.indicators.1.name", "error-ratio", "Duplicate value"),
    ("spec.rateLimit.maxConcurrent", 2, "should be less than or equal to 1"),
    ("spec.autoApprove.minConfidence", 11, "should be less than or equal to 10"),
    ("spec.llm.mode", "Always", "Unsupported value"),
    ("spec.historyLimit", 0, "should be greater than or equal to 1"),
]


@pytest.mark.parametrize(
    ("path", "value", "message"), POLICY_CASES, ids=[c[0] + "=" + str(c[1])[:12] for c in POLICY_CASES]
)
def test_invalid_policies_are_refused(
    objects: client.CustomObjectsApi, namespace: str, path: str, value: Any, message: str
) -> None:
    body = rejected(objects, "maintenancepolicies", namespace, changed(sample_policy(), path, value))
    assert message in body


ASSESSMENT: dict[str, Any] = {
    "apiVersion": f"{GROUP}/{VERSION}",
    "kind": "HealthAssessment",
    "metadata": {"name": "a"},
    "spec": {"policyRef": {"name": "chatapp"}},
}
ASSESSMENT_CASES = [
    ("spec", {}, "policyRef: Required value"),
    ("spec.policyRef", {}, "name: Required value"),
    ("spec.policyRef.name", "UPPER", "should match"),
    ("spec.policyRef.name", "", "should be at least 1 chars long"),
    ("spec.trigger", "Cron", "Unsupported value"),
    ("spec.analysis", "Deep", "Unsupported value"),
    ("spec.policyRef.name", "p" * 300, "may not be more than 253"),
    ("spec.policyRef", "chatapp", "must be of type object"),
    ("spec.trigger", 3, "must be of type string"),
    ("spec.analysis", "healthcheck", "Unsupported value"),
]


@pytest.mark.parametrize(("path", "value", "message"), ASSESSMENT_CASES)
def test_invalid_assessments_are_refused(
    objects: client.CustomObjectsApi, namespace: str, path: str, value: Any, message: str
) -> None:
    body = rejected(objects, "healthassessments", namespace, changed(ASSESSMENT, path, value))
    assert message in body


def test_assessment_spec_is_immutable(objects: client.CustomObjectsApi, namespace: str) -> None:
    create(objects, "healthassessments", namespace, ASSESSMENT)
    with pytest.raises(ApiException) as caught:
        objects.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, "healthassessments", "a", {"spec": {"analysis": "PerformanceAnalysis"}}
        )
    assert "HealthAssessment spec is immutable" in str(caught.value.body)


REMEDIATION: dict[str, Any] = {
    "apiVersion": f"{GROUP}/{VERSION}",
    "kind": "Remediation",
    "metadata": {"name": "r"},
    "spec": {
        "policyRef": {"name": "chatapp"},
        "targetRef": {"name": "chatapp"},
        "issue": {
            "fingerprint": "f",
            "title": "t",
            "severity": "high",
            "category": "memory",
            "dimension": "core",
            "indicator": "memory-usage",
        },
        "plan": {"actions": [{"type": "RolloutRestart"}], "rationale": "r", "confidence": 8.5},
    },
}
REMEDIATION_CASES = [
    ("spec.plan.actions", [], "should have at least 1 items"),
    ("spec.plan.actions", [{"type": "RolloutRestart"}] * 6, "must have at most 5 items"),
    ("spec.plan.actions.0", {"type": "Scale"}, "scale must be set exactly when type is Scale"),
    (
        "spec.plan.actions.0",
        {"type": "RolloutRestart", "scale": {"replicas": 2}},
        "scale must be set exactly",
    ),
    ("spec.plan.actions.0", {"type": "Delete"}, "Unsupported value"),
    (
        "spec.plan.actions.0",
        {"type": "Scale", "scale": {"replicas": -1}},
        "should be greater than or equal to 0",
    ),
    (
        "spec.plan.actions.0",
        {"type": "Rollback", "rollback": {"toRevision": 0}},
        "greater than or equal to 1",
    ),
    ("spec.plan.actions.0", {"type": "Escalate"}, "escalate must be set exactly when type is Escalate"),
    ("spec.plan.confidence", 11, "should be less than or equal to 10"),
    ("spec.targetRef.namespace", "kube-system", "targetRef.namespace is not supported"),
    ("spec.issue.severity", "urgent", "Unsupported value"),
]


@pytest.mark.parametrize(("path", "value", "message"), REMEDIATION_CASES)
def test_invalid_remediations_are_refused(
    objects: client.CustomObjectsApi, namespace: str, path: str, value: Any, message: str
) -> None:
    body = rejected(objects, "remediations", namespace, changed(REMEDIATION, path, value))
    assert message in body


def test_remediation_plan_is_immutable(objects: client.CustomObjectsApi, namespace: str) -> None:
    create(objects, "remediations", namespace, REMEDIATION)
    with pytest.raises(ApiException) as caught:
        objects.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, "remediations", "r", {"spec": {"plan": {"confidence": 10}}}
        )
    assert "plan is immutable" in str(caught.value.body)


def sample_report() -> dict[str, Any]:
    docs = yaml.safe_load_all((ROOT / "crds" / "samples" / "weekly-report.yaml").read_text())
    return next(d for d in docs if d and d["kind"] == "MaintenanceReport")


def test_report_sample_is_accepted_with_defaults_and_printed(
    objects: client.CustomObjectsApi, namespace: str, kubectl: Any
) -> None:
    body = sample_report()
    del body["spec"]["period"], body["spec"]["schedule"]
    created = create(objects, "maintenancereports", namespace, body)
    assert (created["spec"]["period"], created["spec"]["schedule"]) == ("168h", "Once")
    out = kubectl("get", "mrep", "-n", namespace).stdout
    assert "SCHEDULE" in out and "chatapp-weekly" in out


REPORT_CASES = [
    ("spec.selector", {"matchLabels": {"team": "chat"}}, "set exactly one of policyRef and selector"),
    ("spec.policyRef", None, "set exactly one of policyRef and selector"),
    ("spec.period", "30m", "period must be at least 1h"),
    ("spec.period", "2161h", "period must be at most 2160h"),
    ("spec.period", "7d", "should match"),
    ("spec.schedule", "Hourly", "Unsupported value"),
]


@pytest.mark.parametrize(
    ("path", "value", "message"), REPORT_CASES, ids=[c[0] + "=" + str(c[1])[:12] for c in REPORT_CASES]
)
def test_invalid_reports_are_refused(
    objects: client.CustomObjectsApi, namespace: str, path: str, value: Any, message: str
) -> None:
    body = changed(sample_report(), path, value)
    if value is None:
        del body["spec"]["policyRef"]
    assert message in rejected(objects, "maintenancereports", namespace, body)


def test_sla_targets_are_defaulted_and_ordered(objects: client.CustomObjectsApi, namespace: str) -> None:
    created = create(objects, "maintenancepolicies", namespace, sample_policy())
    assert created["spec"]["sla"]["response"] == {
        "critical": "15m",
        "high": "1h",
        "medium": "4h",
        "low": "24h",
    }
    bad = changed(
        sample_policy(), "spec.sla.resolution", {"critical": "5m", "high": "1h", "medium": "4h", "low": "24h"}
    )
    bad["metadata"]["name"] = "other"
    assert "sla.resolution must not be shorter than sla.response" in rejected(
        objects, "maintenancepolicies", namespace, bad
    )


def test_report_status_round_trips_and_the_plugin_renders_it(
    objects: client.CustomObjectsApi, namespace: str, local_cluster: Any, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    from tests.fixtures import report_cases

    from maintenance_operator.api import v1alpha1

    create(objects, "maintenancereports", namespace, sample_report())
    status = report_cases.full().wire()
    objects.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, "maintenancereports", "chatapp-weekly", {"status": status}
    )
    stored = objects.get_namespaced_custom_object(
        GROUP, VERSION, namespace, "maintenancereports", "chatapp-weekly"
    )
    assert v1alpha1.MaintenanceReportStatus.model_validate(stored["status"]) == report_cases.full()
    env = {
        **os.environ,
        "KUBECONFIG": str(local_cluster.kubeconfig),
        "MAINTENANCE_PYTHON": sys.executable,
        "PYTHONPATH": str(ROOT / "operator"),
    }
    plugin = [str(ROOT / "hack" / "kubectl-maintenance"), "report", "chatapp-weekly", "-n", namespace]
    proc = subprocess.run(plugin, capture_output=True, text=True, timeout=120, check=False, env=env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("# Maintenance report: chatapp-weekly")
    assert "| RolloutRestart | 2 | 1 | 1 | 0 | 50% |" in out
    page = tmp_path / "report.html"
    subprocess.run(
        [*plugin, "--html", str(page)], capture_output=True, text=True, timeout=120, check=True, env=env
    )
    assert page.read_text().count("<svg") == 3


# ---------------------------------------------------------------- plan review and calibration fields

REVIEW_POLICY_CASES = [
    ("spec.autoApprove.failedActionWindow", "800h", "autoApprove.failedActionWindow must be at most 720h"),
    ("spec.autoApprove.failedActionWindow", "1d", "should match"),
    ("spec.autoApprove.requirePlannerAgreement", "yes", "must be of type boolean"),
]


@pytest.mark.parametrize(("path", "value", "message"), REVIEW_POLICY_CASES)
def test_invalid_review_settings_are_refused(
    objects: client.CustomObjectsApi, namespace: str, path: str, value: Any, message: str
) -> None:
    body = rejected(objects, "maintenancepolicies", namespace, changed(sample_policy(), path, value))
    assert message in body


def test_review_settings_default_and_review_status_is_kept(
    objects: client.CustomObjectsApi, namespace: str
) -> None:
    policy = changed(sample_policy(), "spec.autoApprove", {"minConfidence": 8})
    created = create(objects, "maintenancepolicies", namespace, policy)
    auto = created["spec"]["autoApprove"]
    assert (auto["requirePlannerAgreement"], auto["failedActionWindow"]) == (True, "24h")
    calibration = [{"planner": "Claude", "outcomes": 2, "succeeded": 0, "brierScore": 1.0, "rejected": 1}]
    objects.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, "maintenancepolicies", "chatapp", {"status": {"calibration": calibration}}
    )
    got = objects.get_namespaced_custom_object(GROUP, VERSION, namespace, "maintenancepolicies", "chatapp")
    assert got["status"]["calibration"] == calibration
    create(objects, "remediations", namespace, REMEDIATION)
    review = {
        "passed": False,
        "fits": False,
        "agreement": "Agree",
        "secondOpinion": "Scale",
        "plannerConfidence": 10,
        "effectiveConfidence": 5,
        "reasons": ["does not fit the issue: actions[0]: Scale 3->2 removes capacity during a queue issue"],
    }
    objects.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, "remediations", "r", {"status": {"review": review}}
    )
    got = objects.get_namespaced_custom_object(GROUP, VERSION, namespace, "remediations", "r")
    assert got["status"]["review"]["reasons"] == review["reasons"]
    assert got["status"]["review"]["effectiveConfidence"] == 5
