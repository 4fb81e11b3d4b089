from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maintenance_operator.api.v1alpha1 import (
    AutoApproveSpec,
    MaintenanceWindow,
    PlanReview,
    RemediationPhase,
    Risk,
    RiskLevel,
    Route,
    Severity,
    Weekday,
)
from maintenance_operator.domain import approval
from tests.fixtures.remediation_cases import NO_ACTION, RESTART, escalate, issue, plan

P = RemediationPhase
LOW = Risk(score=2.5, level=RiskLevel.LOW)
HIGH = Risk(score=6.5, level=RiskLevel.HIGH)
TUESDAY_NOON = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)  # 2030-01-01 is a Tuesday
NIGHTLY = MaintenanceWindow(start="22:00", duration="4h")  # every day, UTC


def decide(
    *,
    route: Route,
    severity: Severity = Severity.CRITICAL,
    confidence: float = 9.0,
    risk: Risk = LOW,
    auto: AutoApproveSpec | None = None,
    windows: list[MaintenanceWindow] | None = None,
    now: datetime = TUESDAY_NOON,
    actions: tuple[object, ...] = (RESTART,),
) -> approval.Decision:
    return approval.decide(
        issue=issue(severity),
        route=route,
        plan=plan(*actions, confidence=confidence),  # type: ignore[arg-type]
        risk=risk,
        auto=auto or AutoApproveSpec(),
        windows=windows if windows is not None else [NIGHTLY],
        now=now,
    )


def test_auto_resolve_within_limits_is_approved_by_policy() -> None:
    d = decide(route=Route.AUTO_RESOLVE)
    assert d.phase is P.APPROVED
    assert d.approved_by == approval.AUTO_APPROVER == "policy:autoApprove"
    assert d.reason == "AutoApproved"


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"severity": Severity.HIGH}, "severity high is not in autoApprove.severities"),
        ({"risk": HIGH}, "risk High (6.5) is above autoApprove.maxRisk Medium"),
        ({"confidence": 7.9}, "planner confidence 7.9 is below autoApprove.minConfidence 8"),
    ],
)
def test_auto_resolve_outside_limits_awaits_approval(kwargs: dict[str, object], needle: str) -> None:
    d = decide(route=Route.AUTO_RESOLVE, **kwargs)  # type: ignore[arg-type]
    assert d.phase is P.AWAITING_APPROVAL
    assert d.approved_by is None
    assert d.reason == "AutoApprovalDenied"
    assert needle in d.message


def test_auto_resolve_reports_every_failed_limit() -> None:
    d = decide(route=Route.AUTO_RESOLVE, severity=Severity.LOW, risk=HIGH, confidence=1)
    assert d.message.count(";") == 2


def test_auto_approve_limits_are_inclusive_and_configurable() -> None:
    auto = AutoApproveSpec(severities=[Severity.HIGH], max_risk=RiskLevel.HIGH, min_confidence=5)
    d = decide(route=Route.AUTO_RESOLVE, severity=Severity.HIGH, risk=HIGH, confidence=5, auto=auto)
    assert d.phase is P.APPROVED


def test_approval_required_never_auto_approves() -> None:
    d = decide(route=Route.APPROVAL_REQUIRED)
    assert d.phase is P.AWAITING_APPROVAL
    assert d.reason == "ApprovalRequired"


def test_backlog() -> None:
    assert decide(route=Route.BACKLOG).phase is P.BACKLOG


def test_ignore_is_rejected_even_for_escalations() -> None:
    d = decide(route=Route.IGNORE, actions=(escalate(),))
    assert d.phase is P.REJECTED
    assert d.reason == "RoutedToIgnore"


def test_escalation_wins_over_other_actions() -> None:
    d = decide(route=Route.AUTO_RESOLVE, actions=(RESTART, escalate("DB is down")))
    assert d.phase is P.ESCALATED
    assert "DB is down" in d.message


def test_no_action_plan_has_nothing_to_execute() -> None:
    d = decide(route=Route.APPROVAL_REQUIRED, actions=(NO_ACTION,))
    assert d.phase is P.SUCCEEDED
    assert d.reason == "NothingToExecute"


def test_maintenance_window_outside_is_scheduled_with_next_opening() -> None:
    d = decide(route=Route.MAINTENANCE_WINDOW, severity=Severity.MEDIUM)
    assert d.phase is P.SCHEDULED
    assert "2030-01-01T22:00:00Z" in d.message


def test_maintenance_window_inside_is_approved_by_the_window() -> None:
    d = decide(route=Route.MAINTENANCE_WINDOW, severity=Severity.MEDIUM, now=TUESDAY_NOON.replace(hour=23))
    assert d.phase is P.APPROVED
    assert d.approved_by == approval.WINDOW_APPROVER


def test_maintenance_window_beyond_limits_awaits_approval() -> None:
    d = decide(route=Route.MAINTENANCE_WINDOW, severity=Severity.MEDIUM, risk=HIGH)
    assert d.phase is P.AWAITING_APPROVAL
    assert "maxRisk" in d.message


def test_maintenance_window_route_without_windows_awaits_approval() -> None:
    d = decide(route=Route.MAINTENANCE_WINDOW, severity=Severity.MEDIUM, windows=[])
    assert d.phase is P.AWAITING_APPROVAL
    assert d.reason == "NoMaintenanceWindow"


def window(**kwargs: object) -> MaintenanceWindow:
    return MaintenanceWindow(**{"start": "22:00", "duration": "4h", **kwargs})


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2030, 1, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at(1, 21, 59), False),
        (at(1, 22, 0), True),  # start is inclusive
        (at(2, 1, 59), True),  # crossed midnight
        (at(2, 2, 0), False),  # end is exclusive
    ],
)
def test_window_bounds_and_midnight(moment: datetime, expected: bool) -> None:
    assert approval.in_maintenance_window([window()], moment) is expected


def test_window_crossing_midnight_belongs_to_the_day_it_opened() -> None:
    tuesdays = window(days=[Weekday.TUE])
    assert approval.in_maintenance_window([tuesdays], at(2, 1, 0))  # Wednesday 01:00, opened Tuesday
    assert not approval.in_maintenance_window([tuesdays], at(3, 1, 0))  # Thursday 01:00, opened Wednesday
    assert not approval.in_maintenance_window([tuesdays], at(1, 1, 0))  # Tuesday 01:00, opened Monday


def test_window_time_zone() -> None:
    berlin = window(start="02:00", duration="1h", timezone="Europe/Berlin")  # 01:00-02:00 UTC in winter
    assert approval.in_maintenance_window([berlin], at(1, 1, 30))
    assert not approval.in_maintenance_window([berlin], at(1, 2, 30))


def test_window_duration_is_absolute_across_dst() -> None:
    # 2030-03-31: Berlin springs forward at 02:00. 00:00 local (23:00 UTC on the 30th) + 4h ends 03:00 UTC.
    berlin = window(start="00:00", duration="4h", timezone="Europe/Berlin")
    assert approval.in_maintenance_window([berlin], datetime(2030, 3, 31, 2, 59, tzinfo=UTC))
    assert not approval.in_maintenance_window([berlin], datetime(2030, 3, 31, 3, 0, tzinfo=UTC))


def test_window_longer_than_a_day() -> None:
    weekend = window(days=[Weekday.SAT], start="00:00", duration="48h")
    assert approval.in_maintenance_window([weekend], at(6, 23, 0))  # Sunday
    assert not approval.in_maintenance_window([weekend], at(7, 0, 0))  # Monday


def test_any_of_several_windows() -> None:
    windows = [window(days=[Weekday.MON]), window(start="11:00", duration="2h")]
    assert approval.in_maintenance_window(windows, TUESDAY_NOON)
    assert not approval.in_maintenance_window([], TUESDAY_NOON)


def test_next_window_start() -> None:
    assert approval.next_window_start([window()], TUESDAY_NOON) == at(1, 22)
    assert approval.next_window_start([window(days=[Weekday.MON])], TUESDAY_NOON) == at(7, 22)
    assert approval.next_window_start([], TUESDAY_NOON) is None


def test_approval_expiry() -> None:
    created = TUESDAY_NOON
    assert approval.approval_expires_at(created, "1h30m") == created + timedelta(minutes=90)


# ---------------------------------------------------------------- with a plan review


def _review(*, passed: bool, effective: float, reasons: list[str] | None = None) -> PlanReview:
    return PlanReview(
        passed=passed,
        fits=passed,
        planner_confidence=10,
        effective_confidence=effective,
        reasons=reasons or [],
    )


def _decide_reviewed(route: Route, review: PlanReview, *, now: datetime = TUESDAY_NOON) -> approval.Decision:
    return approval.decide(
        issue=issue(Severity.CRITICAL),
        route=route,
        plan=plan(RESTART, confidence=10),
        risk=LOW,
        auto=AutoApproveSpec(),
        windows=[NIGHTLY],
        now=now,
        review=review,
    )


@pytest.mark.parametrize(
    ("review", "phase", "needle"),
    [
        (_review(passed=True, effective=9), P.APPROVED, "confidence 9"),
        (_review(passed=True, effective=5), P.AWAITING_APPROVAL, "effective confidence 5 (planner said 10)"),
        (_review(passed=False, effective=9, reasons=["does not fit the issue: x"]), P.AWAITING_APPROVAL,
         "does not fit the issue: x"),
    ],
)  # fmt: skip
def test_auto_resolve_gates_on_the_review(review: PlanReview, phase: RemediationPhase, needle: str) -> None:
    d = _decide_reviewed(Route.AUTO_RESOLVE, review)
    assert d.phase is phase
    assert needle in d.message


def test_maintenance_window_gates_on_the_review() -> None:
    inside = TUESDAY_NOON.replace(hour=23)
    assert _decide_reviewed(
        Route.MAINTENANCE_WINDOW, _review(passed=True, effective=9), now=inside
    ).phase is (P.APPROVED)
    held = _decide_reviewed(
        Route.MAINTENANCE_WINDOW, _review(passed=False, effective=9, reasons=["r"]), now=inside
    )
    assert held.phase is P.AWAITING_APPROVAL
    assert held.message == "r"


def test_a_failed_review_does_not_block_escalation_or_doing_nothing() -> None:
    d = approval.decide(
        issue=issue(Severity.CRITICAL),
        route=Route.AUTO_RESOLVE,
        plan=plan(NO_ACTION, confidence=10),
        risk=LOW,
        auto=AutoApproveSpec(),
        windows=[],
        now=TUESDAY_NOON,
        review=_review(passed=False, effective=0, reasons=["r"]),
    )
    assert d.phase is P.SUCCEEDED


@pytest.mark.parametrize("route", [Route.AUTO_RESOLVE, Route.MAINTENANCE_WINDOW, Route.APPROVAL_REQUIRED])
@pytest.mark.parametrize("indicator", ["configAudit.config-drift", "security.privileged", "capacity.web"])
def test_analysis_findings_always_wait_for_a_human(route: Route, indicator: str) -> None:
    finding = issue(Severity.CRITICAL).model_copy(update={"indicator": indicator})
    d = approval.decide(
        issue=finding,
        route=route,
        plan=plan(RESTART, confidence=10),
        risk=LOW,
        auto=AutoApproveSpec(severities=list(Severity), max_risk=RiskLevel.CRITICAL, min_confidence=0),
        windows=[MaintenanceWindow(start="00:00", duration="24h")],
        now=TUESDAY_NOON,
    )
    assert d.phase is P.AWAITING_APPROVAL and d.approved_by is None


def test_analysis_findings_still_follow_backlog_and_ignore_routes() -> None:
    finding = issue(Severity.LOW).model_copy(update={"indicator": "configAudit.pdb"})
    common = {
        "plan": plan(RESTART),
        "risk": LOW,
        "auto": AutoApproveSpec(),
        "windows": [],
        "now": TUESDAY_NOON,
    }
    assert approval.decide(issue=finding, route=Route.BACKLOG, **common).phase is P.BACKLOG  # type: ignore[arg-type]
    assert approval.decide(issue=finding, route=Route.IGNORE, **common).phase is P.REJECTED  # type: ignore[arg-type]
