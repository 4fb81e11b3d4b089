"""Scores 1-10: per indicator, per dimension, overall.

Indicator score (on the "badness" axis, where larger is worse whatever the direction), one linear piece
per level so that the score bands match the judgement:

- ok band: 10 at or below a healthy baseline, falling linearly to 8 at the warning threshold;
- warning band (beyond warning): 7 just beyond warning, falling linearly to 4 at critical;
- critical band (beyond critical): 4 just beyond critical, falling linearly to 1 at "well beyond"
  (critical + 2 x the warning-critical span), and 1 from there on (also for +Inf).

So every healthy indicator scores >= 8, any degraded one <= 7 and any Failed one <= 4: the score is
monotonic (non-increasing in badness), piecewise linear, with a step of 1 at each threshold. The
healthy baseline is warning / 2 for a positive HigherIsWorse warning (e.g. error ratio 0.01 -> 0.005),
otherwise one span on the healthy side of warning.

Dimension score: 0.7 x worst + 0.3 x mean of its scored indicators, so the worst indicator dominates
(one Failed indicator pulls a dimension below 5.5 whatever the others say) while the rest still count.
Overall: weighted mean of the known dimensions; weights of dimensions without data are redistributed
proportionally over the known ones (``effective_weight``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import judgement as judging

HEALTH_ALERT_BELOW = 7.0
HEALTHY_AT_LEAST = 8.0
WORST_SHARE = 0.7
INSUFFICIENT_DATA = "insufficient data"


def span(indicator: api.Indicator) -> float:
    """Distance between warning and critical (or a sensible unit when they coincide)."""
    gap = abs(indicator.critical - indicator.warning)
    return gap if gap > 0 else max(abs(indicator.critical), 1.0) / 2


def healthy_baseline(indicator: api.Indicator) -> float:
    """Badness at and below which an indicator scores 10."""
    warning = judging.badness(indicator.warning, indicator.direction)
    if indicator.direction is api.Direction.HIGHER_IS_WORSE and indicator.warning > 0:
        return indicator.warning / 2
    return warning - span(indicator)


def _linear(x: float, *, x0: float, x1: float, y0: float, y1: float) -> float:
    """y on the segment (x0, y0)-(x1, y1), clamped to it."""
    if x <= x0:
        return y0
    if x >= x1:
        return y1
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def score_value(value: float, indicator: api.Indicator) -> float:
    """Score 1-10 of a (non-NaN) value; see the module docstring for the curve."""
    bad = judging.badness(value, indicator.direction)
    warning = judging.badness(indicator.warning, indicator.direction)
    critical = judging.badness(indicator.critical, indicator.direction)
    level = judging.level_of(value, indicator)
    if level is judging.Level.OK:
        # The baseline is always strictly on the healthy side of warning (span > 0, warning / 2 < warning).
        return round(_linear(bad, x0=healthy_baseline(indicator), x1=warning, y0=10.0, y1=8.0), 2)
    if level is judging.Level.WARNING:
        return round(_linear(bad, x0=warning, x1=critical, y0=7.0, y1=4.0), 2)
    return round(_linear(bad, x0=critical, x1=critical + 2 * span(indicator), y0=4.0, y1=1.0), 2)


def score_indicator(judgement: judging.Judgement, indicator: api.Indicator) -> float | None:
    """Score of a judgement; None when it says nothing about health (Error, Inconclusive)."""
    if judgement.level is None:
        return None
    if judgement.value is None or math.isnan(judgement.value):
        # noDataPolicy decided: Healthy scores as healthy, Failed as far beyond critical.
        return 10.0 if judgement.level is judging.Level.OK else 1.0
    return score_value(judgement.value, indicator)


def score_dimension(scores: Sequence[float]) -> float | None:
    """0.7 x min + 0.3 x mean of the indicator scores; None without any."""
    if not scores:
        return None
    blended = WORST_SHARE * min(scores) + (1 - WORST_SHARE) * (sum(scores) / len(scores))
    return round(blended, 2)


def score_dimensions(
    *, results: Sequence[api.IndicatorResult], weights: api.DimensionWeights
) -> list[api.DimensionScore]:
    """One DimensionScore per dimension (all five, in weight order), with effective weights."""
    by_dimension: dict[api.Dimension, list[float]] = {d: [] for d in api.Dimension}
    for result in results:
        if result.score is not None:
            by_dimension[result.dimension].append(result.score)
    configured = weights.as_dict()
    scores = {d: score_dimension(s) for d, s in by_dimension.items()}
    effective = effective_weights(scores=scores, weights=configured)
    out = []
    for dimension in api.Dimension:
        score = scores[dimension]
        out.append(
            api.DimensionScore(
                dimension=dimension,
                score=score,
                weight=configured[dimension],
                effective_weight=effective[dimension],
                indicators=len(by_dimension[dimension]),
                message=INSUFFICIENT_DATA if score is None else "",
            )
        )
    return out


def effective_weights(
    *, scores: Mapping[api.Dimension, float | None], weights: Mapping[api.Dimension, int]
) -> dict[api.Dimension, float]:
    """Weights in percent after giving unknown dimensions' weight to the known ones, proportionally.
    All zero when no known dimension carries weight."""
    known = sum(w for d, w in weights.items() if scores.get(d) is not None)
    if known <= 0:
        return {d: 0.0 for d in weights}
    return {d: (round(w * 100 / known, 4) if scores.get(d) is not None else 0.0) for d, w in weights.items()}


def overall_score(dimensions: Sequence[api.DimensionScore]) -> float | None:
    """Weighted mean of the known dimension scores; None when no dimension is known (or weighted)."""
    known = [d for d in dimensions if d.score is not None and d.effective_weight > 0]
    if not known:
        return None
    total = sum(d.effective_weight for d in known)
    return round(sum(d.score * d.effective_weight for d in known if d.score is not None) / total, 2)


def health_alert(overall: float | None, *, threshold: float = HEALTH_ALERT_BELOW) -> bool:
    """The seed's HIGH health alert: overall below `threshold`, 7.0 by default (never on an unknown score:
    no action on missing data)."""
    return overall is not None and overall < threshold


def health_alert_reason(overall: float | None) -> str:
    """The reason of the HealthAlert condition, the same on the assessment and on its policy."""
    if overall is None:
        return "InsufficientData"
    return "ScoreBelow7" if health_alert(overall) else "ScoreOK"


def is_healthy(overall: float | None, issues: Sequence[api.Issue]) -> bool | None:
    """Healthy = overall >= 8.0 and no issues; None when the overall score is unknown."""
    if overall is None:
        return None
    return overall >= HEALTHY_AT_LEAST and not issues
