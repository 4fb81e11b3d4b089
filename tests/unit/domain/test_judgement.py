"""Judging one measurement and carrying breach state (domain/judgement.py)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import judgement as judging
from maintenance_operator.domain import timestamps

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
P = api.MeasurementPhase
L = judging.Level


def indicator(**overrides: Any) -> api.Indicator:
    fields: dict[str, Any] = {
        "name": "error-ratio",
        "dimension": "core",
        "query": "q",
        "warning": 0.01,
        "critical": 0.05,
    }
    fields.update(overrides)
    return api.Indicator.model_validate(fields)


LOWER = {"direction": "LowerIsWorse", "warning": 1, "critical": 0.5}


@pytest.mark.parametrize(
    ("values", "overrides", "phase", "level", "value"),
    [
        ([0.001], {}, P.SUCCESSFUL, L.OK, 0.001),
        ([0.01], {}, P.SUCCESSFUL, L.OK, 0.01),  # at warning is not beyond it
        ([0.02], {}, P.SUCCESSFUL, L.WARNING, 0.02),
        ([0.05], {}, P.SUCCESSFUL, L.WARNING, 0.05),
        ([0.06], {}, P.FAILED, L.CRITICAL, 0.06),
        ([math.inf], {}, P.FAILED, L.CRITICAL, math.inf),
        ([-math.inf], {}, P.SUCCESSFUL, L.OK, -math.inf),
        ([0.001, 0.2, 0.02], {}, P.FAILED, L.CRITICAL, 0.2),  # worst series, HigherIsWorse: max
        ([math.nan, 0.02], {}, P.SUCCESSFUL, L.WARNING, 0.02),  # NaN series ignored when others have data
        ([1.0], LOWER, P.SUCCESSFUL, L.OK, 1.0),
        ([0.75], LOWER, P.SUCCESSFUL, L.WARNING, 0.75),
        ([1.0, 0.0], LOWER, P.FAILED, L.CRITICAL, 0.0),  # worst series, LowerIsWorse: min
        ([-math.inf], LOWER, P.FAILED, L.CRITICAL, -math.inf),
        ([math.inf], LOWER, P.SUCCESSFUL, L.OK, math.inf),
    ],
)
def test_judge_values(
    values: list[float],
    overrides: dict[str, Any],
    phase: api.MeasurementPhase,
    level: judging.Level,
    value: float,
) -> None:
    j = judging.judge(values=values, error=None, indicator=indicator(**overrides))
    assert (j.phase, j.level, j.value, j.series) == (phase, level, value, len(values))
    assert j.degraded is (level is not L.OK)
    assert (j.message == "") is (level is L.OK)


def test_query_error_is_error_never_failed() -> None:
    j = judging.judge(
        values=[99.0], error="bad_data: parse error", indicator=indicator(noDataPolicy="Failed")
    )
    assert j.phase is P.ERROR
    assert j.level is None and j.value is None
    assert "bad_data" in j.message


@pytest.mark.parametrize("values", [[], [math.nan], [math.nan, math.nan]])
@pytest.mark.parametrize(
    ("policy", "phase", "level"),
    [
        ("Inconclusive", P.INCONCLUSIVE, None),
        ("Healthy", P.SUCCESSFUL, L.OK),
        ("Failed", P.FAILED, L.CRITICAL),
    ],
)
def test_no_data_follows_policy(
    values: list[float], policy: str, phase: api.MeasurementPhase, level: judging.Level | None
) -> None:
    j = judging.judge(values=values, error=None, indicator=indicator(noDataPolicy=policy))
    assert (j.phase, j.level, j.value) == (phase, level, None)
    assert ("no data" if not values else "NaN") in j.message


def test_no_data_default_is_inconclusive() -> None:
    assert judging.judge(values=[], error=None, indicator=indicator()).phase is P.INCONCLUSIVE


def test_measurement_carries_phase_value_and_time() -> None:
    j = judging.judge(values=[0.06], error=None, indicator=indicator())
    m = j.measurement(NOW)
    assert (m.phase, m.value, m.at) == (P.FAILED, 0.06, "2025-01-01T12:00:00Z")
    assert "critical" in m.message


def _j(values: list[float] | None, ind: api.Indicator | None = None) -> judging.Judgement:
    return judging.judge(
        values=values or [], error=None if values is not None else "x", indicator=ind or indicator()
    )


def test_advance_state_starts_breach_on_degraded_and_keeps_its_start() -> None:
    ind = indicator()
    s1 = judging.advance_state(None, _j([0.02]), indicator=ind, now=NOW)
    assert s1.name == "error-ratio" and s1.breaching_since == "2025-01-01T12:00:00Z"
    s2 = judging.advance_state(s1, _j([0.2]), indicator=ind, now=NOW + timedelta(minutes=1))
    assert s2.breaching_since == s1.breaching_since


def test_advance_state_clears_breach_on_healthy_and_records_last_good() -> None:
    ind = indicator()
    s1 = judging.advance_state(None, _j([0.2]), indicator=ind, now=NOW)
    s2 = judging.advance_state(s1, _j([0.001]), indicator=ind, now=NOW)
    assert s2.breaching_since is None and s2.last_good_value == 0.001


def test_advance_state_healthy_without_value_keeps_last_good() -> None:
    ind = indicator(noDataPolicy="Healthy")
    s0 = api.IndicatorState(name="error-ratio", last_good_value=0.003, breaching_since="2025-01-01T11:00:00Z")
    s1 = judging.advance_state(s0, _j([], ind), indicator=ind, now=NOW)
    assert s1.last_good_value == 0.003 and s1.breaching_since is None


def test_advance_state_counts_errors_and_resets_on_answer() -> None:
    ind = indicator()
    s = None
    for _ in range(3):
        s = judging.advance_state(s, _j(None), indicator=ind, now=NOW)
    assert s is not None and s.consecutive_errors == 3
    assert judging.advance_state(s, _j([0.001]), indicator=ind, now=NOW).consecutive_errors == 0


def test_missing_data_neither_starts_nor_ends_a_breach() -> None:
    ind = indicator()
    breaching = api.IndicatorState(
        name="error-ratio", breaching_since="2025-01-01T11:00:00Z", consecutive_errors=2
    )
    after_empty = judging.advance_state(breaching, _j([]), indicator=ind, now=NOW)
    assert after_empty.breaching_since == "2025-01-01T11:00:00Z" and after_empty.consecutive_errors == 0
    after_error = judging.advance_state(breaching, _j(None), indicator=ind, now=NOW)
    assert after_error.breaching_since == "2025-01-01T11:00:00Z" and after_error.consecutive_errors == 3
    fresh = judging.advance_state(None, _j([]), indicator=ind, now=NOW)
    assert fresh.breaching_since is None


@pytest.mark.parametrize(("errors", "phase"), [(1, P.INCONCLUSIVE), (4, P.INCONCLUSIVE), (5, P.ERROR)])
def test_effective_error_only_beyond_consecutive_error_limit(
    errors: int, phase: api.MeasurementPhase
) -> None:
    ind = indicator(consecutiveErrorLimit=4)
    state = api.IndicatorState(name="error-ratio", consecutive_errors=errors)
    e = judging.effective(_j(None), state, ind)
    assert e.phase is phase
    assert f"{errors}" in e.message


def test_effective_limit_zero_makes_first_error_an_error() -> None:
    state = api.IndicatorState(name="error-ratio", consecutive_errors=1)
    assert judging.effective(_j(None), state, indicator(consecutiveErrorLimit=0)).phase is P.ERROR


def test_effective_passes_answers_through() -> None:
    j = _j([0.2])
    assert (
        judging.effective(j, api.IndicatorState(name="error-ratio", consecutive_errors=9), indicator()) is j
    )


@pytest.mark.parametrize(
    ("for_", "since", "expected"),
    [
        ("0s", None, False),
        ("0s", NOW, True),
        ("1m", NOW - timedelta(seconds=59), False),
        ("1m", NOW - timedelta(seconds=60), True),
        ("1m", NOW - timedelta(minutes=5), True),
    ],
)
def test_sustained(for_: str, since: datetime | None, expected: bool) -> None:
    state = api.IndicatorState(
        name="error-ratio", breaching_since=timestamps.rfc3339(since) if since else None
    )
    assert judging.sustained(state, indicator(**{"for": for_}), NOW) is expected


def test_worst_value_all_nan_is_none() -> None:
    assert judging.worst_value([math.nan], api.Direction.HIGHER_IS_WORSE) is None
    assert judging.worst_value([], api.Direction.LOWER_IS_WORSE) is None
