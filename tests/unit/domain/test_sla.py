from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from maintenance_operator.api.v1alpha1 import Severity, SeverityDurations, SLASpec
from maintenance_operator.domain import sla

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
SPEC = SLASpec()
S = sla.SLAState
N = sla.Notice


def minutes(m: float) -> datetime:
    return T0 + timedelta(minutes=m)


@pytest.mark.parametrize(
    ("severity", "response", "resolution"),
    [
        (Severity.CRITICAL, 15, 15),
        (Severity.HIGH, 60, 60),
        (Severity.MEDIUM, 240, 240),
        (Severity.LOW, 1440, 1440),
    ],
)
def test_framework_defaults(severity: Severity, response: int, resolution: int) -> None:
    due = sla.deadlines(SPEC, severity=severity, detected_at=T0)
    assert due.response_due == minutes(response)
    assert due.resolution_due == minutes(resolution)


def test_custom_targets_are_per_severity() -> None:
    spec = SLASpec(
        response=SeverityDurations(critical="5m", high="30m", medium="2h", low="8h"),
        resolution=SeverityDurations(critical="30m", high="2h", medium="8h", low="48h"),
    )
    due = sla.deadlines(spec, severity=Severity.HIGH, detected_at=T0)
    assert (due.response_due, due.resolution_due) == (minutes(30), minutes(120))


def test_resolution_shorter_than_response_is_refused() -> None:
    with pytest.raises(ValidationError, match="must not be shorter"):
        SLASpec(response=SeverityDurations(critical="1h", high="1h", medium="4h", low="24h"))


@pytest.mark.parametrize(
    ("now", "done", "expected"),
    [
        (0, None, S.ON_TRACK),
        (11, None, S.ON_TRACK),
        (11.25, None, S.AT_RISK),  # exactly 75 % of 15 minutes
        (15, None, S.AT_RISK),  # due instant still counts as in time
        (15.01, None, S.BREACHED),
        (20, 14, S.MET),
        (20, 15, S.MET),
        (20, 16, S.MISSED),
    ],
)
def test_clock(now: float, done: float | None, expected: sla.SLAState) -> None:
    state = sla.clock(
        start=T0,
        due=minutes(15),
        done_at=None if done is None else minutes(done),
        now=minutes(now),
        at_risk_fraction=0.75,
    )
    assert state is expected


@pytest.mark.parametrize(
    ("responded", "resolved", "now", "expected"),
    [
        (None, None, 5, (S.ON_TRACK, S.ON_TRACK)),
        (None, None, 50, (S.AT_RISK, S.AT_RISK)),
        (10, None, 50, (S.MET, S.AT_RISK)),
        (10, None, 70, (S.MET, S.BREACHED)),
        (None, 30, 70, (S.MET, S.MET)),  # resolving also answers the response clock
        (65, 90, 100, (S.MISSED, S.MISSED)),
    ],
)
def test_standing(
    responded: float | None, resolved: float | None, now: float, expected: tuple[sla.SLAState, sla.SLAState]
) -> None:
    due = sla.deadlines(SPEC, severity=Severity.HIGH, detected_at=T0)
    got = sla.standing(
        SPEC,
        due=due,
        responded_at=None if responded is None else minutes(responded),
        resolved_at=None if resolved is None else minutes(resolved),
        now=minutes(now),
    )
    assert (got.response, got.resolution) == expected


def test_worst_orders_missed_before_met() -> None:
    assert sla.Standing(response=S.MISSED, resolution=S.ON_TRACK).worst is S.MISSED
    assert sla.Standing(response=S.MET, resolution=S.AT_RISK).worst is S.AT_RISK


@pytest.mark.parametrize(
    ("response", "resolution", "sent", "last", "now", "expected"),
    [
        (S.ON_TRACK, S.ON_TRACK, set(), None, 0, None),
        (S.AT_RISK, S.AT_RISK, set(), None, 0, N.AT_RISK),
        (S.AT_RISK, S.AT_RISK, {N.AT_RISK}, 0, 30, None),  # reminder interval (1h) not yet over
        (S.AT_RISK, S.AT_RISK, {N.AT_RISK}, 0, 60, N.REMINDER),
        (S.BREACHED, S.AT_RISK, {N.AT_RISK}, 0, 1, N.BREACHED),  # a breach is said at once
        (S.BREACHED, S.BREACHED, set(), None, 0, N.BREACHED),  # breach without prior warning: no at-risk
        (S.BREACHED, S.BREACHED, {N.BREACHED}, 0, 59, None),
        (S.BREACHED, S.BREACHED, {N.BREACHED}, 0, 61, N.REMINDER),
        (S.MET, S.ON_TRACK, set(), None, 0, None),
        (S.MET, S.MET, {N.BREACHED}, 0, 600, None),  # resolved: nothing more
        (S.MISSED, S.MISSED, {N.BREACHED}, 0, 600, None),
        (S.MISSED, S.BREACHED, set(), None, 0, N.BREACHED),
    ],
)
def test_notice_due(
    response: sla.SLAState,
    resolution: sla.SLAState,
    sent: set[sla.Notice],
    last: float | None,
    now: float,
    expected: sla.Notice | None,
) -> None:
    got = sla.notice_due(
        SPEC,
        state=sla.Standing(response=response, resolution=resolution),
        sent=frozenset(sent),
        last_sent_at=None if last is None else minutes(last),
        now=minutes(now),
    )
    assert got is expected


@pytest.mark.parametrize(
    ("opens", "expected"),
    [(None, True), (239, False), (240, False), (241, True), (22 * 60, True)],
)
def test_medium_issue_goes_to_approval_when_window_is_too_far(opens: float | None, expected: bool) -> None:
    due = sla.deadlines(SPEC, severity=Severity.MEDIUM, detected_at=T0)
    got = sla.window_too_far(
        next_window_opens=None if opens is None else minutes(opens), response_due=due.response_due
    )
    assert got is expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [(30, sla.ExpiryAction.RERAISE), (60, sla.ExpiryAction.ESCALATE), (90, sla.ExpiryAction.ESCALATE)],
)
def test_expired_approval_is_reraised_then_escalated(now: float, expected: sla.ExpiryAction) -> None:
    due = sla.deadlines(SPEC, severity=Severity.HIGH, detected_at=T0)
    assert sla.on_approval_expired(due=due, now=minutes(now)) is expected


@pytest.mark.parametrize(("now", "expected"), [(60, False), (1440, False), (1441, True)])
def test_backlog_overdue(now: float, expected: bool) -> None:
    due = sla.deadlines(SPEC, severity=Severity.LOW, detected_at=T0)
    assert sla.backlog_overdue(due=due, now=minutes(now)) is expected


def test_elapsed_counts_from_detection_and_never_negative() -> None:
    assert sla.elapsed_seconds(detected_at=T0, at=minutes(2)) == 120.0
    assert sla.elapsed_seconds(detected_at=T0, at=minutes(-1)) == 0.0
