"""The plan review wired into a Remediation's Proposed tick, and the outcomes and calibration it records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from maintenance_operator import metrics
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import approval, attestation, timestamps
from tests.fixtures import fakes
from tests.fixtures import remediation_world as rem
from tests.fixtures.remediation_cases import RESTART, escalate, plan, scale

P = api.RemediationPhase
NOW, NS = rem.NOW, rem.NS
QUEUE = {
    "name": "queue-depth",
    "dimension": "core",
    "category": "queue",
    "query": 'queue_depth{namespace="$namespace"}',
    "warning": 100,
    "critical": 500,
}
SECRET = "hunter2-Zx9"
SCALING = {"scale": {"enabled": True, "min": 1, "max": 10}}


def claude(*actions: api.Action, confidence: float = 10.0) -> api.Plan:
    return plan(*actions, confidence=confidence).model_copy(update={"planner": api.PlannerKind.CLAUDE})


def evidence(value: float = 0.2) -> list[dict[str, Any]]:
    return [{"query": rem.QUERY, "value": value, "threshold": 0.05, "comparison": ">= critical"}]


def queue_issue() -> dict[str, Any]:
    return {
        "fingerprint": "chatapp/queue-depth/queue",
        "title": "queue depth high",
        "severity": "critical",
        "category": "queue",
        "dimension": "core",
        "indicator": "queue-depth",
        "evidence": [{"query": "queue_depth", "value": 2400.0, "threshold": 500.0}],
    }


def error_issue() -> dict[str, Any]:
    return {**rem.issue(), "evidence": evidence()}


def outcome(result: str, *, ago: timedelta, action: str = "RolloutRestart") -> dict[str, Any]:
    return {
        "fingerprint": "chatapp/error-ratio/error-rate",
        "category": "error-rate",
        "action": action,
        "result": result,
        "at": timestamps.rfc3339(NOW - ago),
        "remediation": f"earlier-{result.lower()}",
    }


def with_outcomes(w: fakes.FakeWorld, *items: dict[str, Any]) -> None:
    w.store.objects[("MaintenancePolicy", NS, "guard")]["status"] = {"outcomes": list(items)}


def reviews(result: str, planner: str = "Offline") -> float:
    value = metrics.REGISTRY.get_sample_value(
        "maintenance_operator_plan_reviews_total",
        {"namespace": NS, "policy": "guard", "planner": planner, "result": result},
    )
    return value or 0.0


async def test_a_claude_scale_down_during_a_queue_surge_is_held_with_the_reasons() -> None:
    w = rem.world(indicators=[*rem.POLICY["indicators"], QUEUE], actions=SCALING)
    rem.remediation(w, actions=claude(scale(2)), issue=queue_issue())
    before = reviews("unfit", "Claude")
    t = await rem.tick(w)
    status = rem.stored(w)
    assert status.phase is P.AWAITING_APPROVAL
    assert status.review is not None and not status.review.passed and not status.review.fits
    assert status.review.second_opinion == "Scale", "the offline planner scales too, but up"
    assert status.review.planner_confidence == 10
    assert any("removes capacity" in r for r in status.review.reasons)
    assert "removes capacity" in status.message
    assert any("removes capacity" in message for _, _, message in t.events)
    [note] = w.notifications
    assert "Held:" in note.text and "removes capacity" in note.text
    assert reviews("unfit", "Claude") == before + 1
    assert w.target(namespace=NS, name="chatapp").executed == []


async def test_a_claude_plan_the_offline_planner_would_not_make_is_held() -> None:
    w = rem.world()
    # a restart rolled back two days ago: outside the failed-action window, but the offline planner
    # now escalates instead of restarting again
    with_outcomes(w, outcome("RolledBack", ago=timedelta(days=2)))
    rem.remediation(w, actions=claude(RESTART), issue=error_issue())
    disagreements = metrics.REGISTRY.get_sample_value(
        "maintenance_operator_planner_disagreements_total", {"namespace": NS, "policy": "guard"}
    )
    await rem.tick(w)
    status = rem.stored(w)
    assert status.phase is P.AWAITING_APPROVAL
    assert status.review is not None and status.review.fits
    assert status.review.agreement is api.Agreement.DISAGREE
    assert status.review.second_opinion == "Escalate"
    assert any(r.startswith("planners disagree") for r in status.review.reasons)
    after = metrics.REGISTRY.get_sample_value(
        "maintenance_operator_planner_disagreements_total", {"namespace": NS, "policy": "guard"}
    )
    assert after == (disagreements or 0) + 1


async def test_the_agreement_gate_can_be_opted_out_of() -> None:
    w = rem.world(autoApprove={"requirePlannerAgreement": False, "minConfidence": 0})
    with_outcomes(w, outcome("RolledBack", ago=timedelta(days=2)))
    rem.remediation(w, actions=claude(RESTART), issue=error_issue())
    await rem.tick(w)
    status = rem.stored(w)
    assert status.review is not None and status.review.agreement is api.Agreement.DISAGREE
    assert status.approved_by == approval.AUTO_APPROVER
    assert status.phase is P.EXECUTING


async def test_an_action_rolled_back_for_this_issue_an_hour_ago_is_held() -> None:
    w = rem.world()
    with_outcomes(w, outcome("RolledBack", ago=timedelta(hours=1)))
    rem.remediation(w, actions=plan(RESTART, confidence=10), issue=error_issue())
    await rem.tick(w)
    status = rem.stored(w)
    assert status.phase is P.AWAITING_APPROVAL
    assert status.review is not None and status.review.fits
    assert status.review.agreement is api.Agreement.AGREE
    [reason] = status.review.reasons
    assert reason.startswith("RolloutRestart was RolledBack for this issue")
    assert reason in status.message
    assert "failedActionWindow" in w.notifications[0].text


async def test_a_plan_that_passes_the_review_is_auto_approved() -> None:
    w = rem.world()
    rem.remediation(w, actions=plan(RESTART, confidence=10), issue=error_issue())
    before = reviews("passed")
    await rem.tick(w)
    status = rem.stored(w)
    # approved and started in the same tick: no wait for the next one
    assert status.approved_by == approval.AUTO_APPROVER
    assert status.phase is P.EXECUTING and status.started_at is not None
    assert status.review is not None and status.review.passed and status.review.reasons == []
    assert status.review.effective_confidence == 10
    assert status.risk is not None
    assert reviews("passed") == before + 1


async def test_model_text_is_redacted_in_status_events_and_notifications() -> None:
    w = rem.world()
    rem.remediation(w, actions=claude(escalate(f"DB_PASSWORD={SECRET} looks wrong")))
    t = await rem.tick(w)
    status = rem.stored(w)
    assert status.phase is P.ESCALATED
    assert SECRET not in status.message and "DB_PASSWORD=[REDACTED]" in status.message
    assert all(SECRET not in c.message for c in status.conditions)
    assert t.events and all(SECRET not in message for _, _, message in t.events)
    assert w.notifications and all(SECRET not in n.text for n in w.notifications)


# ---------------------------------------------------------------- outcomes and calibration


def signed_rejection(w: fakes.FakeWorld) -> None:
    decision = api.Approval(
        approved=False, approved_by="alice", approved_at=timestamps.rfc3339(NOW), reason="not at night"
    )
    review = {
        "passed": False,
        "fits": False,
        "agreement": "Disagree",
        "plannerConfidence": 10,
        "effectiveConfidence": 3,
    }
    rem.remediation(
        w,
        actions=claude(scale(2)),
        issue=queue_issue(),
        status={"phase": "AwaitingApproval", "review": review},
        approval=decision.wire(),
    )
    obj = w.store.objects[("Remediation", NS, "fix-1")]
    signature = attestation.sign(key=w.approval_key, uid=obj["metadata"]["uid"], approval=decision)
    obj["metadata"]["annotations"] = {attestation.SIGNATURE_ANNOTATION: signature}


async def test_a_human_rejection_is_recorded_with_planner_and_both_confidences() -> None:
    w = rem.world(indicators=[*rem.POLICY["indicators"], QUEUE], actions=SCALING)
    signed_rejection(w)
    await rem.tick(w)
    assert rem.stored(w).phase is P.REJECTED
    [recorded] = rem.outcomes(w)
    assert recorded["result"] == "Rejected" and recorded["action"] == "Scale"
    assert (recorded["planner"], recorded["confidence"], recorded["effectiveConfidence"]) == ("Claude", 10, 3)
    [claude_row] = w.store.status("MaintenancePolicy", NS, "guard")["calibration"]
    assert claude_row["planner"] == "Claude" and claude_row["rejected"] == 1 and claude_row["outcomes"] == 0


async def test_an_issue_gone_before_execution_records_no_rejection() -> None:
    w = rem.world()
    w.answers = {"error_ratio": [0.001]}
    rem.remediation(w, status={"phase": "Approved"}, assessment="assess-1")
    await rem.tick(w)
    assert rem.stored(w).phase is P.REJECTED
    assert rem.outcomes(w) == [], "not a human refusal: it must not hold the next plan back"


async def test_an_expired_approval_re_raised_records_nothing_and_one_escalated_is_recorded() -> None:
    w = rem.world()
    expired = timestamps.rfc3339(NOW - timedelta(seconds=1))
    rem.remediation(w, severity="high", status={"phase": "AwaitingApproval", "approvalExpiresAt": expired})
    await rem.tick(w)
    assert rem.stored(w).phase is P.AWAITING_APPROVAL, "re-raised while the resolution deadline holds"
    assert rem.outcomes(w) == []
    late = rem.world()
    rem.remediation(
        late,
        severity="high",
        status={"phase": "AwaitingApproval", "approvalExpiresAt": expired},
        issue={**rem.issue("high"), "detectedAt": timestamps.rfc3339(NOW - timedelta(days=2))},
    )
    await rem.tick(late)
    assert rem.stored(late).phase is P.ESCALATED
    assert [o["result"] for o in rem.outcomes(late)] == ["Escalated"]


async def test_a_verified_success_updates_calibration_and_the_planner_gauges() -> None:
    w = rem.world()
    with_outcomes(
        w,
        {**outcome("RolledBack", ago=timedelta(days=3)), "planner": "Offline", "confidence": 8},
    )
    w.holders["shop/chatapp"] = "fix-1"
    w.answers = {"error_ratio": [0.001]}
    rem.remediation(w, actions=plan(RESTART, confidence=6), status=rem.verifying(minutes_ago=2))
    await rem.tick(w)
    await rem.tick(w, now=NOW + timedelta(minutes=1))
    assert rem.stored(w).phase is P.SUCCEEDED
    results = [(o["result"], o.get("planner"), o.get("confidence")) for o in rem.outcomes(w)]
    assert results == [("RolledBack", "Offline", 8), ("Succeeded", "Offline", 6)]
    [row] = w.store.status("MaintenancePolicy", NS, "guard")["calibration"]
    # Brier: ((0.8 - 0)^2 + (0.6 - 1)^2) / 2 = 0.4
    assert (row["outcomes"], row["succeeded"], row["brierScore"], row["successRate"]) == (2, 1, 0.4, 0.5)
    labels = {"namespace": NS, "policy": "guard", "planner": "Offline"}
    assert metrics.REGISTRY.get_sample_value("maintenance_operator_planner_brier_score", labels) == 0.4
    assert metrics.REGISTRY.get_sample_value("maintenance_operator_planner_success_rate", labels) == 0.5
