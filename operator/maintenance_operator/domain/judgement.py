"""Judge one indicator measurement, Argo Rollouts style, and carry breach state between assessments.

A measurement is Successful, Failed, Inconclusive or Error:

- a query error is Error, never Failed (we do not act on a broken query);
- an empty result or NaN everywhere follows the indicator's noDataPolicy (default Inconclusive: missing
  data is never healthy by default);
- +Inf / -Inf are values and are judged by direction (+Inf is the worst HigherIsWorse value);
- with several series, the worst series is judged (max for HigherIsWorse, min for LowerIsWorse).

Thresholds breach when the value is strictly *beyond* them. Beyond critical is Failed; beyond warning
but not critical keeps the Successful phase (Argo has no "degraded" phase) with ``Level.WARNING`` kept
alongside for scoring and classification.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import timestamps


class Level(StrEnum):
    """How far a value is from healthy, independent of the phase."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclasses.dataclass(frozen=True)
class Judgement:
    """One judged measurement. ``level`` is None exactly when the phase says nothing about health."""

    phase: api.MeasurementPhase
    level: Level | None
    value: float | None
    series: int
    message: str = ""

    @property
    def degraded(self) -> bool:
        """True when beyond warning (or critical)."""
        return self.level in (Level.WARNING, Level.CRITICAL)

    def measurement(self, at: datetime) -> api.Measurement:
        """The API form of this judgement at ``at``."""
        return api.Measurement(
            phase=self.phase, value=self.value, at=timestamps.rfc3339(at), message=self.message[:1024]
        )


def badness(value: float, direction: api.Direction) -> float:
    """The value on an axis where larger is always worse."""
    return value if direction is api.Direction.HIGHER_IS_WORSE else -value


def worst_value(values: Sequence[float], direction: api.Direction) -> float | None:
    """The worst non-NaN value, or None if there is none. Infinities are values."""
    usable = [v for v in values if not math.isnan(v)]
    if not usable:
        return None
    return max(usable, key=lambda v: badness(v, direction))


def level_of(value: float, indicator: api.Indicator) -> Level:
    """Level of a (non-NaN) value: beyond critical, beyond warning, or ok."""
    bad = badness(value, indicator.direction)
    if bad > badness(indicator.critical, indicator.direction):
        return Level.CRITICAL
    if bad > badness(indicator.warning, indicator.direction):
        return Level.WARNING
    return Level.OK


def _comparison(direction: api.Direction) -> str:
    return ">" if direction is api.Direction.HIGHER_IS_WORSE else "<"


def judge(*, values: Sequence[float], error: str | None, indicator: api.Indicator) -> Judgement:
    """Judge a query outcome. ``error`` set means the query failed (values are then ignored)."""
    if error is not None:
        return Judgement(api.MeasurementPhase.ERROR, None, None, 0, f"query error: {error}")
    value = worst_value(values, indicator.direction)
    if value is None:
        what = "no data" if not values else "NaN in every series"
        policy = indicator.no_data_policy
        if policy is api.NoDataPolicy.HEALTHY:
            return Judgement(api.MeasurementPhase.SUCCESSFUL, Level.OK, None, len(values), f"{what}: Healthy")
        if policy is api.NoDataPolicy.FAILED:
            return Judgement(
                api.MeasurementPhase.FAILED, Level.CRITICAL, None, len(values), f"{what}: Failed"
            )
        return Judgement(api.MeasurementPhase.INCONCLUSIVE, None, None, len(values), f"{what}: Inconclusive")
    level = level_of(value, indicator)
    cmp = _comparison(indicator.direction)
    if level is Level.CRITICAL:
        msg = f"{value:.6g} {cmp} critical {indicator.critical:g}"
        return Judgement(api.MeasurementPhase.FAILED, level, value, len(values), msg)
    if level is Level.WARNING:
        msg = f"{value:.6g} {cmp} warning {indicator.warning:g}"
        return Judgement(api.MeasurementPhase.SUCCESSFUL, level, value, len(values), msg)
    return Judgement(api.MeasurementPhase.SUCCESSFUL, level, value, len(values))


def advance_state(
    state: api.IndicatorState | None,
    judgement: Judgement,
    *,
    indicator: api.Indicator,
    now: datetime,
) -> api.IndicatorState:
    """The indicator's carry-over after this judgement.

    Errors count up (and reset on any answered query); a breach starts on the first degraded or Failed
    judgement and ends on a healthy one. Missing data (Error, Inconclusive) neither starts nor ends a
    breach: we never decide anything from missing data.
    """
    previous = state or api.IndicatorState(name=indicator.name)
    if judgement.phase is api.MeasurementPhase.ERROR:
        return previous.model_copy(update={"consecutive_errors": previous.consecutive_errors + 1})
    if judgement.level is None:
        return previous.model_copy(update={"consecutive_errors": 0})
    if judgement.degraded:
        since = previous.breaching_since or timestamps.rfc3339(now)
        return previous.model_copy(update={"consecutive_errors": 0, "breaching_since": since})
    return previous.model_copy(
        update={
            "consecutive_errors": 0,
            "breaching_since": None,
            "last_good_value": judgement.value if judgement.value is not None else previous.last_good_value,
        }
    )


def effective(judgement: Judgement, state: api.IndicatorState, indicator: api.Indicator) -> Judgement:
    """The judgement the assessment uses: Error only after more than consecutiveErrorLimit errors in a row;
    tolerated errors are Inconclusive (no score, no issue)."""
    if judgement.phase is not api.MeasurementPhase.ERROR:
        return judgement
    limit = indicator.consecutive_error_limit
    if state.consecutive_errors > limit:
        msg = f"{judgement.message} ({state.consecutive_errors} errors in a row, limit {limit})"
        return dataclasses.replace(judgement, message=msg)
    msg = f"{judgement.message} (tolerated: {state.consecutive_errors} of {limit} errors in a row)"
    return dataclasses.replace(judgement, phase=api.MeasurementPhase.INCONCLUSIVE, message=msg)


def sustained(state: api.IndicatorState, indicator: api.Indicator, now: datetime) -> bool:
    """True when the indicator has breached for at least its ``for`` duration (0s: any breach)."""
    if state.breaching_since is None:
        return False
    elapsed = (now - timestamps.parse(state.breaching_since)).total_seconds()
    return elapsed >= api.parse_duration(indicator.for_)
