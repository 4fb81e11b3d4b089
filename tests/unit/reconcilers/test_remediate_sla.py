"""Response SLAs on a Remediation (reconcilers/remediate.py) on in-memory ports: deadlines from detectedAt,
respondedAt/resolvedAt, the SLA condition, notices, expired approvals, overdue Backlog items, metrics and
outcome retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from maintenance_operator import metrics
from maintenance_operator.adapters import crs
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import attestation, notification, timestamps
from tests.fixtures import fakes
from tests.fixtures.remediation_world import (
    NOW,
    NS,
    P,
    outcomes,
    remediation,
    stored,
    tick,
    verifying,
    world,
)

E = notification.EventType


def detected(minutes_ago: float) -> str:
    return timestamps.rfc3339(NOW - timedelta(minutes=minutes_ago))


def issue(severity: str, *, minutes_ago: float) -> dict[str, Any]:
    return {
        "fingerprint": "chatapp/error-ratio/error-rate",
        "title": "error ratio high",
        "severity": severity,
        "category": "error-rate",
        "dimension": "core",
        "indicator": "error-ratio",
        "detectedAt": detected(minutes_ago),
    }


def types(w: fakes.FakeWorld) -> list[notification.EventType]:
    return [n.type for n in w.notifications]


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


# ---------------------------------------------------------------- deadlines and routing


async def test_deadlines_count_from_detected_at_not_from_creation() -> None:
    w = world()
    remediation(w, status={}, issue=issue("high", minutes_ago=20))
    await tick(w)
    status = stored(w)
    assert status.response_due == timestamps.rfc3339(NOW + timedelta(minutes=40))
    assert status.resolution_due == timestamps.rfc3339(NOW + timedelta(minutes=40))
    assert status.phase is P.AWAITING_APPROVAL


async def test_a_medium_issue_goes_to_approval_when_the_window_opens_after_its_deadline() -> None:
    far = [{"start": "23:00", "duration": "1h"}]  # NOW is 12:00: 11 h away, medium responds in 4 h
    w = world(maintenanceWindows=far)
    remediation(w, issue=issue("medium", minutes_ago=1))
    await tick(w)
    status = stored(w)
    assert status.phase is P.AWAITING_APPROVAL
    assert next(c for c in status.conditions if c.type == "Approved").reason == "WindowTooFar"
    assert types(w) == [E.APPROVAL_NEEDED]


async def test_a_medium_issue_waits_for_a_window_that_opens_in_time() -> None:
    w = world(maintenanceWindows=[{"start": "13:00", "duration": "1h"}])
    remediation(w, issue=issue("medium", minutes_ago=1))
    await tick(w)
    assert stored(w).phase is P.SCHEDULED
    assert types(w) == []


# ---------------------------------------------------------------- response and resolution


async def test_execution_is_the_response() -> None:
    w = world()
    remediation(w, status={"phase": "Approved"}, issue=issue("critical", minutes_ago=3))
    await tick(w)
    assert stored(w).phase is P.EXECUTING
    assert stored(w).responded_at == timestamps.rfc3339(NOW)
    await tick(w, now=NOW + timedelta(minutes=1))
    assert stored(w).responded_at == timestamps.rfc3339(NOW), "the first response is kept"


async def test_a_human_decision_is_the_response() -> None:
    w = world()
    decision = api.Approval(approved=False, approved_by="alice", approved_at=detected(1), reason="not now")
    remediation(
        w,
        status={"phase": "AwaitingApproval"},
        issue=issue("high", minutes_ago=3),
        approval=decision.wire(),
    )
    signature = attestation.sign(key=w.approval_key, uid="uid-fix-1", approval=decision)
    w.store.objects[("Remediation", NS, "fix-1")]["metadata"]["annotations"] = {
        attestation.SIGNATURE_ANNOTATION: signature
    }
    await tick(w)
    status = stored(w)
    assert status.phase is P.REJECTED and status.responded_at == timestamps.rfc3339(NOW)


async def test_a_verified_fix_is_the_resolution_and_is_measured_by_severity_and_outcome() -> None:
    w = world()
    w.holders["shop/chatapp"] = "fix-1"
    w.answers = {"error_ratio": [0.001]}
    responded = timestamps.rfc3339(NOW - timedelta(minutes=3))
    labels = {"namespace": NS, "policy": "guard", "severity": "high", "outcome": "Succeeded"}
    before = sample("maintenance_operator_resolution_seconds_sum", **labels)
    before_response = sample("maintenance_operator_response_seconds_count", **labels)
    remediation(
        w, status={**verifying(minutes_ago=2), "respondedAt": responded}, issue=issue("high", minutes_ago=10)
    )
    await tick(w)
    await tick(w, now=NOW + timedelta(minutes=1))
    status = stored(w)
    assert status.phase is P.SUCCEEDED and status.resolved_at == timestamps.rfc3339(
        NOW + timedelta(minutes=1)
    )
    assert sample("maintenance_operator_resolution_seconds_sum", **labels) - before == 11 * 60
    assert sample("maintenance_operator_response_seconds_count", **labels) - before_response == 1
    assert types(w)[-1] is E.REMEDIATION_OUTCOME


async def test_a_missed_resolution_deadline_is_counted_at_the_end() -> None:
    w = world()
    w.holders["shop/chatapp"] = "fix-1"
    w.answers = {"error_ratio": [0.001]}
    clock = {"namespace": NS, "policy": "guard", "severity": "critical", "clock": "resolution"}
    before = sample("maintenance_operator_sla_breaches_total", **clock)
    remediation(w, status=verifying(minutes_ago=2), issue=issue("critical", minutes_ago=30))
    await tick(w)
    await tick(w, now=NOW + timedelta(minutes=1))
    assert stored(w).phase is P.SUCCEEDED
    assert sample("maintenance_operator_sla_breaches_total", **clock) - before == 1


# ---------------------------------------------------------------- notices


async def test_an_open_remediation_is_warned_once_then_breached_then_reminded() -> None:
    w = world()
    # critical: 15 min to respond; at risk after 75 % (11.25 min)
    remediation(
        w,
        status={"phase": "AwaitingApproval", "approvalExpiresAt": detected(-600)},
        issue=issue("critical", minutes_ago=12),
    )
    await tick(w)
    status = stored(w)
    assert types(w) == [E.SLA_AT_RISK]
    assert status.sla_notices == ["SLAAtRisk"] and status.last_notice_at == timestamps.rfc3339(NOW)
    sla = next(c for c in status.conditions if c.type == "SLA")
    assert (sla.status, sla.reason) == (api.ConditionStatus.FALSE, "AtRisk")
    await tick(w, now=NOW + timedelta(minutes=1))
    assert types(w) == [E.SLA_AT_RISK], "each notice once"
    await tick(w, now=NOW + timedelta(minutes=4))
    assert types(w) == [E.SLA_AT_RISK, E.SLA_BREACHED]
    assert next(c for c in stored(w).conditions if c.type == "SLA").reason == "Breached"
    await tick(w, now=NOW + timedelta(minutes=30))
    assert types(w) == [E.SLA_AT_RISK, E.SLA_BREACHED], "no reminder before reminderInterval (1h)"
    await tick(w, now=NOW + timedelta(minutes=65))
    assert types(w) == [E.SLA_AT_RISK, E.SLA_BREACHED, E.REMINDER]
    assert all(n.severity is api.Severity.CRITICAL for n in w.notifications)


async def test_an_on_track_remediation_says_so_and_sends_nothing() -> None:
    w = world()
    remediation(
        w,
        status={"phase": "AwaitingApproval", "approvalExpiresAt": detected(-60)},
        issue=issue("low", minutes_ago=5),
    )
    await tick(w)
    sla = next(c for c in stored(w).conditions if c.type == "SLA")
    assert (sla.status, sla.reason) == (api.ConditionStatus.TRUE, "OnTrack")
    assert w.notifications == []


# ---------------------------------------------------------------- expired approvals and the backlog


async def test_an_expired_approval_in_scheduled_is_re_raised_while_the_deadline_holds() -> None:
    w = world(maintenanceWindows=[{"start": "23:00", "duration": "1h"}])
    expired = detected(1)
    remediation(
        w, status={"phase": "Scheduled", "approvalExpiresAt": expired}, issue=issue("medium", minutes_ago=10)
    )
    t = await tick(w)
    status = stored(w)
    assert status.phase is P.SCHEDULED
    assert status.approval_expires_at is not None and timestamps.parse(status.approval_expires_at) > NOW
    assert "ApprovalReRaised" in [e[1] for e in t.events]
    assert types(w) == [E.APPROVAL_NEEDED]


async def test_an_expired_approval_in_scheduled_escalates_after_the_deadline() -> None:
    w = world(maintenanceWindows=[{"start": "23:00", "duration": "1h"}])
    remediation(
        w,
        status={"phase": "Scheduled", "approvalExpiresAt": detected(1)},
        issue=issue("medium", minutes_ago=300),
    )
    await tick(w)
    status = stored(w)
    assert status.phase is P.ESCALATED
    assert E.ESCALATION in types(w)
    escalation = next(n for n in w.notifications if n.type is E.ESCALATION)
    assert "kubectl maintenance ack fix-1 -n shop" in escalation.text


async def test_an_overdue_backlog_item_notifies_once() -> None:
    w = world()
    remediation(w, status={"phase": "Backlog"}, issue=issue("low", minutes_ago=23 * 60))
    await tick(w)
    assert types(w) == [E.SLA_AT_RISK]
    remediation(w, status={"phase": "Backlog"}, issue=issue("low", minutes_ago=25 * 60))
    t = await tick(w)
    assert types(w) == [E.SLA_AT_RISK, E.SLA_BREACHED]
    assert "a Backlog item passed its response deadline" in w.notifications[-1].text
    assert [e[1] for e in t.events] == ["SLABreached"]
    await tick(w, now=NOW + timedelta(minutes=5))
    assert types(w) == [E.SLA_AT_RISK, E.SLA_BREACHED]


# ---------------------------------------------------------------- retention


async def test_outcomes_older_than_the_retention_are_dropped_when_one_is_recorded() -> None:
    w = world(history={"retention": "24h"})
    old = {
        "fingerprint": "f",
        "action": "Scale",
        "result": "Succeeded",
        "at": detected(25 * 60),
        "remediation": "old",
    }
    recent = {**old, "at": detected(60), "remediation": "recent"}
    await w.store.patch_status("MaintenancePolicy", NS, "guard", {"outcomes": [old, recent]})
    w.holders["shop/chatapp"] = "fix-1"
    w.answers = {"error_ratio": [0.001]}
    remediation(w, status=verifying(minutes_ago=2))
    await tick(w)
    await tick(w, now=NOW + timedelta(minutes=1))
    assert [o["remediation"] for o in outcomes(w)] == ["recent", "fix-1"]


# ---------------------------------------------------------------- open escalations


def escalated(*, hours_ago: float, **extra: Any) -> dict[str, Any]:
    done = timestamps.rfc3339(NOW - timedelta(hours=hours_ago))
    return {"phase": "Escalated", "completedAt": done, "message": "needs a DBA", **extra}


async def test_an_unacknowledged_escalation_is_reminded_after_the_interval_only() -> None:
    w = world()
    remediation(w, status=escalated(hours_ago=0.5), issue=issue("high", minutes_ago=40))
    await tick(w)
    assert w.notifications == [], "the escalation itself was the notice; 1h has not passed"
    await tick(w, now=NOW + timedelta(minutes=31))
    [reminder] = w.notifications
    assert reminder.type is E.REMINDER and "kubectl maintenance ack fix-1 -n shop" in reminder.text
    assert stored(w).phase is P.ESCALATED and stored(w).last_notice_at is not None
    await tick(w, now=NOW + timedelta(minutes=45))
    assert len(w.notifications) == 1


async def test_an_acknowledged_escalation_is_quiet() -> None:
    w = world()
    remediation(w, status=escalated(hours_ago=5), issue=issue("high", minutes_ago=400))
    w.store.objects[("Remediation", NS, "fix-1")]["metadata"]["annotations"] = {crs.ACK_ANNOTATION: "alice"}
    await tick(w)
    assert w.notifications == []
