from __future__ import annotations

from datetime import UTC, datetime

import pytest

from maintenance_operator.api.v1alpha1 import Action, Risk, RiskLevel
from maintenance_operator.domain import risk
from tests.fixtures.remediation_cases import (
    NO_ACTION,
    RESTART,
    config_patch,
    escalate,
    issue,
    plan,
    rollback,
    scale,
    target,
)

QUIET = datetime(2030, 1, 5, 3, 0, tzinfo=UTC)  # Saturday night
BUSY = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)  # Tuesday noon


def score(*actions: Action, now: datetime = QUIET, predicted: bool = False, **snapshot: object) -> Risk:
    return risk.score_risk(
        plan=plan(*actions), target=target(**snapshot), issue=issue(predicted=predicted), now=now
    )


@pytest.mark.parametrize(
    ("value", "level"),
    [
        (0, RiskLevel.LOW),
        (2.99, RiskLevel.LOW),
        (3, RiskLevel.MEDIUM),
        (5.99, RiskLevel.MEDIUM),
        (6, RiskLevel.HIGH),
        (7.99, RiskLevel.HIGH),
        (8, RiskLevel.CRITICAL),
        (10, RiskLevel.CRITICAL),
    ],
)
def test_level_boundaries(value: float, level: RiskLevel) -> None:
    assert risk.level_for(value) is level


@pytest.mark.parametrize("action", [NO_ACTION, escalate()])
def test_actions_that_write_nothing_are_zero(action: Action) -> None:
    result = score(action, now=BUSY, available_replicas=0)
    assert result.score == 0
    assert result.level is RiskLevel.LOW
    assert result.factors == ["no action writes to the cluster"]


@pytest.mark.parametrize(
    ("action", "expected", "level"),
    [
        (RESTART, 2.5, RiskLevel.LOW),
        (scale(5), 1.25, RiskLevel.LOW),
        (scale(12), 3.0, RiskLevel.MEDIUM),
        (scale(40), 3.0, RiskLevel.MEDIUM),  # growth capped
        (scale(4), 0.5, RiskLevel.LOW),
        (scale(2), 4.0, RiskLevel.MEDIUM),
        (scale(1), 5.0, RiskLevel.MEDIUM),
        (scale(0), 9.0, RiskLevel.CRITICAL),
        (config_patch(), 4.5, RiskLevel.MEDIUM),
        (rollback(4), 5.0, RiskLevel.MEDIUM),
        (rollback(2), 6.5, RiskLevel.HIGH),
        (rollback(1), 7.25, RiskLevel.HIGH),
        (rollback(5), 6.5, RiskLevel.HIGH),  # not older than the current revision
    ],
)
def test_base_scores_on_a_healthy_target(action: Action, expected: float, level: RiskLevel) -> None:
    result = score(action)
    assert result.score == expected
    assert result.level is level


def test_scale_down_is_riskier_than_the_same_scale_up() -> None:
    assert score(scale(2)).score > score(scale(6)).score


def test_rollback_with_unknown_current_revision() -> None:
    result = score(rollback(3), revision=None)
    assert result.score == 6.5
    assert "unknown" in result.factors[0]


def test_scale_up_from_zero() -> None:
    assert score(scale(2), replicas=0, available_replicas=0).score == 3.0


def test_more_actions_add_risk() -> None:
    result = score(RESTART, scale(5))
    assert result.score == 3.0  # max(2, 1.25) + 0.5 extra action + 0.5 pods replaced
    assert any("2 writing actions" in f for f in result.factors)


def test_fewer_available_replicas_raise_risk() -> None:
    half = score(RESTART, available_replicas=2)
    none = score(RESTART, available_replicas=0)
    assert half.score == 3.5
    assert none.score == 4.5
    assert any("no replica is available" in f for f in none.factors)


def test_rollout_in_progress_and_deadline_exceeded() -> None:
    assert score(RESTART, rollout_done=False).score == 3.5
    stuck = score(RESTART, rollout_done=False, progress_deadline_exceeded=True)
    assert stuck.score == 3.5
    assert any("progress deadline" in f for f in stuck.factors)


def test_recreate_strategy_raises_risk_of_rolling_actions_only() -> None:
    assert score(RESTART, strategy="Recreate", max_unavailable=4).score == 4.0
    assert score(scale(5), strategy="Recreate", max_unavailable=4).score == 1.25


def test_forecast_and_business_hours() -> None:
    assert score(RESTART, predicted=True).score == 3.0
    busy = score(RESTART, now=BUSY)
    assert busy.score == 3.0
    assert any("business hours" in f for f in busy.factors)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2030, 1, 1, 8, 0, tzinfo=UTC), True),
        (datetime(2030, 1, 1, 17, 59, tzinfo=UTC), True),
        (datetime(2030, 1, 1, 18, 0, tzinfo=UTC), False),
        (datetime(2030, 1, 1, 7, 59, tzinfo=UTC), False),
        (datetime(2030, 1, 5, 12, 0, tzinfo=UTC), False),  # Saturday
    ],
)
def test_business_hours_are_weekdays_utc(moment: datetime, expected: bool) -> None:
    assert risk.in_business_hours(moment) is expected


def test_score_is_clamped_to_ten() -> None:
    result = score(scale(0), rollback(1), now=BUSY, predicted=True, available_replicas=0, rollout_done=False)
    assert result.score == 10
    assert result.level is RiskLevel.CRITICAL


def test_planner_confidence_only_raises() -> None:
    base = score(RESTART)
    assert risk.raise_with_planner(base, 9.5) == base
    assert risk.raise_with_planner(base, 7.0) == base
    unsure = risk.raise_with_planner(base, 3.0)
    assert unsure.score == 4.5
    assert unsure.level is RiskLevel.MEDIUM
    assert unsure.factors[-1] == "planner confidence 3/10 (+2.0)"
    assert risk.raise_with_planner(base, 0.0).score == 6.0


def test_planner_never_lowers_level_or_exceeds_ten() -> None:
    inconsistent = Risk(score=2.0, level=RiskLevel.HIGH, factors=[])
    assert risk.raise_with_planner(inconsistent, 6.0).level is RiskLevel.HIGH
    assert risk.raise_with_planner(Risk(score=9.5, level=RiskLevel.CRITICAL), 0).score == 10


def test_planner_does_not_raise_a_plan_that_writes_nothing() -> None:
    nothing = score(NO_ACTION)
    assert risk.raise_with_planner(nothing, 0.0) == nothing


@pytest.mark.parametrize(
    ("level", "limit", "expected"),
    [
        (RiskLevel.LOW, RiskLevel.MEDIUM, True),
        (RiskLevel.MEDIUM, RiskLevel.MEDIUM, True),
        (RiskLevel.HIGH, RiskLevel.MEDIUM, False),
        (RiskLevel.CRITICAL, RiskLevel.HIGH, False),
    ],
)
def test_within(level: RiskLevel, limit: RiskLevel, expected: bool) -> None:
    assert risk.within(Risk(score=0, level=level), limit) is expected
