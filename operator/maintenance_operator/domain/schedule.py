"""When a policy's next health check or performance analysis is due (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import machine, timestamps


@dataclass(frozen=True)
class Due:
    """The assessment to create now, and its idempotent name."""

    analysis: api.AnalysisKind
    name: str


def next_due(
    *,
    policy_name: str,
    schedule: api.ScheduleSpec,
    last_health_check: str | None,
    last_performance_analysis: str | None,
    now: datetime,
) -> Due | None:
    """The assessment due at `now`, if any. A performance analysis also counts as a health check.

    Names are derived from the schedule slot, so a restarted operator that re-runs the same tick creates
    the same name and the API server's conflict makes creation idempotent.
    """
    perf_every = api.parse_duration(schedule.performance_analysis)
    health_every = api.parse_duration(schedule.health_check)
    last_perf = timestamps.parse_or_none(last_performance_analysis)
    last_health = timestamps.parse_or_none(last_health_check)
    if last_perf is None or now - last_perf >= timedelta(seconds=perf_every):
        return Due(api.AnalysisKind.PERFORMANCE_ANALYSIS, _name(policy_name, "pa", now, perf_every))
    if last_health is None or now - last_health >= timedelta(seconds=health_every):
        return Due(api.AnalysisKind.HEALTH_CHECK, _name(policy_name, "hc", now, health_every))
    return None


def _name(policy: str, kind: str, now: datetime, every: float) -> str:
    slot = int(now.timestamp() // max(every, 1.0))
    prefix = policy[: 253 - 24]
    return f"{prefix}-{kind}-{slot}"


@dataclass(frozen=True)
class AssessmentRef:
    """What pruning needs to know about one HealthAssessment."""

    name: str
    created: str
    phase: str | None


def to_prune(assessments: list[AssessmentRef], *, history_limit: int) -> list[str]:
    """Names of the oldest finished assessments beyond the history limit; unfinished ones are kept."""
    finished = sorted(
        (a for a in assessments if a.phase in machine.ASSESSMENT_FINISHED),
        key=lambda a: a.created,
        reverse=True,
    )
    return [a.name for a in finished[history_limit:]]
