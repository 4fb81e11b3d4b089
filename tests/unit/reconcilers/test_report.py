from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import notification
from maintenance_operator.reconcilers import report as reconciler
from tests.fixtures.report_world import (
    NOW,
    NS,
    SCORES,
    FakeNotifier,
    FakeObjects,
    FakeScores,
    policy,
    remediation,
    world,
)


async def run(
    spec: dict[str, Any],
    *,
    objects: FakeObjects | None = None,
    scores: FakeScores | None = None,
    status: api.MaintenanceReportStatus | None = None,
    generation: int = 1,
    now: datetime = NOW,
    notifier: FakeNotifier | None = None,
) -> reconciler.Result:
    ports = reconciler.Ports(
        objects=objects or FakeObjects(world()), scores=scores or FakeScores(SCORES), notifier=notifier
    )
    return await reconciler.reconcile(
        api.MaintenanceReportSpec.model_validate(spec),
        name="weekly",
        namespace=NS,
        generation=generation,
        status=status or api.MaintenanceReportStatus(),
        now=now,
        ports=ports,
    )


async def test_report_of_one_policy_over_its_period() -> None:
    scores, notifier = FakeScores(SCORES), FakeNotifier()
    result = await run(
        {"policyRef": {"name": "chatapp"}, "schedule": "Weekly"}, scores=scores, notifier=notifier
    )
    status = result.status
    assert status is not None and status.phase is api.ReportPhase.READY, status and status.message
    assert status.policies == ["chatapp"]
    assert scores.asked == [("chatapp", NOW - timedelta(days=7), NOW)]
    [restart] = status.remediations
    assert (restart.total, restart.succeeded, restart.rolled_back) == (2, 1, 1)
    [high] = status.response_times
    assert (high.remediations, high.median_response_seconds, high.mttr_seconds) == (2, 600.0, 1800.0)
    assert [(i.severity, i.category, i.count) for i in status.issues] == [
        (api.Severity.HIGH, "memory", 2),
        (api.Severity.LOW, "queue", 1),
    ]
    assert status.token_usage is not None and status.token_usage.total == 110  # a0 is before the period
    assert status.findings == ["chatapp: memory reaches 1 in 2.0h at the current trend (now 0.7)."]
    assert (status.observed_generation, status.next_run_at) == (1, "2030-01-15T00:00:00Z")
    assert result.next_check == NOW + timedelta(days=7)
    [event] = notifier.events
    assert (event.type, event.name, event.kind) == (
        notification.EventType.REPORT,
        "weekly",
        "MaintenanceReport",
    )
    assert "--html weekly.html" in (event.link or "")


async def test_selector_covers_every_matching_policy_with_prefixed_series() -> None:
    objects = FakeObjects(
        world(MaintenancePolicy=[policy("chatapp", {"team": "chat"}), policy("other", {"team": "chat"})])
    )
    result = await run({"selector": {"matchLabels": {"team": "chat"}}}, objects=objects)
    assert result.status is not None
    assert result.status.policies == ["chatapp", "other"]
    assert ("MaintenancePolicy", {"team": "chat"}) in objects.calls
    assert {h.dimension for h in result.status.health} == {"chatapp/overall", "other/overall"}
    assert sum(a.total for a in result.status.remediations) == 3


async def test_no_matching_policy_is_a_partial_report() -> None:
    result = await run({"policyRef": {"name": "missing"}})
    assert result.status is not None and result.status.phase is api.ReportPhase.PARTIAL
    assert "No policy matched" in result.status.message


async def test_empty_score_history_is_partial_and_says_so() -> None:
    result = await run({"policyRef": {"name": "chatapp"}}, scores=FakeScores({}))
    assert result.status is not None and result.status.phase is api.ReportPhase.PARTIAL
    assert result.status.gaps == ["No score history for chatapp: Prometheus has no scores in the period."]


@pytest.mark.parametrize("answer", [None, TimeoutError("slow")])
async def test_missing_score_history_is_partial_not_failed(answer: Exception | None) -> None:
    result = await run({"policyRef": {"name": "chatapp"}}, scores=FakeScores(answer))
    assert result.status is not None and result.status.phase is api.ReportPhase.PARTIAL
    assert "No score history for chatapp" in result.status.message
    assert result.status.remediations  # the rest is still reported


async def test_unreachable_api_fails_with_a_retry() -> None:
    result = await run({"policyRef": {"name": "chatapp"}}, objects=FakeObjects({}, fail=True))
    assert result.status is not None and result.status.phase is api.ReportPhase.FAILED
    assert result.status.message == "could not list objects: ConnectionRefusedError"
    assert result.next_check == NOW + reconciler.RETRY_AFTER
    assert reconciler.due(
        api.MaintenanceReportSpec(policy_ref=api.LocalObjectReference(name="chatapp")),
        result.status,
        generation=1,
        now=NOW + reconciler.RETRY_AFTER,
    )


async def test_invalid_objects_are_left_out_and_counted() -> None:
    broken = remediation("broken")
    broken["spec"]["plan"]["confidence"] = 99
    result = await run(
        {"policyRef": {"name": "chatapp"}},
        objects=FakeObjects(world(Remediation=[broken, remediation("r1")])),
    )
    assert result.status is not None and result.status.phase is api.ReportPhase.PARTIAL
    assert "1 Remediation(s) could not be read" in result.status.message
    assert result.status.remediations[0].total == 1


ONCE = api.MaintenanceReportSpec(policy_ref=api.LocalObjectReference(name="chatapp"))
WEEKLY = ONCE.model_copy(update={"schedule": api.ReportSchedule.WEEKLY})
MADE = api.MaintenanceReportStatus(
    phase=api.ReportPhase.READY, observed_generation=1, generated_at="2030-01-01T00:00:00Z"
)


@pytest.mark.parametrize(
    ("spec", "status", "generation", "now", "expected"),
    [
        (ONCE, api.MaintenanceReportStatus(), 1, NOW, True),
        (ONCE, MADE, 1, NOW, False),
        (ONCE, MADE, 2, NOW, True),  # spec changed
        (
            WEEKLY,
            MADE.model_copy(update={"next_run_at": "2030-01-08T00:00:00Z"}),
            1,
            NOW - timedelta(seconds=1),
            False,
        ),
        (WEEKLY, MADE.model_copy(update={"next_run_at": "2030-01-08T00:00:00Z"}), 1, NOW, True),
    ],
)
def test_due(
    spec: api.MaintenanceReportSpec,
    status: api.MaintenanceReportStatus,
    generation: int,
    now: datetime,
    expected: bool,
) -> None:
    assert reconciler.due(spec, status, generation=generation, now=now) is expected


async def test_nothing_to_do_reports_when_to_look_again() -> None:
    status = MADE.model_copy(update={"next_run_at": "2030-01-09T00:00:00Z"})
    objects = FakeObjects(world())
    result = await run(
        {"policyRef": {"name": "chatapp"}, "schedule": "Daily"}, status=status, objects=objects
    )
    assert result.status is None and result.next_check == NOW + timedelta(days=1)
    assert objects.calls == []


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (api.ReportSchedule.ONCE, None),
        (api.ReportSchedule.DAILY, NOW + timedelta(days=1)),
        (api.ReportSchedule.WEEKLY, NOW + timedelta(days=7)),
    ],
)
def test_next_run(schedule: api.ReportSchedule, expected: datetime | None) -> None:
    assert reconciler.next_run(schedule, now=NOW) == expected


async def test_capacity_and_audit_sections_come_from_the_policy_status() -> None:
    analysed = policy("chatapp", {"team": "chat"}) | {
        "status": {
            "capacity": {
                "analyzedAt": "2030-01-07T00:00:00Z",
                "sufficient": False,
                "message": "too little data",
            },
            "configAudit": {"analyzedAt": "2030-01-07T00:00:00Z", "score": 8.2, "findingCount": 1},
            "security": {"analyzedAt": "2030-01-07T00:00:00Z", "score": "not a number"},
        }
    }
    objects = FakeObjects(world(MaintenancePolicy=[analysed]))
    result = await run({"policyRef": {"name": "chatapp"}}, objects=objects)
    status = result.status
    assert status is not None
    [cap] = status.capacity
    assert (cap.policy, cap.sufficient, cap.message) == ("chatapp", False, "too little data")
    [audits] = status.audits
    assert (audits.config_score, audits.config_findings, audits.security_score) == (8.2, 1, None)
    assert any("unreadable analysis report" in g for g in status.gaps)
