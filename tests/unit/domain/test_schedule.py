from __future__ import annotations

from datetime import UTC, datetime, timedelta

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import schedule

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
SPEC = api.ScheduleSpec()


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_first_tick_runs_a_performance_analysis() -> None:
    due = schedule.next_due(
        policy_name="chatapp", schedule=SPEC, last_health_check=None, last_performance_analysis=None, now=NOW
    )
    assert due is not None
    assert due.analysis is api.AnalysisKind.PERFORMANCE_ANALYSIS
    assert due.name.startswith("chatapp-pa-")


def test_health_check_every_five_minutes_between_analyses() -> None:
    last_perf = iso(NOW - timedelta(minutes=6))
    due = schedule.next_due(
        policy_name="chatapp",
        schedule=SPEC,
        last_health_check=iso(NOW - timedelta(minutes=5)),
        last_performance_analysis=last_perf,
        now=NOW,
    )
    assert due is not None and due.analysis is api.AnalysisKind.HEALTH_CHECK
    assert due.name.startswith("chatapp-hc-")


def test_nothing_due_inside_the_interval() -> None:
    assert (
        schedule.next_due(
            policy_name="p",
            schedule=SPEC,
            last_health_check=iso(NOW - timedelta(minutes=4)),
            last_performance_analysis=iso(NOW - timedelta(minutes=14)),
            now=NOW,
        )
        is None
    )


def test_same_slot_gives_the_same_name() -> None:
    a = schedule.next_due(
        policy_name="p", schedule=SPEC, last_health_check=None, last_performance_analysis=None, now=NOW
    )
    b = schedule.next_due(
        policy_name="p",
        schedule=SPEC,
        last_health_check=None,
        last_performance_analysis=None,
        now=NOW + timedelta(seconds=20),
    )
    assert a is not None and b is not None and a.name == b.name


def test_prune_keeps_newest_finished_and_all_running() -> None:
    refs = [
        schedule.AssessmentRef(name=f"a{i}", created=f"2026-11-25T10:0{i}:00Z", phase="Completed")
        for i in range(5)
    ] + [schedule.AssessmentRef(name="running", created="2026-11-25T09:00:00Z", phase="Running")]
    assert schedule.to_prune(refs, history_limit=2) == ["a2", "a1", "a0"]
    assert schedule.to_prune(refs, history_limit=10) == []
