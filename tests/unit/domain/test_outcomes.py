"""Knowledge-base entries: human decisions are recorded, with planner and confidences."""

from __future__ import annotations

import pytest

from maintenance_operator.api.v1alpha1 import (
    Action,
    ActionType,
    Plan,
    PlannerKind,
    PlanReview,
    RemediationPhase,
    ScaleParams,
)
from maintenance_operator.domain import calibration, outcomes, planning
from tests.fixtures import planning_cases as cases

P = RemediationPhase


@pytest.mark.parametrize(
    ("result", "started", "recorded"),
    [
        (P.REJECTED, False, True),
        (P.EXPIRED, False, True),
        (P.SUCCEEDED, False, True),
        (P.ESCALATED, False, True),
        (P.FAILED, False, False),  # failed before anything ran: nothing to learn about the action
        (P.FAILED, True, True),
        (P.ROLLED_BACK, True, True),
        (P.TERMINATED, False, False),
    ],
)
def test_what_is_recorded(result: RemediationPhase, started: bool, recorded: bool) -> None:
    assert outcomes.recorded(result, started=started) is recorded


def test_outcome_carries_planner_and_confidences_and_feeds_calibration() -> None:
    issue = cases.issue("queue")
    plan = Plan(
        actions=[Action(type=ActionType.SCALE, scale=ScaleParams(replicas=2))],
        rationale="r",
        confidence=10,
        planner=PlannerKind.CLAUDE,
    )
    review = PlanReview(passed=False, fits=False, planner_confidence=10, effective_confidence=5)
    entry = outcomes.outcome(
        issue=issue, plan=plan, result=P.REJECTED, at="2025-11-26T12:00:00Z", remediation="r1", review=review
    )
    assert (entry.action, entry.result, entry.planner, entry.confidence, entry.effective_confidence) == (
        "Scale", "Rejected", PlannerKind.CLAUDE, 10, 5
    )  # fmt: skip
    assert calibration.calibrate([entry])[0].rejected == 1


def test_offline_planner_does_not_repeat_a_rejected_action() -> None:
    ctx = cases.ctx("memory")
    assert planning.offline_plan(ctx).actions[0].type is ActionType.ROLLOUT_RESTART
    rejected = ctx.model_copy(
        update={"outcomes": [cases.outcome(ctx.issue.fingerprint, "RolloutRestart", "Rejected")]}
    )
    again = planning.offline_plan(rejected)
    assert again.actions[0].type is ActionType.ROLLBACK
    assert "a human rejected it" in again.rationale
