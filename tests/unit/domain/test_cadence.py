"""When each analysis is due (domain/cadence.py)."""

from __future__ import annotations

import pytest

from maintenance_operator.domain import cadence

A = cadence.Analysis
DAY = cadence.DAY


@pytest.mark.parametrize(
    ("analysis", "last", "now", "interval", "fingerprint", "due", "reason", "next_due"),
    [
        (A.CAPACITY, cadence.LastRun(), 100.0, None, "", True, "never ran", 100 + DAY),
        (A.CAPACITY, cadence.LastRun(at=0.0), DAY - 1, None, "", False, "not yet due", DAY),
        (A.CAPACITY, cadence.LastRun(at=0.0), DAY, None, "", True, "interval elapsed", 2 * DAY),
        (A.SECURITY, cadence.LastRun(at=0.0), 3600.0, 1800.0, "", True, "interval elapsed", 5400.0),
        (A.CONFIG_AUDIT, cadence.LastRun(at=0.0), DAY, None, "", False, "not yet due", 7 * DAY),
        (A.CONFIG_AUDIT, cadence.LastRun(0.0, "g1"), DAY, None, "g2", True, "target changed", 8 * DAY),
        (A.CONFIG_AUDIT, cadence.LastRun(0.0, "g1"), DAY, None, "g1", False, "not yet due", 7 * DAY),
        # Only the configuration audit reacts to target changes.
        (A.SECURITY, cadence.LastRun(0.0, "g1"), 10.0, None, "g2", False, "not yet due", DAY),
    ],
)
def test_decide(
    analysis: cadence.Analysis,
    last: cadence.LastRun,
    now: float,
    interval: float | None,
    fingerprint: str,
    due: bool,
    reason: str,
    next_due: float,
) -> None:
    d = cadence.decide(
        analysis=analysis, last=last, now=now, interval=interval, target_fingerprint=fingerprint
    )
    assert (d.due, d.reason, d.next_due) == (due, reason, next_due)


def test_disabled_is_never_due() -> None:
    d = cadence.decide(analysis=A.CAPACITY, last=cadence.LastRun(), now=0.0, enabled=False)
    assert d == cadence.Decision(False, "disabled", None)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2030-03-17T17:46:40Z", 1_900_000_000.0),
        ("2030-03-17T17:46:40+00:00", 1_900_000_000.0),
        ("", None),
        (None, None),
        ("yesterday", None),
    ],
)
def test_epoch(text: object, seconds: float | None) -> None:
    assert cadence.epoch(text) == seconds


def test_iso_round_trips() -> None:
    assert cadence.iso(1_900_000_000.0) == "2030-03-17T17:46:40Z"
    assert cadence.epoch(cadence.iso(1_900_000_000.0)) == 1_900_000_000.0
