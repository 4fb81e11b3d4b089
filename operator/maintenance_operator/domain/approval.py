"""Where a new Remediation goes: severity routing, auto-approval and maintenance windows.

Routing (the policy's severityRouting; the seed defaults are critical AutoResolve, high ApprovalRequired,
medium MaintenanceWindow, low Backlog), checked in this order:

1. Route Ignore: Rejected.
2. The plan escalates: Escalated (a human is needed whatever else it proposes).
3. The plan writes nothing (NoAction only): Succeeded, nothing to execute.
4. Backlog: Backlog (recorded, not executed unless a human approves it later).
5. ApprovalRequired, or an issue that must never be auto-approved (``findings.human_only``: analysis
   findings, SetResources plans): AwaitingApproval.
6. AutoResolve: Approved by ``policy:autoApprove`` if the severity is in autoApprove.severities, the
   operator's risk is at most autoApprove.maxRisk and the planner's confidence at least
   autoApprove.minConfidence; AwaitingApproval otherwise (the reason lists what failed).
7. MaintenanceWindow: the window is the approval, within the same risk and confidence limits
   (autoApprove.severities is not required: its default, critical only, would make the route useless).
   Inside a window: Approved by ``policy:maintenanceWindow``; outside: Scheduled (re-run ``decide`` when
   :func:`next_window_start` comes). Beyond the limits, or with no window configured: AwaitingApproval.

With a ``review`` (``plan_review.review_plan``), steps 6 and 7 also require ``review.passed`` (the plan fits
the issue, the planners agree, no recent failure of the same action), and the confidence limit applies to
``review.effectiveConfidence`` instead of the planner's own number. Without one, behaviour is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from maintenance_operator.api.v1alpha1 import (
    ActionType,
    AutoApproveSpec,
    Issue,
    MaintenanceWindow,
    Plan,
    PlanReview,
    RemediationPhase,
    Risk,
    Route,
    Weekday,
    parse_duration,
)
from maintenance_operator.domain import findings, timestamps
from maintenance_operator.domain import risk as risk_rules

AUTO_APPROVER = "policy:autoApprove"
WINDOW_APPROVER = "policy:maintenanceWindow"
_WEEKDAYS = list(Weekday)  # Mon..Sun, the order of date.weekday()


class Decision(BaseModel):
    """The phase a Proposed remediation moves to, and why."""

    model_config = ConfigDict(frozen=True)

    phase: RemediationPhase = Field(description="Next phase.")
    approved_by: str | None = Field(default=None, description="policy:autoApprove, policy:maintenanceWindow.")
    reason: str = Field(description="CamelCase reason, for conditions and Events.")
    message: str = Field(description="Human-readable explanation.")


def _limit_failures(*, plan: Plan, risk: Risk, auto: AutoApproveSpec, review: PlanReview | None) -> list[str]:
    failures = []
    if not risk_rules.within(risk, auto.max_risk):
        failures.append(f"risk {risk.level} ({risk.score:g}) is above autoApprove.maxRisk {auto.max_risk}")
    if review is None:
        if plan.confidence < auto.min_confidence:
            failures.append(
                f"planner confidence {plan.confidence:g} is below "
                f"autoApprove.minConfidence {auto.min_confidence:g}"
            )
        return failures
    if review.effective_confidence < auto.min_confidence:
        failures.append(
            f"effective confidence {review.effective_confidence:g} (planner said "
            f"{review.planner_confidence:g}) is below autoApprove.minConfidence {auto.min_confidence:g}"
        )
    failures.extend(review.reasons)
    return failures


def decide(
    *,
    issue: Issue,
    route: Route,
    plan: Plan,
    risk: Risk,
    auto: AutoApproveSpec,
    windows: Sequence[MaintenanceWindow],
    now: datetime,
    review: PlanReview | None = None,
) -> Decision:
    """Route a Proposed remediation (see the module docstring for the rules, in order)."""
    if route is Route.IGNORE:
        return Decision(
            phase=RemediationPhase.REJECTED,
            reason="RoutedToIgnore",
            message=f"{issue.severity} issues are ignored",
        )
    escalations = [a for a in plan.actions if a.type is ActionType.ESCALATE]
    if escalations:
        why = "; ".join(a.escalate.reason for a in escalations if a.escalate is not None)
        return Decision(
            phase=RemediationPhase.ESCALATED, reason="PlanEscalates", message=f"needs a human: {why}"
        )
    if not plan.mutating:
        return Decision(
            phase=RemediationPhase.SUCCEEDED, reason="NothingToExecute", message="the plan takes no action"
        )
    if route is Route.BACKLOG:
        return Decision(
            phase=RemediationPhase.BACKLOG,
            reason="Backlogged",
            message=f"{issue.severity} issues go to the backlog: approve by hand to run it",
        )
    if route is Route.APPROVAL_REQUIRED:
        return Decision(
            phase=RemediationPhase.AWAITING_APPROVAL,
            reason="ApprovalRequired",
            message=f"{issue.severity} issues need a human approval",
        )
    if findings.human_only(issue, plan):
        return Decision(
            phase=RemediationPhase.AWAITING_APPROVAL,
            reason="HumanApprovalRequired",
            message="analysis findings and SetResources plans always need a human approval",
        )
    failures = _limit_failures(plan=plan, risk=risk, auto=auto, review=review)
    if route is Route.AUTO_RESOLVE:
        if issue.severity not in auto.severities:
            failures.insert(0, f"severity {issue.severity} is not in autoApprove.severities")
        if failures:
            return Decision(
                phase=RemediationPhase.AWAITING_APPROVAL,
                reason="AutoApprovalDenied",
                message="; ".join(failures),
            )
        return Decision(
            phase=RemediationPhase.APPROVED,
            approved_by=AUTO_APPROVER,
            reason="AutoApproved",
            message=f"within autoApprove: severity {issue.severity}, risk {risk.level}, "
            f"confidence {plan.confidence if review is None else review.effective_confidence:g}",
        )
    # Route.MAINTENANCE_WINDOW
    if not windows:
        return Decision(
            phase=RemediationPhase.AWAITING_APPROVAL,
            reason="NoMaintenanceWindow",
            message="routed to a maintenance window but the policy defines none: a human must approve",
        )
    if failures:
        return Decision(
            phase=RemediationPhase.AWAITING_APPROVAL, reason="AutoApprovalDenied", message="; ".join(failures)
        )
    if in_maintenance_window(windows, now):
        return Decision(
            phase=RemediationPhase.APPROVED,
            approved_by=WINDOW_APPROVER,
            reason="MaintenanceWindowOpen",
            message="inside a maintenance window and within the autoApprove risk limits",
        )
    opens = next_window_start(windows, now)
    when = timestamps.rfc3339(opens) if opens else "never"
    return Decision(
        phase=RemediationPhase.SCHEDULED,
        reason="WaitingForMaintenanceWindow",
        message=f"runs in the next maintenance window, opening {when}",
    )


def _openings(window: MaintenanceWindow, days: Sequence[date]) -> list[tuple[datetime, datetime]]:
    """(start, end) in UTC of the window's openings on the given local dates; end is absolute time."""
    zone = ZoneInfo(window.timezone)
    hour, minute = (int(p) for p in window.start.split(":"))
    length = timedelta(seconds=parse_duration(window.duration))
    spans = []
    for day in days:
        if _WEEKDAYS[day.weekday()] in window.days:
            start = datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)
            spans.append((start, start + length))
    return spans


def _local_days(window: MaintenanceWindow, now: datetime, *, back: int, ahead: int) -> list[date]:
    today = now.astimezone(ZoneInfo(window.timezone)).date()
    return [today + timedelta(days=offset) for offset in range(-back, ahead + 1)]


def in_maintenance_window(windows: Sequence[MaintenanceWindow], now: datetime) -> bool:
    """True if ``now`` is inside any window: [start, start + duration) in the window's IANA time zone,
    on one of its days. A window opened yesterday that crosses midnight counts (durations are absolute
    time, so a DST change does not stretch or shrink it)."""
    for window in windows:
        reach = int(parse_duration(window.duration) // 86400) + 1
        for start, end in _openings(window, _local_days(window, now, back=reach, ahead=0)):
            if start <= now < end:
                return True
    return False


def next_window_start(windows: Sequence[MaintenanceWindow], now: datetime) -> datetime | None:
    """The earliest window opening after ``now`` (UTC), None when there is none."""
    starts = [
        start
        for window in windows
        for start, _ in _openings(window, _local_days(window, now, back=0, ahead=8))
        if start > now
    ]
    return min(starts, default=None)


def approval_expires_at(created_at: datetime, expire_after: str) -> datetime:
    """When a request for approval made at ``created_at`` lapses (approval.expireAfter duration)."""
    return created_at + timedelta(seconds=parse_duration(expire_after))
