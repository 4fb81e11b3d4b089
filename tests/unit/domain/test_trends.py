"""z-score trends against a baseline (domain/trends.py)."""

from __future__ import annotations

import math

import pytest

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import trends

T = api.Trend
HIGHER = api.Direction.HIGHER_IS_WORSE
LOWER = api.Direction.LOWER_IS_WORSE
SPEC = api.TrendSpec(z_score_threshold=2.0, min_samples=10)


def baseline(mean: float = 10.0, stddev: float = 1.0, samples: int = 30) -> trends.Baseline:
    return trends.Baseline(mean=mean, stddev=stddev, samples=samples)


def test_z_score_plain() -> None:
    assert trends.z_score(current=13.0, baseline=baseline(), min_samples=10) == pytest.approx(3.0)


@pytest.mark.parametrize("samples", [0, 1, 9])
def test_too_few_samples_is_unknown(samples: int) -> None:
    assert trends.z_score(current=13.0, baseline=baseline(samples=samples), min_samples=10) is None
    t = trends.indicator_trend(current=13.0, baseline=baseline(samples=samples), direction=HIGHER, spec=SPEC)
    assert t.trend is T.UNKNOWN and t.z_score is None and "samples" in t.message


def test_one_sample_with_min_samples_one_still_finite() -> None:
    z = trends.z_score(current=5.0, baseline=baseline(mean=5.0, stddev=0.0, samples=1), min_samples=1)
    assert z == 0.0


def test_zero_variance_same_value_is_stable() -> None:
    t = trends.indicator_trend(current=10.0, baseline=baseline(stddev=0.0), direction=HIGHER, spec=SPEC)
    assert t.trend is T.STABLE and t.z_score == 0.0


def test_zero_variance_change_is_large_but_finite() -> None:
    z = trends.z_score(current=11.0, baseline=baseline(stddev=0.0), min_samples=10)
    assert z is not None and math.isfinite(z) and z == pytest.approx(100.0)  # 1 / (10 * 1e-3)


def test_zero_variance_zero_mean_is_clamped() -> None:
    z = trends.z_score(current=1e9, baseline=baseline(mean=0.0, stddev=0.0), min_samples=10)
    assert z == trends.Z_CLAMP
    z = trends.z_score(current=-1e9, baseline=baseline(mean=0.0, stddev=0.0), min_samples=10)
    assert z == -trends.Z_CLAMP


@pytest.mark.parametrize(
    ("current", "mean", "stddev"),
    [(math.nan, 1.0, 1.0), (math.inf, 1.0, 1.0), (1.0, math.nan, 1.0), (1.0, 1.0, math.inf)],
)
def test_non_finite_inputs_are_unknown(current: float, mean: float, stddev: float) -> None:
    assert (
        trends.z_score(current=current, baseline=baseline(mean=mean, stddev=stddev), min_samples=10) is None
    )


def test_epsilon_relative_to_mean_never_zero() -> None:
    assert trends.epsilon(0.0) == trends.ABSOLUTE_EPSILON
    assert trends.epsilon(-1000.0) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("current", "direction", "trend"),
    [
        (13.0, HIGHER, T.DEGRADING),
        (7.0, HIGHER, T.IMPROVING),
        (11.0, HIGHER, T.STABLE),
        (12.0, HIGHER, T.STABLE),  # exactly at the threshold is not beyond it
        (13.0, LOWER, T.IMPROVING),
        (7.0, LOWER, T.DEGRADING),
    ],
)
def test_direction_aware(current: float, direction: api.Direction, trend: api.Trend) -> None:
    t = trends.indicator_trend(current=current, baseline=baseline(), direction=direction, spec=SPEC)
    assert t.trend is trend


def test_missing_current_or_baseline_is_unknown() -> None:
    assert (
        trends.indicator_trend(current=None, baseline=baseline(), direction=HIGHER, spec=SPEC).trend
        is T.UNKNOWN
    )
    t = trends.indicator_trend(current=1.0, baseline=None, direction=LOWER, spec=SPEC)
    assert t.trend is T.UNKNOWN and t.direction is LOWER


def test_dimension_trend_is_worst_known() -> None:
    improving = trends.indicator_trend(current=5.0, baseline=baseline(), direction=HIGHER, spec=SPEC)
    degrading_lower = trends.indicator_trend(current=6.0, baseline=baseline(), direction=LOWER, spec=SPEC)
    stable = trends.indicator_trend(current=10.0, baseline=baseline(), direction=HIGHER, spec=SPEC)
    unknown = trends.indicator_trend(current=None, baseline=None, direction=HIGHER, spec=SPEC)
    worst = trends.dimension_trend([improving, stable, degrading_lower, unknown])
    assert worst.trend is T.DEGRADING and worst.z_score == pytest.approx(-4.0)
    assert trends.dimension_trend([improving, unknown]).trend is T.IMPROVING
    assert trends.dimension_trend([unknown, unknown]).trend is T.UNKNOWN
    assert trends.dimension_trend([]).trend is T.UNKNOWN
    assert unknown.worseness == -math.inf
