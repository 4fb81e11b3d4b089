"""Trends: how far the current value is from a baseline window, in standard deviations.

z = (current - baseline mean) / max(baseline stddev, epsilon), where epsilon is relative to the mean's
magnitude (0.1 % of |mean|, at least 1e-9) so that a flat baseline gives a large but finite z for any
real change and exactly 0 for no change. Fewer than ``min_samples`` baseline samples, or a non-finite
input, give ``unknown``; z is clamped to +-1e6, so NaN or Inf never leave this module.

Direction-aware: for HigherIsWorse a z beyond +threshold is degrading and beyond -threshold improving;
LowerIsWorse mirrors it. A dimension's trend is its worst indicator's trend (the one with the largest
z on the "worse" side), ignoring unknown indicators unless all are unknown: one degrading signal is
enough to call the dimension degrading.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import judgement as judging

RELATIVE_EPSILON = 1e-3
ABSOLUTE_EPSILON = 1e-9
Z_CLAMP = 1e6


@dataclasses.dataclass(frozen=True)
class Baseline:
    """Statistics of the indicator over the baseline window."""

    mean: float
    stddev: float
    samples: int


@dataclasses.dataclass(frozen=True)
class IndicatorTrend:
    """Trend of one indicator; ``z_score`` is None exactly when the trend is unknown."""

    trend: api.Trend
    z_score: float | None
    direction: api.Direction = api.Direction.HIGHER_IS_WORSE
    message: str = ""

    @property
    def worseness(self) -> float:
        """z on the axis where larger is worse (-inf for unknown, so it never wins a 'worst')."""
        if self.z_score is None:
            return -math.inf
        return judging.badness(self.z_score, self.direction)


UNKNOWN = IndicatorTrend(api.Trend.UNKNOWN, None, message="no baseline")


def epsilon(mean: float) -> float:
    """Smallest standard deviation used: relative to the mean, never zero."""
    return max(abs(mean) * RELATIVE_EPSILON, ABSOLUTE_EPSILON)


def z_score(*, current: float, baseline: Baseline, min_samples: int) -> float | None:
    """Clamped z-score, or None when the baseline is too thin or anything is non-finite."""
    if baseline.samples < min_samples:
        return None
    if not all(math.isfinite(x) for x in (current, baseline.mean, baseline.stddev)):
        return None
    z = (current - baseline.mean) / max(baseline.stddev, epsilon(baseline.mean))
    return max(-Z_CLAMP, min(Z_CLAMP, z))


def indicator_trend(
    *,
    current: float | None,
    baseline: Baseline | None,
    direction: api.Direction,
    spec: api.TrendSpec,
) -> IndicatorTrend:
    """Trend of one indicator against its baseline."""
    if current is None or baseline is None:
        return dataclasses.replace(UNKNOWN, direction=direction)
    z = z_score(current=current, baseline=baseline, min_samples=spec.min_samples)
    if z is None:
        msg = f"baseline has {baseline.samples} samples (need {spec.min_samples}) or non-finite values"
        return IndicatorTrend(api.Trend.UNKNOWN, None, direction, msg)
    worse = judging.badness(z, direction)
    if worse > spec.z_score_threshold:
        trend = api.Trend.DEGRADING
    elif worse < -spec.z_score_threshold:
        trend = api.Trend.IMPROVING
    else:
        trend = api.Trend.STABLE
    return IndicatorTrend(trend, round(z, 3), direction, f"z={z:.3g} vs baseline mean {baseline.mean:.6g}")


def dimension_trend(trends: Sequence[IndicatorTrend]) -> IndicatorTrend:
    """The worst known indicator trend; unknown when none is known."""
    known = [t for t in trends if t.z_score is not None]
    if not known:
        return UNKNOWN
    return max(known, key=lambda t: t.worseness)
