"""Exhaustion forecasts (domain/forecasting.py)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from maintenance_operator.domain import forecasting


def forecast(**overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "indicator": "memory-usage",
        "current": 0.5,
        "predicted": 0.5 + 0.0002 * 3600,
        "slope": 0.0002,
        "samples": 30,
        "limit": 1.0,
        "horizon_seconds": 3600.0,
        "query": "q",
    }
    fields.update(overrides)
    return forecasting.forecast_exhaustion(**fields)


def test_crossing_within_horizon() -> None:
    f = forecast()
    assert f is not None
    assert f.seconds_to_exhaustion == pytest.approx(2500.0)
    assert f.confidence == 1.0
    assert (f.indicator, f.limit, f.horizon_seconds, f.query) == ("memory-usage", 1.0, 3600.0, "q")


def test_crossing_beyond_horizon_is_none() -> None:
    f = forecast(slope=0.0001, predicted=0.86)
    assert f is not None and f.seconds_to_exhaustion is None


@pytest.mark.parametrize("slope", [0.0, -0.001])
def test_flat_or_falling_never_exhausts(slope: float) -> None:
    f = forecast(slope=slope, predicted=0.5 + slope * 3600)
    assert f is not None and f.seconds_to_exhaustion is None


@pytest.mark.parametrize("current", [1.0, 1.2])
def test_already_exhausted_is_zero(current: float) -> None:
    f = forecast(current=current, slope=-0.1, predicted=current)
    assert f is not None and f.seconds_to_exhaustion == 0.0


@pytest.mark.parametrize("samples", [0, 1])
def test_fewer_than_two_samples_no_forecast(samples: int) -> None:
    assert forecast(samples=samples) is None


@pytest.mark.parametrize("field", ["current", "predicted", "slope", "limit"])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_no_forecast(field: str, bad: float) -> None:
    assert forecast(**{field: bad}) is None


def test_zero_horizon_no_forecast() -> None:
    assert forecast(horizon_seconds=0.0) is None


def test_confidence_grows_with_samples() -> None:
    few, some, many = (forecast(samples=n) for n in (2, 15, 100))
    assert few.confidence < some.confidence < many.confidence == 1.0


def test_confidence_drops_when_predict_linear_disagrees_with_slope() -> None:
    agreeing = forecast()
    disagreeing = forecast(predicted=0.5)  # predict_linear says flat, deriv says growing
    assert disagreeing.confidence < agreeing.confidence
    assert 0.0 <= disagreeing.confidence <= 1.0


def test_confidence_flat_and_equal_is_full() -> None:
    assert (
        forecasting.confidence(samples=30, current=0.0, predicted=0.0, slope=0.0, horizon_seconds=60) == 1.0
    )
