from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maintenance_operator.api.v1alpha1 import Measurement, MeasurementPhase, VerificationSpec
from maintenance_operator.domain import verification
from maintenance_operator.domain.timestamps import rfc3339
from maintenance_operator.domain.verification import VerdictPhase

START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
# Measuring from 12:00:30 to 12:02:30, every 15 s; 1 failure and 2 inconclusive tolerated.
SPEC = VerificationSpec()
S, F, E, INC = (
    MeasurementPhase.SUCCESSFUL,
    MeasurementPhase.FAILED,
    MeasurementPhase.ERROR,
    MeasurementPhase.INCONCLUSIVE,
)


def series(*phases: MeasurementPhase, first: float = 30, step: float = 15) -> list[Measurement]:
    return [
        Measurement(phase=p, at=rfc3339(START + timedelta(seconds=first + i * step)))
        for i, p in enumerate(phases)
    ]


def judge(
    measurements: list[Measurement], *, after: float, spec: VerificationSpec = SPEC
) -> verification.VerificationVerdict:
    return verification.verdict(
        measurements=measurements, spec=spec, started_at=START, now=START + timedelta(seconds=after)
    )


def test_pending_until_the_window_closes() -> None:
    v = judge(series(S, S), after=60)
    assert v.phase is VerdictPhase.PENDING
    assert v.measurement_phase is None


def test_successful_after_the_window() -> None:
    v = judge(series(S, F, S, S), after=150)
    assert v.phase is VerdictPhase.SUCCESSFUL
    assert v.measurement_phase is MeasurementPhase.SUCCESSFUL
    assert (v.successes, v.failures, v.inconclusive) == (3, 1, 0)


def test_window_end_is_inclusive() -> None:
    assert judge(series(S), after=149).phase is VerdictPhase.PENDING
    assert judge(series(S), after=150).phase is VerdictPhase.SUCCESSFUL


@pytest.mark.parametrize("bad", [F, E])
def test_failed_as_soon_as_failures_exceed_the_limit(bad: MeasurementPhase) -> None:
    v = judge(series(bad, S, bad), after=61)
    assert v.phase is VerdictPhase.FAILED
    assert v.failures == 2
    assert "failureLimit is 1" in v.message


def test_failure_limit_zero() -> None:
    assert judge(series(F), after=31, spec=VerificationSpec(failure_limit=0)).phase is VerdictPhase.FAILED


def test_inconclusive_beyond_its_limit() -> None:
    v = judge(series(INC, INC, INC), after=61)
    assert v.phase is VerdictPhase.INCONCLUSIVE
    assert v.measurement_phase is MeasurementPhase.INCONCLUSIVE


def test_failure_outranks_inconclusive() -> None:
    assert judge(series(INC, INC, INC, F, F), after=100).phase is VerdictPhase.FAILED


def test_no_success_in_the_window_is_inconclusive() -> None:
    v = judge(series(INC, F), after=200)
    assert v.phase is VerdictPhase.INCONCLUSIVE
    assert "without a successful measurement" in v.message
    assert judge([], after=200).phase is VerdictPhase.INCONCLUSIVE


def test_measurements_during_the_initial_delay_do_not_count() -> None:
    early = series(F, F, F, first=0, step=5)
    v = judge([*early, *series(S)], after=150)
    assert v.phase is VerdictPhase.SUCCESSFUL
    assert v.failures == 0


def test_next_measurement_due() -> None:
    def due(ms: list[Measurement], after: float) -> datetime | None:
        return verification.next_measurement_due(
            measurements=ms, spec=SPEC, started_at=START, now=START + timedelta(seconds=after)
        )

    assert due([], 0) == START + timedelta(seconds=30)
    assert due(series(S, S), 50) == START + timedelta(seconds=60)
    assert due(series(S, first=140), 145) == START + timedelta(seconds=150)  # capped at the window's end
    assert due(series(F, F), 50) is None  # decided
    assert due(series(S), 150) is None


def test_window_helpers() -> None:
    assert verification.measuring_starts(SPEC, START) == START + timedelta(seconds=30)
    assert verification.window_ends(SPEC, START) == START + timedelta(seconds=150)


# Look-back: no measurement may see samples from before the change


@pytest.mark.parametrize(
    ("query", "seconds"),
    [
        ("up", 0),
        ('sum(rate(x{a="[b]"}[1m]))', 60),
        ("sum(rate(errors[2m])) / sum(rate(requests[30s]))", 120),
        ("max_over_time(rate(x[1m])[5m:30s])", 300),
        ("histogram_quantile(0.95, sum by (le) (rate(b[1h30m])))", 5400),
        ("rate(x[500ms])", 0.5),
        ("rate(x[1m] offset 2m)", 180),
        ("increase(x[1d])", 86400),
    ],
)
def test_lookback_of_a_query(query: str, seconds: float) -> None:
    assert verification.lookback_seconds(query) == seconds


def test_initial_delay_is_raised_to_the_longest_lookback() -> None:
    spec = VerificationSpec(initial_delay="15s")
    raised = verification.effective_spec(spec, ["rate(a[1m])", "rate(b[30s])"])
    assert raised.initial_delay == "60s"
    assert raised.window == spec.window and raised.interval == spec.interval
    # measurements 16 s and 20 s after the change still see the fault's samples: they are not counted
    early = series(F, F, first=16, step=4)
    assert judge(early, after=25, spec=spec).phase is VerdictPhase.FAILED
    assert judge(early, after=25, spec=raised).phase is VerdictPhase.PENDING
    assert verification.next_measurement_due(
        measurements=early, spec=raised, started_at=START, now=START + timedelta(seconds=25)
    ) == START + timedelta(seconds=60)


def test_initial_delay_is_never_lowered() -> None:
    spec = VerificationSpec(initial_delay="2m")
    assert verification.effective_spec(spec, ["rate(a[1m])"]) is spec
    assert verification.effective_spec(spec, []) is spec


def test_delay_notice_names_the_slow_indicators() -> None:
    spec = VerificationSpec(initial_delay="30s")
    notice = verification.delay_notice(
        spec, [("errors", "rate(a[1m])"), ("up", "up"), ("lat", "rate(b[15s])")]
    )
    assert notice is not None and "errors 60s" in notice and "lat" not in notice and "up" not in notice
    assert verification.delay_notice(spec, [("lat", "rate(b[15s])")]) is None
