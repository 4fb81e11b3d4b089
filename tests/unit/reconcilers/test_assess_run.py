"""One HealthAssessment end to end (reconcilers/assess.run) on in-memory ports: the policy it reads and
feeds, the Remediations it proposes, the narrative, the Events and the clients it closes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.config import OperatorConfig
from maintenance_operator.domain import budget, notification
from maintenance_operator.reconcilers import assess
from tests.fixtures import fakes

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
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
    "actions": {
        "configPatch": {"enabled": True, "configMapRef": {"name": "chatapp-config"}, "allowedKeys": ["POOL"]}
    },
}
HEALTHY = {"error_ratio": [0.001]}
FAILING = {"error_ratio": [0.3]}


def world(
    answers: dict[str, fakes.Answer], *, status: dict[str, Any] | None = None, **spec: Any
) -> fakes.FakeWorld:
    w = fakes.FakeWorld(answers=dict(answers))
    body = {
        "metadata": {"name": "guard", "namespace": NS},
        "spec": {**POLICY, **spec},
        "status": status or {},
    }
    w.store.put("MaintenancePolicy", body)
    w.target(namespace=NS, name="chatapp").config = {"chatapp-config": {"POOL": "20", "SECRET": "x"}}
    return w


async def run(w: fakes.FakeWorld, name: str = "assess-1", policy: str = "guard") -> assess.Run:
    request = api.HealthAssessmentSpec.model_validate({"policyRef": {"name": policy}})
    return await assess.run(w, name=name, namespace=NS, request=request, now=NOW)


def policy_status(w: fakes.FakeWorld) -> dict[str, Any]:
    return w.store.status("MaintenancePolicy", NS, "guard")


def alert(status: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == "HealthAlert")


async def test_a_missing_policy_fails_the_assessment() -> None:
    result = await run(fakes.FakeWorld(), policy="gone")
    assert result.failure == ("PolicyNotFound", "MaintenancePolicy gone not found")
    assert result.status is None


async def test_an_invalid_policy_fails_with_the_first_error() -> None:
    w = world(HEALTHY, dimensionWeights={"core": 90})
    result = await run(w)
    assert result.failure is not None and result.failure[0] == "InvalidPolicy"
    assert result.failure[1].startswith("policy guard is invalid: ")
    assert w.queriers == []


async def test_a_healthy_target_costs_no_planner_and_feeds_the_policy() -> None:
    w = world(HEALTHY)
    result = await run(w)
    assert result.status is not None and result.status.phase is api.AssessmentPhase.COMPLETED
    assert result.status.issues == [] and result.created == {}
    assert w.planners == 0
    [querier] = w.queriers
    assert querier.closed == 1
    status = policy_status(w)
    assert status["lastAssessment"] == "assess-1"
    assert [s["name"] for s in status["indicatorStates"]] == ["error-ratio"]
    assert (alert(status)["status"], alert(status)["reason"]) == ("False", "ScoreOK")
    assert status["candidateConfig"]["data"] == {"POOL": "20"}, "only allowlisted keys are read"
    assert "tokenUsage" not in status
    assert result.events == [("Normal", "Assessed", f"overall {result.status.overall_score}, 0 issue(s)")]


async def test_the_health_alert_reason_is_the_same_on_assessment_and_policy() -> None:
    w = world(FAILING)
    result = await run(w)
    assert result.status is not None
    on_assessment = next(c for c in result.status.conditions if c.type == "HealthAlert")
    assert on_assessment.reason == alert(policy_status(w))["reason"] == "ScoreBelow7"


async def test_an_unhealthy_target_gets_a_remediation_a_narrative_and_events() -> None:
    w = world(FAILING, status={"tokenUsageDay": "2030-01-01"})
    w.planner_made.narrative = "Errors spiked on chatapp."
    w.planner_made.budget_state = budget.BudgetState(day="2030-01-01", usage=api.TokenUsage(input_tokens=120))
    result = await run(w)
    assert result.status is not None
    [issue] = result.status.issues
    assert issue.severity is api.Severity.CRITICAL
    assert issue.remediation == result.created[issue.fingerprint]
    assert issue.route is api.Route.AUTO_RESOLVE
    [remediation] = await w.store.list("Remediation", NS)
    assert remediation["metadata"]["name"] == issue.remediation
    assert w.planners == 1 and w.planner_made.closed == 1, "one planner per assessment, always closed"
    assert w.planner_made.calls == [f"plan {issue.fingerprint}", "summarize"]
    assert result.status.summary is not None and result.status.summary.source is api.SummarySource.LLM
    assert result.status.summary.text == "Errors spiked on chatapp."
    assert result.status.summary.model == w.config.default_model
    assert result.status.token_usage is not None and result.status.token_usage.output_tokens == 20
    assert policy_status(w)["tokenUsage"]["inputTokens"] == 120
    reasons = [e[1] for e in result.events]
    assert reasons == ["HealthAlert", "IssueDetected", "Assessed"]
    assert result.events[1][0] == "Warning" and f"remediation {issue.remediation}" in result.events[1][2]


async def test_without_a_narrative_the_offline_summary_stays() -> None:
    w = world(FAILING)
    result = await run(w)
    assert result.status is not None and result.status.summary is not None
    assert result.status.summary.source is api.SummarySource.OFFLINE
    assert "tokenUsage" not in policy_status(w)


async def test_the_planner_is_closed_when_proposing_fails() -> None:
    w = world(FAILING)

    async def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("store down")

    w.store.create = broken  # type: ignore[method-assign]
    try:
        await run(w)
    except RuntimeError:
        pass
    else:
        raise AssertionError("the error must surface")
    assert w.planner_made.closed == 1


async def test_an_unreachable_prometheus_is_inconclusive_and_never_proposes() -> None:
    w = world({"error_ratio": prom.QueryError(prom.ErrorKind.UNAVAILABLE, "connection refused")})
    result = await run(w)
    assert result.status is not None and result.status.phase is api.AssessmentPhase.INCONCLUSIVE
    assert result.status.issues == [] and w.planners == 0
    assert (alert(policy_status(w))["status"], alert(policy_status(w))["reason"]) == (
        "Unknown",
        "InsufficientData",
    )
    assert "candidateConfig" not in policy_status(w), "known-good tracking needs a completed assessment"
    assert result.events == [("Warning", "Inconclusive", result.status.message)]


async def test_a_suspended_policy_is_assessed_but_proposes_nothing() -> None:
    w = world(FAILING, suspend=True)
    result = await run(w)
    assert result.status is not None and result.status.issues
    assert result.created == {} and w.planners == 0
    assert await w.store.list("Remediation", NS) == []


async def test_the_last_measurements_are_carried_forward() -> None:
    w = world(HEALTHY)
    await run(w, name="assess-1")
    w.store.put(
        "HealthAssessment",
        {
            "metadata": {"name": "assess-1", "namespace": NS},
            "status": (await run(w, name="assess-1")).status.wire(),
        },  # type: ignore[union-attr]
    )
    result = await run(w, name="assess-2")
    assert result.status is not None
    assert len(result.status.indicator_results[0].measurements) == 2


async def test_a_health_alert_is_notified_when_it_starts_not_while_it_lasts() -> None:
    w = world(FAILING)
    await run(w)
    [note] = [n for n in w.notifications if n.type is notification.EventType.HEALTH_ALERT]
    assert (note.kind, note.name) == ("MaintenancePolicy", "guard") and "< 7" in note.title
    await run(w, name="assess-2")
    assert [n.type for n in w.notifications].count(notification.EventType.HEALTH_ALERT) == 1


async def test_the_health_alert_threshold_is_configurable() -> None:
    w = world(FAILING)
    w.config = OperatorConfig(health_alert_threshold=1.0)
    result = await run(w)
    assert not [n for n in w.notifications if n.type is notification.EventType.HEALTH_ALERT]
    assert "HealthAlert" not in [e[1] for e in result.events]
    assert alert(policy_status(w))["status"] == "False"


async def test_an_issue_is_detected_when_its_breach_began() -> None:
    since = "2030-01-01T11:52:00Z"
    w = world(FAILING, status={"indicatorStates": [{"name": "error-ratio", "breachingSince": since}]})
    result = await run(w)
    assert result.status is not None
    [issue] = result.status.issues
    assert issue.detected_at == since


async def test_a_repeat_with_the_same_health_reads_nothing_more_and_posts_no_normal_event() -> None:
    w = world(HEALTHY)
    first = await run(w, name="assess-1")
    assert [e[1] for e in first.events] == ["Assessed"], "the first assessment sets the state"
    reads: list[str] = []
    original_get = w.store.get

    async def counting_get(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        reads.append(f"{kind}/{name}")
        return await original_get(kind, namespace, name)

    w.store.get = counting_get  # type: ignore[method-assign]
    patches_before = len(w.store.patches)
    second = await run(w, name="assess-2")
    assert reads == ["MaintenancePolicy/guard", "HealthAssessment/assess-1"], "no re-read for the write"
    [(kind, _, patch)] = w.store.patches[patches_before:]
    assert kind == "MaintenancePolicy" and "conditions" not in patch and patch["lastAssessment"] == "assess-2"
    assert second.events == [], "a healthy repeat is in the status and the metrics, not in an Event"
    assert alert(policy_status(w))["message"] == "overall score at or above 7"


async def test_a_change_of_health_is_written_and_posted() -> None:
    w = world(HEALTHY)
    await run(w, name="assess-1")
    w.answers.update(FAILING)
    result = await run(w, name="assess-2")
    assert (alert(policy_status(w))["status"], alert(policy_status(w))["message"]) == (
        "True",
        "overall score below 7",
    )
    assert [e[1] for e in result.events] == ["HealthAlert", "IssueDetected", "Assessed"]
