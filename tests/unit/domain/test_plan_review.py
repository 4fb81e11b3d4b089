"""Plan review: validation, fit, the agreement gate and recent failures, combined into one verdict."""

from __future__ import annotations

from maintenance_operator.api.v1alpha1 import (
    Action,
    ActionType,
    Agreement,
    AutoApproveSpec,
    Plan,
    PlannerKind,
    RollbackParams,
    ScaleParams,
)
from maintenance_operator.domain import plan_review, planning
from tests.fixtures import planning_cases as cases

NOW = cases.NOW
SCALE_UP = Action(type=ActionType.SCALE, scale=ScaleParams(replicas=5))
SCALE_DOWN = Action(type=ActionType.SCALE, scale=ScaleParams(replicas=2))
RESTART = Action(type=ActionType.ROLLOUT_RESTART)
ROLLBACK = Action(type=ActionType.ROLLBACK, rollback=RollbackParams(to_revision=4))


def claude(*actions: Action, confidence: float = 10) -> Plan:
    return Plan(actions=list(actions), rationale="r", confidence=confidence, planner=PlannerKind.CLAUDE)


def test_claude_plan_matching_the_offline_planner_passes() -> None:
    ctx = cases.ctx("queue")
    review = plan_review.review_plan(plan=claude(SCALE_UP), ctx=ctx, auto=AutoApproveSpec(), now=NOW)
    assert review.passed, review.reasons
    assert review.agreement is Agreement.AGREE
    assert review.second_opinion == "Scale"
    assert review.effective_confidence == 10.0


def test_scale_down_in_a_queue_incident_is_held() -> None:
    ctx = cases.ctx("queue")
    review = plan_review.review_plan(plan=claude(SCALE_DOWN), ctx=ctx, auto=AutoApproveSpec(), now=NOW)
    assert not review.passed
    assert not review.fits
    assert any("never down" in r for r in review.reasons)
    # Scale agrees on the type with the offline plan (Scale up) but still does not fit
    assert review.agreement is Agreement.AGREE


def test_disagreement_blocks_unless_the_policy_opts_out() -> None:
    ctx = cases.ctx("memory")  # offline: RolloutRestart; Claude: Rollback (on the table, but different)
    review = plan_review.review_plan(plan=claude(ROLLBACK), ctx=ctx, auto=AutoApproveSpec(), now=NOW)
    assert review.fits
    assert review.agreement is Agreement.DISAGREE
    assert review.reasons == [
        "planners disagree: Claude proposes Rollback, the offline planner proposes RolloutRestart "
        "(autoApprove.requirePlannerAgreement)"
    ]
    assert review.effective_confidence == 5.0
    relaxed = plan_review.review_plan(
        plan=claude(ROLLBACK), ctx=ctx, auto=AutoApproveSpec(require_planner_agreement=False), now=NOW
    )
    assert relaxed.passed
    assert relaxed.effective_confidence == 5.0  # still recorded, and gated by minConfidence in approval


def test_recent_failure_blocks_within_the_window_only() -> None:
    ctx = cases.ctx("queue")
    fp = ctx.issue.fingerprint
    recent = ctx.model_copy(update={"outcomes": [cases.outcome(fp, "Scale", "RolledBack", minutes_ago=60)]})
    old = ctx.model_copy(update={"outcomes": [cases.outcome(fp, "Scale", "RolledBack", minutes_ago=25 * 60)]})
    rejected = ctx.model_copy(update={"outcomes": [cases.outcome(fp, "Scale", "Rejected", minutes_ago=60)]})
    auto = AutoApproveSpec(failed_action_window="24h")
    # the offline planner itself avoids Scale after a failure; review the same Scale plan as Offline too
    offline_scale = claude(SCALE_UP).model_copy(update={"planner": PlannerKind.OFFLINE, "confidence": 8.0})
    for plan in (claude(SCALE_UP), offline_scale):
        blocked = plan_review.review_plan(plan=plan, ctx=recent, auto=auto, now=NOW)
        assert any("Scale was RolledBack for this issue" in r for r in blocked.reasons)
        assert not blocked.passed
        assert not any(
            "RolledBack" in r for r in plan_review.review_plan(plan=plan, ctx=old, auto=auto, now=NOW).reasons
        )
        assert not plan_review.review_plan(plan=plan, ctx=rejected, auto=auto, now=NOW).passed


def test_unparseable_outcome_time_counts_as_recent() -> None:
    ctx = cases.ctx("queue")
    bad = cases.outcome(ctx.issue.fingerprint, "Scale", "Failed").model_copy(update={"at": "yesterday"})
    found = plan_review.recent_failures(
        outcomes=[bad],
        fingerprint=ctx.issue.fingerprint,
        action_types=frozenset({"Scale"}),
        now=NOW,
        window="1h",
    )
    assert found == [bad]


def test_invalid_plan_never_passes() -> None:
    ctx = cases.ctx("queue")
    huge = Action(type=ActionType.SCALE, scale=ScaleParams(replicas=100))
    review = plan_review.review_plan(plan=claude(huge), ctx=ctx, auto=AutoApproveSpec(), now=NOW)
    assert not review.passed
    assert any(r.startswith("invalid: ") for r in review.reasons)


def test_offline_plans_agree_with_themselves_and_pass() -> None:
    for category in cases.INDICATOR_BY_CATEGORY:
        ctx = cases.ctx(category)
        offline = planning.offline_plan(ctx)
        review = plan_review.review_plan(plan=offline, ctx=ctx, auto=AutoApproveSpec(), now=NOW)
        assert review.passed, (category, review.reasons)
        assert review.effective_confidence == offline.confidence


def test_passive_claude_plan_needs_no_agreement() -> None:
    ctx = cases.ctx("queue")
    review = plan_review.review_plan(
        plan=claude(Action(type=ActionType.NO_ACTION)), ctx=ctx, auto=AutoApproveSpec(), now=NOW
    )
    assert review.passed


def test_result_kind_is_a_bounded_label() -> None:
    ctx = cases.ctx("queue")
    auto = AutoApproveSpec()
    assert (
        plan_review.result_kind(plan_review.review_plan(plan=claude(SCALE_UP), ctx=ctx, auto=auto, now=NOW))
        == "passed"
    )
    down = plan_review.review_plan(plan=claude(SCALE_DOWN), ctx=ctx, auto=auto, now=NOW)
    assert plan_review.result_kind(down) == "unfit"
    memory = cases.ctx("memory")
    rollback = plan_review.review_plan(plan=claude(ROLLBACK), ctx=memory, auto=auto, now=NOW)
    assert plan_review.result_kind(rollback) == "disagreement"
    failed = ctx.model_copy(update={"outcomes": [cases.outcome(ctx.issue.fingerprint, "Scale", "Failed")]})
    offline = claude(SCALE_UP).model_copy(update={"planner": PlannerKind.OFFLINE})
    assert plan_review.result_kind(plan_review.review_plan(plan=offline, ctx=failed, auto=auto, now=NOW)) == (
        "recent-failure"
    )
