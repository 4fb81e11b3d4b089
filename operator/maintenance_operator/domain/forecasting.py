"""Exhaustion forecasts of a growing gauge from predict_linear and deriv.

Inputs are what Prometheus gives: the current value, ``predict_linear`` at the horizon, the slope
(``deriv``, per second) and the number of samples in the lookback. Guarantees:

- no forecast (None) with fewer than 2 samples or any non-finite input (predict_linear/deriv are
  meaningless then);
- already at or beyond the limit: ``seconds_to_exhaustion`` = 0;
- zero or negative slope: never exhausted (None);
- otherwise the time at which ``current + slope * t`` reaches the limit, if within the horizon.

Confidence (0-1) = sample factor x agreement: the sample factor grows linearly to 1 at 30 samples; the
agreement compares predict_linear's value with the straight line from the current value and slope
(they differ when the recent values stray from the fitted line).
"""

from __future__ import annotations

import math

from maintenance_operator.api import v1alpha1 as api

FULL_CONFIDENCE_SAMPLES = 30


def confidence(
    *, samples: int, current: float, predicted: float, slope: float, horizon_seconds: float
) -> float:
    """0-1 confidence from sample count and agreement of predict_linear with the slope line."""
    sample_factor = min(1.0, max(0, samples - 1) / (FULL_CONFIDENCE_SAMPLES - 1))
    line = current + slope * horizon_seconds
    scale = max(abs(line - current), abs(predicted - current), abs(current) * 1e-3, 1e-9)
    agreement = max(0.0, 1.0 - abs(line - predicted) / scale)
    return round(max(0.0, min(1.0, sample_factor * agreement)), 3)


def seconds_to_exhaustion(
    *, current: float, slope: float, limit: float, horizon_seconds: float
) -> float | None:
    """Seconds until the line reaches the limit, if within the horizon; 0 if already there."""
    if current >= limit:
        return 0.0
    if slope <= 0:
        return None
    seconds = (limit - current) / slope
    return round(seconds, 1) if seconds <= horizon_seconds else None


def forecast_exhaustion(
    *,
    indicator: str,
    current: float,
    predicted: float,
    slope: float,
    samples: int,
    limit: float,
    horizon_seconds: float,
    query: str,
) -> api.Forecast | None:
    """A Forecast, or None when the data cannot support one (see module docstring)."""
    if samples < 2 or horizon_seconds <= 0:
        return None
    if not all(math.isfinite(x) for x in (current, predicted, slope, limit)):
        return None
    return api.Forecast(
        indicator=indicator,
        current=current,
        limit=limit,
        predicted=predicted,
        seconds_to_exhaustion=seconds_to_exhaustion(
            current=current, slope=slope, limit=limit, horizon_seconds=horizon_seconds
        ),
        horizon_seconds=horizon_seconds,
        confidence=confidence(
            samples=samples,
            current=current,
            predicted=predicted,
            slope=slope,
            horizon_seconds=horizon_seconds,
        ),
        query=query,
    )
