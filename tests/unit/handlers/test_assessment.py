"""The HealthAssessment handler (handlers/assessment.py) on real kopf Body/Patch objects and fake ports:
parse the request, run the assessment once, write its status and post its Events."""

from __future__ import annotations

from typing import Any

import kopf
import pytest

from maintenance_operator.handlers import assessment
from tests.fixtures import fakes, handler_runtime, kopf_events

NS = "shop"
POLICY: dict[str, Any] = {
    "targetRef": {"name": "chatapp"},
    "indicators": [
        {
            "name": "error-ratio",
            "dimension": "core",
            "category": "error-rate",
            "query": 'error_ratio{namespace="$namespace",deployment="$deployment"}',
            "warning": 0.01,
            "critical": 0.05,
        }
    ],
}


@pytest.fixture(autouse=True)  # kopf posts Events only inside a running operator
def events(monkeypatch: pytest.MonkeyPatch) -> list[kopf_events.Event]:
    return kopf_events.record(monkeypatch)


def world(answers: dict[str, fakes.Answer], *, status: Any = None) -> fakes.FakeWorld:
    w = fakes.FakeWorld(answers=answers)
    w.store.put(
        "MaintenancePolicy",
        {"metadata": {"name": "guard", "namespace": NS}, "spec": POLICY, "status": status or {}},
    )
    return w


def body(spec: dict[str, Any], status: dict[str, Any] | None = None) -> kopf.Body:
    return kopf.Body(
        {
            "apiVersion": "maintenance.chatapp.io/v1alpha1",
            "kind": "HealthAssessment",
            "metadata": {"name": "assess-1", "namespace": NS, "uid": "u1"},
            "spec": spec,
            "status": status or {},
        }
    )


async def run(w: fakes.FakeWorld, b: kopf.Body) -> kopf.Patch:
    patch = kopf.Patch()
    await assessment.run_assessment(
        spec=b.spec,
        status=b.status,
        name="assess-1",
        namespace=NS,
        body=b,
        patch=patch,
        memo=handler_runtime.memo(w),
    )
    return patch


async def test_a_healthy_target_completes_with_its_score_and_an_assessed_event(
    events: list[kopf_events.Event],
) -> None:
    w = world({"error_ratio": [0.001]})
    patch = await run(w, body({"policyRef": {"name": "guard"}}))
    assert patch.status["phase"] == "Completed" and patch.status["overallScore"] == 10.0
    assert patch.status["issues"] == []
    assert [(e.type, e.reason) for e in events] == [("Normal", "Assessed")]
    assert w.planners == 0


async def test_an_unhealthy_target_writes_the_issue_and_its_remediation(
    events: list[kopf_events.Event],
) -> None:
    w = world({"error_ratio": [0.3]})
    patch = await run(w, body({"policyRef": {"name": "guard"}}))
    [issue] = patch.status["issues"]
    assert issue["indicator"] == "error-ratio" and issue["severity"] == "critical"
    [created] = [name for kind, _, name in w.store.objects if kind == "Remediation"]
    assert issue["remediation"] == created
    assert ("Warning", "IssueDetected") in [(e.type, e.reason) for e in events]


async def test_an_invalid_request_fails_with_a_condition_and_a_warning(
    events: list[kopf_events.Event],
) -> None:
    w = world({})
    patch = await run(w, body({"policyRef": {}}))
    assert patch.status["phase"] == "Failed" and patch.status["message"].startswith("policyRef.name")
    [completed] = patch.status["conditions"]
    assert (completed["type"], completed["status"], completed["reason"]) == (
        "Completed",
        "False",
        "InvalidSpec",
    )
    assert [(e.type, e.reason) for e in events] == [("Warning", "InvalidSpec")]
    assert w.queriers == []


async def test_a_missing_policy_fails_the_assessment(events: list[kopf_events.Event]) -> None:
    patch = await run(world({}), body({"policyRef": {"name": "gone"}}))
    assert (patch.status["phase"], patch.status["message"]) == ("Failed", "MaintenancePolicy gone not found")
    assert [(e.type, e.reason) for e in events] == [("Warning", "PolicyNotFound")]


async def test_a_finished_assessment_is_never_run_again() -> None:
    w = world({"error_ratio": [0.3]})
    patch = await run(w, body({"policyRef": {"name": "guard"}}, {"phase": "Inconclusive"}))
    assert dict(patch) == {} and w.queriers == []


async def test_a_malformed_policy_status_degrades_instead_of_crashing() -> None:
    status = {"indicatorStates": "not a list", "outcomes": [{"broken": True}], "lastAssessment": 7}
    w = world({"error_ratio": [0.001]}, status=status)
    patch = await run(w, body({"policyRef": {"name": "guard"}}))
    assert patch.status["phase"] == "Completed"
    stored = w.store.status("MaintenancePolicy", NS, "guard")
    assert stored["lastAssessment"] == "assess-1"
    assert [s["name"] for s in stored["indicatorStates"]] == ["error-ratio"]
