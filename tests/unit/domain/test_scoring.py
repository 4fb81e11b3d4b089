"""Scores per indicator, dimension and overall (domain/scoring.py)."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import judgement as judging
from maintenance_operator.domain import scoring

D = api.Dimension


def indicator(**overrides: Any) -> api.Indicator:
    fields: dict[str, Any] = {
        "name": "i",
        "dimension": "core",
        "query": "q",
        "warning": 0.01,
        "critical": 0.05,
    }
    fields.update(overrides)
    return api.Indicator.model_validate(fields)


@pytest.mark.parametrize(
    ("value", "score"),
    [
        (0.0, 10.0),
        (0.005, 10.0),  # baseline = warning / 2
        (0.0075, 9.0),
        (0.01, 8.0),  # at warning: still ok
        (0.0100001, 7.0),  # just beyond warning
        (0.03, 5.5),
        (0.05, 4.0),  # at critical: still the warning band
        (0.09, 2.5),  # critical band: 4 -> 1 over 2 spans (0.05 -> 0.13)
        (0.13, 1.0),
        (10.0, 1.0),
        (math.inf, 1.0),
        (-math.inf, 10.0),
    ],
)
def test_score_value_higher_is_worse(value: float, score: float) -> None:
    assert scoring.score_value(value, indicator()) == pytest.approx(score, abs=0.01)


@pytest.mark.parametrize(
    ("value", "score"),
    [
        (1.5, 10.0),
        (1.0, 8.0),
        (1.25, 9.0),
        (0.75, 5.5),
        (0.5, 4.0),
        (0.0, 2.5),
        (-0.5, 1.0),
        (-math.inf, 1.0),
    ],
)
def test_score_value_lower_is_worse(value: float, score: float) -> None:
    ind = indicator(direction="LowerIsWorse", warning=1, critical=0.5)
    assert scoring.score_value(value, ind) == pytest.approx(score, abs=0.01)


def test_score_is_monotonic_over_a_sweep() -> None:
    ind = indicator()
    scores = [scoring.score_value(x / 1000, ind) for x in range(0, 200)]
    assert all(a >= b for a, b in itertools.pairwise(scores))
    assert scores[0] == 10.0 and scores[-1] == 1.0


def test_baseline_for_nonpositive_warning_is_one_span_below() -> None:
    ind = indicator(warning=-1, critical=1)
    assert scoring.healthy_baseline(ind) == -3
    assert scoring.score_value(-3, ind) == 10.0 and scoring.score_value(-2, ind) == 9.0


def test_equal_thresholds_have_no_warning_band() -> None:
    ind = indicator(warning=2, critical=2)
    assert scoring.span(ind) == 1.0
    assert scoring.score_value(2, ind) == 8.0
    assert scoring.score_value(2.0001, ind) == pytest.approx(4.0, abs=0.01)
    assert scoring.score_value(4, ind) == 1.0


def _judged(
    values: list[float], error: str | None = None, **kw: Any
) -> tuple[judging.Judgement, api.Indicator]:
    ind = indicator(**kw)
    return judging.judge(values=values, error=error, indicator=ind), ind


def test_score_indicator_unknown_for_error_and_inconclusive() -> None:
    assert scoring.score_indicator(*_judged([], "boom")) is None
    assert scoring.score_indicator(*_judged([])) is None
    assert scoring.score_indicator(*_judged([math.nan])) is None


def test_score_indicator_no_data_policy_scores() -> None:
    assert scoring.score_indicator(*_judged([], noDataPolicy="Healthy")) == 10.0
    assert scoring.score_indicator(*_judged([], noDataPolicy="Failed")) == 1.0
    assert scoring.score_indicator(*_judged([0.03])) == 5.5


def test_score_dimension_worst_dominates() -> None:
    assert scoring.score_dimension([]) is None
    assert scoring.score_dimension([9.0]) == 9.0
    # 0.7 * 4 + 0.3 * mean(4, 10, 10, 10) = 2.8 + 2.55
    assert scoring.score_dimension([4.0, 10.0, 10.0, 10.0]) == 5.35
    assert scoring.score_dimension([8.0, 10.0]) >= 8.0  # type: ignore[operator]


def result(name: str, dimension: api.Dimension, score: float | None) -> api.IndicatorResult:
    return api.IndicatorResult(
        name=name, dimension=dimension, phase=api.MeasurementPhase.SUCCESSFUL, score=score, query="q"
    )


def test_score_dimensions_all_known() -> None:
    results = [result(d.value, d, 10.0) for d in D]
    dims = scoring.score_dimensions(results=results, weights=api.DimensionWeights())
    assert [d.dimension for d in dims] == list(D)
    assert [d.effective_weight for d in dims] == [30, 25, 20, 15, 10]
    assert all(d.indicators == 1 and d.message == "" for d in dims)
    assert scoring.overall_score(dims) == 10.0


def test_unknown_dimension_weight_is_redistributed() -> None:
    results = [
        result("a", D.CORE, 4.0),
        result("b", D.COMPONENT, 10.0),
        result("c", D.INTEGRATION, None),  # scored None: does not count
        result("d", D.USER_EXPERIENCE, 10.0),
        result("e", D.OPERATIONAL, 10.0),
    ]
    dims = {d.dimension: d for d in scoring.score_dimensions(results=results, weights=api.DimensionWeights())}
    assert dims[D.INTEGRATION].score is None
    assert dims[D.INTEGRATION].message == scoring.INSUFFICIENT_DATA
    assert dims[D.INTEGRATION].effective_weight == 0.0
    assert dims[D.CORE].effective_weight == pytest.approx(37.5)
    assert sum(d.effective_weight for d in dims.values()) == pytest.approx(100)
    # (4 * 30 + 10 * 50) / 80
    assert scoring.overall_score(list(dims.values())) == pytest.approx(7.75)


def test_no_known_dimension_gives_no_overall() -> None:
    dims = scoring.score_dimensions(results=[result("a", D.CORE, None)], weights=api.DimensionWeights())
    assert all(d.score is None and d.effective_weight == 0 for d in dims)
    assert scoring.overall_score(dims) is None


def test_known_dimensions_with_zero_weight_give_no_overall() -> None:
    weights = api.DimensionWeights(core=100, component=0, integration=0, user_experience=0, operational=0)
    dims = scoring.score_dimensions(results=[result("a", D.COMPONENT, 9.0)], weights=weights)
    assert {d.effective_weight for d in dims} == {0.0}
    assert scoring.overall_score(dims) is None


@pytest.mark.parametrize(("overall", "alert"), [(None, False), (6.99, True), (7.0, False), (9.0, False)])
def test_health_alert(overall: float | None, alert: bool) -> None:
    assert scoring.health_alert(overall) is alert


def test_is_healthy() -> None:
    issue = api.Issue(
        fingerprint="f", title="t", severity="low", category="c", dimension="core", indicator="i"
    )
    assert scoring.is_healthy(None, []) is None
    assert scoring.is_healthy(8.0, []) is True
    assert scoring.is_healthy(7.99, []) is False
    assert scoring.is_healthy(9.5, [issue]) is False


@pytest.mark.parametrize(
    ("score", "expected"), [(None, False), (7.0, False), (6.99, True), (2.0, True), (9.5, False)]
)
def test_health_alert_at_the_frameworks_threshold(score: float | None, expected: bool) -> None:
    assert scoring.health_alert(score) is expected


def test_health_alert_threshold_is_configurable() -> None:
    assert scoring.health_alert(6.5, threshold=6.0) is False
    assert scoring.health_alert(6.5, threshold=7.0) is True
