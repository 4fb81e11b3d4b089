"""From an assessment's issues to Remediations (reconcilers/propose.py) on in-memory ports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from maintenance_operator.adapters import crs, errors
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.reconcilers import propose
from tests.fixtures import fakes
from tests.fixtures.remediation_cases import RESTART, plan, scale

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
NS = "shop"
POLICY: dict[str, Any] = {
    "targetRef": {"name": "chatapp"},
    "indicators": [
        {
            "name": "error-ratio",
            "dimension": "core",
            "category": "error-rate",
            "query": "q",
            "warning": 1,
            "critical": 2,
        }
    ],
}


def issue(
    fingerprint: str = "chatapp/error-ratio", severity: str = "critical", category: str = "error-rate"
) -> api.Issue:
    return api.Issue.model_validate(
        {
            "fingerprint": fingerprint,
            "title": "t",
            "severity": severity,
            "category": category,
            "dimension": "core",
            "indicator": "error-ratio",
        }
    )


def setup(**spec: Any) -> tuple[fakes.FakeWorld, dict[str, Any], api.MaintenancePolicySpec]:
    w = fakes.FakeWorld()
    body = w.store.put(
        "MaintenancePolicy", {"metadata": {"name": "guard", "namespace": NS}, "spec": {**POLICY, **spec}}
    )
    return w, body, api.MaintenancePolicySpec.model_validate(body["spec"])


async def run(
    w: fakes.FakeWorld,
    body: dict[str, Any],
    policy: api.MaintenancePolicySpec,
    *issues: api.Issue,
    name: str = "a1",
) -> dict[str, str]:
    status = api.HealthAssessmentStatus(issues=list(issues))
    return await propose.propose(
        w,
        planner=w.planner_made,
        policy_body=body,
        policy=policy,
        assessment_name=name,
        status=status,
        now=NOW,
    )


async def test_one_remediation_per_issue_named_labelled_and_owned() -> None:
    w, body, policy = setup()
    created = await run(w, body, policy, issue())
    assert created == {"chatapp/error-ratio": propose.remediation_name("a1", "chatapp/error-ratio")}
    [item] = await w.store.list("Remediation", NS)
    labels = item["metadata"]["labels"]
    assert labels[crs.POLICY_LABEL] == "guard" and labels[crs.TARGET_LABEL] == "chatapp"
    assert item["metadata"]["ownerReferences"][0]["name"] == "guard"
    spec = api.RemediationSpec.model_validate(item["spec"])
    assert spec.assessment_ref is not None and spec.assessment_ref.name == "a1"
    assert spec.plan.actions, "the planner's plan is stored"


async def test_rerunning_after_a_restart_creates_nothing_twice() -> None:
    w, body, policy = setup()
    first = await run(w, body, policy, issue())
    again = await run(w, body, policy, issue())
    assert first == again
    assert len(await w.store.list("Remediation", NS)) == 1
    assert w.planner_made.calls == ["plan chatapp/error-ratio"], "an open remediation is not planned again"


async def test_an_open_remediation_from_another_assessment_absorbs_the_issue() -> None:
    w, body, policy = setup()
    first = await run(w, body, policy, issue(), name="a1")
    second = await run(w, body, policy, issue(), name="a2")
    assert first == second


async def test_a_more_severe_issue_is_routed_again_past_one_waiting_for_a_human() -> None:
    w, body, policy = setup()
    waiting = await run(w, body, policy, issue(severity="high"), name="a1")
    name = waiting["chatapp/error-ratio"]
    await w.store.patch_status("Remediation", NS, name, {"phase": "AwaitingApproval"})
    worse = await run(w, body, policy, issue(severity="critical"), name="a2")
    assert worse["chatapp/error-ratio"] != name


async def test_a_finished_remediation_does_not_absorb_a_recurrence() -> None:
    w, body, policy = setup()
    first = await run(w, body, policy, issue(), name="a1")
    await w.store.patch_status("Remediation", NS, first["chatapp/error-ratio"], {"phase": "Succeeded"})
    again = await run(w, body, policy, issue(), name="a2")
    assert again["chatapp/error-ratio"] != first["chatapp/error-ratio"]


async def test_one_change_serves_several_issues() -> None:
    w, body, policy = setup()
    w.planner_made.plan_override = plan(scale(5))
    created = await run(w, body, policy, issue("chatapp/queue"), issue("chatapp/latency"))
    assert created["chatapp/queue"] == created["chatapp/latency"]
    assert len(await w.store.list("Remediation", NS)) == 1


async def test_different_changes_get_their_own_remediations() -> None:
    w, body, policy = setup()
    w.planner_made.plan_override = plan(RESTART)
    first = await run(w, body, policy, issue("chatapp/queue"))
    w.planner_made.plan_override = plan(scale(5))
    second = await run(w, body, policy, issue("chatapp/latency"))
    assert first["chatapp/queue"] != second["chatapp/latency"]


@pytest.mark.parametrize("spec", [{"suspend": True}, {"severityRouting": {"critical": "Ignore"}}])
async def test_suspended_or_ignored_issues_create_nothing(spec: dict[str, Any]) -> None:
    w, body, policy = setup(**spec)
    assert await run(w, body, policy, issue()) == {}
    assert w.planner_made.calls == []


async def test_an_unreadable_target_creates_nothing() -> None:
    w, body, policy = setup()
    w.target(namespace=NS, name="chatapp").read_error = errors.ApiError(403, "Forbidden")
    assert await run(w, body, policy, issue()) == {}
    assert await w.store.list("Remediation", NS) == []


def test_budget_state_reads_the_policy_status() -> None:
    status = {"tokenUsageDay": "2030-01-01", "tokenUsage": {"inputTokens": 7}}
    state = propose.budget_state(api.MaintenancePolicyStatus.model_validate(status))
    assert state.day == "2030-01-01" and state.usage.input_tokens == 7
    assert propose.budget_state(api.MaintenancePolicyStatus()).day is None


# ---------------------------------------------------------------- one escalation per problem


def detected(
    fingerprint: str = "chatapp/error-ratio", *, at: str = "2030-01-01T11:50:00Z", **kw: Any
) -> api.Issue:
    return issue(fingerprint, **kw).model_copy(update={"detected_at": at})


async def escalate(w: fakes.FakeWorld, name: str) -> None:
    await w.store.patch_status("Remediation", NS, name, {"phase": "Escalated"})


async def test_an_open_escalation_absorbs_the_same_issue_over_many_assessments() -> None:
    w, body, policy = setup()
    first = (await run(w, body, policy, detected(), name="a1"))["chatapp/error-ratio"]
    await escalate(w, first)
    for n in range(2, 12):
        again = await run(w, body, policy, detected(), name=f"a{n}")
        assert again["chatapp/error-ratio"] == first
    assert len(await w.store.list("Remediation", NS)) == 1


async def test_the_carried_detected_at_reaches_the_remediation() -> None:
    w, body, policy = setup()
    await run(w, body, policy, detected(at="2030-01-01T11:40:00Z"))
    [item] = await w.store.list("Remediation", NS)
    assert item["spec"]["issue"]["detectedAt"] == "2030-01-01T11:40:00Z"


@pytest.mark.parametrize(
    ("change", "later"),
    [
        ("acknowledged", detected()),
        ("severity", detected(severity="high")),
        ("cleared and came back", detected(at="2030-01-01T11:58:00Z")),
    ],
)
async def test_an_escalation_stops_absorbing_once_acknowledged_or_changed(
    change: str, later: api.Issue
) -> None:
    w, body, policy = setup()
    first = (await run(w, body, policy, detected(), name="a1"))["chatapp/error-ratio"]
    await escalate(w, first)
    if change == "acknowledged":
        w.store.objects[("Remediation", NS, first)]["metadata"]["annotations"] = {crs.ACK_ANNOTATION: "alice"}
    again = await run(w, body, policy, later, name="a2")
    assert again["chatapp/error-ratio"] != first, change


async def test_the_issue_description_is_stored_redacted() -> None:
    w, body, policy = setup()
    leaky = issue().model_copy(update={"description": "pool errors; PGPASSWORD=s3cr3t-Value in the log"})
    await run(w, body, policy, leaky)
    [item] = await w.store.list("Remediation", NS)
    description = item["spec"]["issue"]["description"]
    assert "s3cr3t-Value" not in description and description.startswith("pool errors; PGPASSWORD=")
