"""Response and resolution SLAs: deadlines, at-risk/breached state, and what must be said or done before a
deadline is missed. Every clock starts at the issue's detectedAt (when the breach began)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from maintenance_operator.api.v1alpha1 import Severity, SLASpec, parse_duration


class SLAState(StrEnum):
    """Where one clock stands."""

    ON_TRACK = "OnTrack"
    AT_RISK = "AtRisk"
    BREACHED = "Breached"
    MET = "Met"
    MISSED = "Missed"


class Notice(StrEnum):
    """A notification an open issue is owed."""

    AT_RISK = "SLAAtRisk"
    BREACHED = "SLABreached"
    REMINDER = "Reminder"


class ExpiryAction(StrEnum):
    """What happens to an approval request that expired unanswered."""

    RERAISE = "ReRaise"
    ESCALATE = "Escalate"


@dataclass(frozen=True)
class Deadlines:
    """When the response and the resolution of one issue are due."""

    detected_at: datetime
    response_due: datetime
    resolution_due: datetime


@dataclass(frozen=True)
class Standing:
    """Both clocks of one issue at one instant."""

    response: SLAState
    resolution: SLAState

    @property
    def worst(self) -> SLAState:
        order = [SLAState.MISSED, SLAState.BREACHED, SLAState.AT_RISK, SLAState.ON_TRACK, SLAState.MET]
        return min(self.response, self.resolution, key=order.index)


def deadlines(spec: SLASpec, *, severity: Severity, detected_at: datetime) -> Deadlines:
    """Deadlines of an issue of `severity` detected at `detected_at`."""
    return Deadlines(
        detected_at=detected_at,
        response_due=detected_at + timedelta(seconds=parse_duration(spec.response.of(severity))),
        resolution_due=detected_at + timedelta(seconds=parse_duration(spec.resolution.of(severity))),
    )


def clock(
    *, start: datetime, due: datetime, done_at: datetime | None, now: datetime, at_risk_fraction: float
) -> SLAState:
    """State of one clock: Met/Missed once done, else OnTrack, AtRisk past the fraction, Breached past due."""
    if done_at is not None:
        return SLAState.MET if done_at <= due else SLAState.MISSED
    if now > due:
        return SLAState.BREACHED
    if now >= start + (due - start) * at_risk_fraction:
        return SLAState.AT_RISK
    return SLAState.ON_TRACK


def standing(
    spec: SLASpec,
    *,
    due: Deadlines,
    responded_at: datetime | None,
    resolved_at: datetime | None,
    now: datetime,
) -> Standing:
    """Response and resolution state of one issue at `now`."""
    fraction = spec.at_risk_fraction
    return Standing(
        response=clock(
            start=due.detected_at,
            due=due.response_due,
            done_at=responded_at or resolved_at,
            now=now,
            at_risk_fraction=fraction,
        ),
        resolution=clock(
            start=due.detected_at,
            due=due.resolution_due,
            done_at=resolved_at,
            now=now,
            at_risk_fraction=fraction,
        ),
    )


def notice_due(
    spec: SLASpec,
    *,
    state: Standing,
    sent: frozenset[Notice],
    last_sent_at: datetime | None,
    now: datetime,
) -> Notice | None:
    """The one notice an open issue is owed now: a breach before an at-risk warning, each once, then
    reminders no more often than `reminderInterval`. Closed clocks (Met/Missed) owe nothing."""
    if state.resolution in (SLAState.MET, SLAState.MISSED):
        return None
    live = {state.response, state.resolution} & {SLAState.AT_RISK, SLAState.BREACHED}
    if not live:
        return None
    if SLAState.BREACHED in (state.response, state.resolution) and Notice.BREACHED not in sent:
        return Notice.BREACHED
    if SLAState.BREACHED not in live and not sent & {Notice.AT_RISK, Notice.BREACHED}:
        return Notice.AT_RISK
    if not sent or last_sent_at is None:
        return None
    if now - last_sent_at >= timedelta(seconds=parse_duration(spec.reminder_interval)):
        return Notice.REMINDER
    return None


def window_too_far(*, next_window_opens: datetime | None, response_due: datetime) -> bool:
    """True when waiting for the maintenance window would miss the response deadline (or no window
    exists): the issue must go to approval now instead."""
    return next_window_opens is None or next_window_opens > response_due


def on_approval_expired(*, due: Deadlines, now: datetime) -> ExpiryAction:
    """An expired approval is re-raised while the resolution deadline can still be met, escalated after."""
    return ExpiryAction.RERAISE if now < due.resolution_due else ExpiryAction.ESCALATE


def backlog_overdue(*, due: Deadlines, now: datetime) -> bool:
    """A Backlog item past its response deadline must notify."""
    return now > due.response_due


def elapsed_seconds(*, detected_at: datetime, at: datetime) -> float:
    """Seconds from detection to `at` (never negative: clocks may skew)."""
    return max(0.0, (at - detected_at).total_seconds())
