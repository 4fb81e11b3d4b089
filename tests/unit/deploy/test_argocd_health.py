"""Argo CD health checks in argocd/health/*.lua, run in a real Lua 5.1 (Argo CD's gopher-lua dialect)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from maintenance_operator.api import v1alpha1
from tests.fixtures import tools

try:
    import lupa.lua51 as lupa
except ImportError:
    tools.tool_missing("lupa (dev extra, `make install`) is needed to run the Lua health checks")

REPO = Path(__file__).resolve().parents[3]
HEALTH_DIR = REPO / "argocd" / "health"
CM_PATCH = REPO / "argocd" / "argocd-cm-patch.yaml"
ARGO_STATUSES = {"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}


def _to_lua(runtime: Any, value: Any) -> Any:
    """Python JSON-like data to Lua tables, the way Argo CD hands `obj` to a script (lists 1-indexed)."""
    if isinstance(value, dict):
        table = runtime.table()
        for key, item in value.items():
            if item is not None:
                table[key] = _to_lua(runtime, item)
        return table
    if isinstance(value, list):
        table = runtime.table()
        for index, item in enumerate(value, start=1):
            table[index] = _to_lua(runtime, item)
        return table
    return value


def health(kind: str, obj: dict[str, Any]) -> tuple[str, str]:
    """Run the health script of `kind` on `obj`; returns (status, message)."""
    script = (HEALTH_DIR / f"maintenance.chatapp.io_{kind}.lua").read_text()
    runtime = lupa.LuaRuntime(unpack_returned_tuples=False)
    runtime.globals().obj = _to_lua(runtime, obj)
    result = runtime.execute(script)
    status, message = result["status"], result["message"]
    assert status in ARGO_STATUSES
    assert isinstance(message, str)
    return status, message


def _obj(kind: str, status: dict[str, Any] | None, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "maintenance.chatapp.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": "chat", "namespace": "chat", "generation": 3},
        "spec": spec or {},
    }
    if status is not None:
        obj["status"] = status
    return obj


def _ready(status: str, message: str = "") -> dict[str, Any]:
    return {"type": "Ready", "status": status, "reason": "Test", "message": message}


# MaintenancePolicy

POLICY_CASES = [
    ({"phase": "Active", "observedGeneration": 3, "conditions": [_ready("True", "watching")]}, "Healthy"),
    ({"phase": "Active", "observedGeneration": 3, "conditions": [_ready("False", "no data")]}, "Progressing"),
    ({"phase": "Active", "observedGeneration": 3}, "Progressing"),
    ({"phase": "Active", "observedGeneration": 2, "conditions": [_ready("True")]}, "Progressing"),
    ({"phase": "Suspended", "conditions": [_ready("False", "suspended by spec.suspend")]}, "Suspended"),
    ({"phase": "Degraded", "conditions": [_ready("False", "Prometheus unreachable")]}, "Degraded"),
    ({"phase": "Error", "conditions": [_ready("False", "target Deployment not found")]}, "Degraded"),
    ({"phase": "Error"}, "Degraded"),
    ({}, "Progressing"),
    (None, "Progressing"),
]


@pytest.mark.parametrize(("status", "expected"), POLICY_CASES)
def test_policy_health(status: dict[str, Any] | None, expected: str) -> None:
    assert health("MaintenancePolicy", _obj("MaintenancePolicy", status))[0] == expected


def test_policy_every_phase_is_mapped() -> None:
    for phase in v1alpha1.PolicyPhase:
        status, _ = health("MaintenancePolicy", _obj("MaintenancePolicy", {"phase": phase.value}))
        assert status != "Unknown", phase


def test_policy_suspended_in_spec_before_first_status() -> None:
    obj = _obj("MaintenancePolicy", None, spec={"suspend": True})
    assert health("MaintenancePolicy", obj)[0] == "Suspended"


def test_policy_message_carries_the_condition() -> None:
    status = {"phase": "Degraded", "conditions": [_ready("False", "Prometheus unreachable")]}
    assert "Prometheus unreachable" in health("MaintenancePolicy", _obj("MaintenancePolicy", status))[1]


def test_policy_unexpected_phase_is_unknown() -> None:
    assert health("MaintenancePolicy", _obj("MaintenancePolicy", {"phase": "Sideways"}))[0] == "Unknown"


# HealthAssessment

ISSUE = {"severity": "high", "title": "p99 latency above 2 s"}
ASSESSMENT_CASES = [
    ({"phase": "Pending"}, "Progressing"),
    ({"phase": "Running"}, "Progressing"),
    ({"phase": "Completed", "healthy": True, "overallScore": 9.1, "issues": []}, "Healthy"),
    ({"phase": "Completed", "healthy": True, "overallScore": 9.1}, "Healthy"),
    ({"phase": "Completed", "healthy": False, "overallScore": 5.5, "issues": [ISSUE]}, "Degraded"),
    ({"phase": "Completed", "healthy": False, "overallScore": 7.5}, "Degraded"),
    ({"phase": "Inconclusive"}, "Degraded"),
    ({"phase": "Failed", "summary": {"text": "Prometheus returned 503", "source": "Offline"}}, "Degraded"),
    ({"phase": "Failed"}, "Degraded"),
    ({}, "Progressing"),
    (None, "Progressing"),
]


@pytest.mark.parametrize(("status", "expected"), ASSESSMENT_CASES)
def test_assessment_health(status: dict[str, Any] | None, expected: str) -> None:
    assert health("HealthAssessment", _obj("HealthAssessment", status))[0] == expected


def test_assessment_every_phase_is_mapped() -> None:
    for phase in v1alpha1.AssessmentPhase:
        status, _ = health("HealthAssessment", _obj("HealthAssessment", {"phase": phase.value}))
        assert status != "Unknown", phase


def test_assessment_message_names_issues_and_worst_severity() -> None:
    issues = [{"severity": "low"}, {"severity": "critical"}, {"severity": "medium"}]
    status = {"phase": "Completed", "healthy": False, "overallScore": 3.4, "issues": issues}
    _, message = health("HealthAssessment", _obj("HealthAssessment", status))
    assert message == "3 issue(s), score 3.4/10, worst critical"


# Remediation

REMEDIATION_EXPECTED = {
    "Succeeded": "Healthy",
    "Proposed": "Progressing",
    "Approved": "Progressing",
    "Executing": "Progressing",
    "Verifying": "Progressing",
    "RollingBack": "Progressing",
    "AwaitingApproval": "Suspended",
    "Scheduled": "Suspended",
    "Backlog": "Suspended",
    "Paused": "Suspended",
    "RolledBack": "Degraded",
    "Failed": "Degraded",
    "Rejected": "Degraded",
    "Expired": "Degraded",
    "Escalated": "Degraded",
    "Terminated": "Degraded",
}


def test_remediation_table_covers_every_phase_of_the_api() -> None:
    assert set(REMEDIATION_EXPECTED) == {p.value for p in v1alpha1.RemediationPhase}


@pytest.mark.parametrize(("phase", "expected"), sorted(REMEDIATION_EXPECTED.items()))
def test_remediation_health(phase: str, expected: str) -> None:
    status, message = health("Remediation", _obj("Remediation", {"phase": phase, "message": "because"}))
    assert status == expected
    assert message == f"{phase}: because"


@pytest.mark.parametrize("status", [None, {}])
def test_remediation_without_status_is_progressing(status: dict[str, Any] | None) -> None:
    assert health("Remediation", _obj("Remediation", status)) == (
        "Progressing",
        "Waiting for the operator to evaluate the remediation",
    )


def test_remediation_unexpected_phase_is_unknown() -> None:
    assert health("Remediation", _obj("Remediation", {"phase": "Sideways"}))[0] == "Unknown"


# The app-of-apps helper for child Application health


def test_application_health_passes_through_child_health() -> None:
    script = (HEALTH_DIR / "argoproj.io_Application.lua").read_text()
    runtime = lupa.LuaRuntime(unpack_returned_tuples=False)
    for obj, expected in [
        ({"status": {"health": {"status": "Degraded", "message": "x"}}}, "Degraded"),
        ({"status": {"health": {"status": "Healthy"}}}, "Healthy"),
        ({}, "Progressing"),
    ]:
        runtime.globals().obj = _to_lua(runtime, obj)
        assert runtime.execute(script)["status"] == expected


# argocd-cm patch


def test_argocd_cm_patch_matches_the_lua_files() -> None:
    patch = yaml.safe_load(CM_PATCH.read_text())
    assert patch["kind"] == "ConfigMap"
    assert patch["metadata"] == {
        "name": "argocd-cm",
        "namespace": "argocd",
        "labels": {"app.kubernetes.io/name": "argocd-cm", "app.kubernetes.io/part-of": "argocd"},
    }
    expected = {
        f"resource.customizations.health.{path.stem}": path.read_text()
        for path in sorted(HEALTH_DIR.glob("*.lua"))
    }
    assert set(expected) >= {
        "resource.customizations.health.maintenance.chatapp.io_MaintenancePolicy",
        "resource.customizations.health.maintenance.chatapp.io_HealthAssessment",
        "resource.customizations.health.maintenance.chatapp.io_Remediation",
    }
    assert patch["data"] == expected


def test_argocd_cm_patch_is_what_the_script_renders(tmp_path: Path) -> None:
    out = tmp_path / "argocd-cm-patch.yaml"
    subprocess.run(
        [str(REPO / "hack" / "render-manifests.sh"), "argocd"],
        env={**os.environ, "ARGOCD_CM": str(out)},
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert out.read_text() == CM_PATCH.read_text(), "run hack/render-manifests.sh argocd"
