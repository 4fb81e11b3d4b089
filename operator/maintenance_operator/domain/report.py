"""Compose a maintenance report's sections from facts gathered over a period: score series from
Prometheus, issues from assessments, remediations with their SLA timestamps and outcomes, token spend.

Missing inputs never fail the report: each becomes a line in `gaps` and the report is Partial.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import sla, timestamps

MAX_POINTS = 100
TREND_DELTA = 0.5  # score points between the first and last third that count as a trend
HEALTH_THRESHOLD = 7.0
_SUCCEEDED = {api.RemediationPhase.SUCCEEDED}
_ROLLED_BACK = {api.RemediationPhase.ROLLED_BACK}
_FAILED = {
    api.RemediationPhase.FAILED,
    api.RemediationPhase.EXPIRED,
    api.RemediationPhase.ESCALATED,
    api.RemediationPhase.TERMINATED,
}
_FINISHED = _SUCCEEDED | _ROLLED_BACK | _FAILED

Series = Sequence[tuple[datetime, float]]


@dataclass(frozen=True)
class IssueFact:
    """One issue seen in one assessment."""

    fingerprint: str
    severity: api.Severity
    category: str


@dataclass(frozen=True)
class RemediationFact:
    """What the report needs of one Remediation."""

    name: str
    severity: api.Severity
    category: str
    fingerprint: str
    action: str
    planner: str
    confidence: float
    phase: api.RemediationPhase | None
    detected_at: datetime
    responded_at: datetime | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class Inputs:
    """Everything known about the period. `scores` is None when Prometheus could not be asked."""

    policies: tuple[str, ...]
    start: datetime
    end: datetime
    sla: api.SLASpec
    scores: Mapping[str, Series] | None
    issues: Sequence[IssueFact] = ()
    remediations: Sequence[RemediationFact] = ()
    tokens: api.TokenUsage = field(default_factory=api.TokenUsage)
    findings: Sequence[str] = ()
    gaps: Sequence[str] = ()
    capacity: Mapping[str, api.CapacityReport] = field(default_factory=dict)
    config_audits: Mapping[str, api.ConfigAuditReport] = field(default_factory=dict)
    security: Mapping[str, api.SecurityReport] = field(default_factory=dict)


def downsample(values: Sequence[float], *, limit: int = MAX_POINTS) -> list[float]:
    """At most `limit` points, each the mean of an equal slice, so huge periods stay small."""
    if len(values) <= limit:
        return [round(v, 2) for v in values]
    size = len(values) / limit
    return [
        round(statistics.fmean(values[int(i * size) : max(int((i + 1) * size), int(i * size) + 1)]), 2)
        for i in range(limit)
    ]


def trend(values: Sequence[float]) -> api.Trend:
    """Improving/degrading when the last third's mean differs from the first third's by TREND_DELTA and
    the last value still does: a dip the series has recovered from by the end is not a trend (the
    dimension's min tells of the dip)."""
    if len(values) < 3:
        return api.Trend.UNKNOWN
    third = len(values) // 3
    start = statistics.fmean(values[:third])
    delta = statistics.fmean(values[-third:]) - start
    if delta >= TREND_DELTA and values[-1] - start >= TREND_DELTA:
        return api.Trend.IMPROVING
    if delta <= -TREND_DELTA and values[-1] - start <= -TREND_DELTA:
        return api.Trend.DEGRADING
    return api.Trend.STABLE


def health(scores: Mapping[str, Series]) -> list[api.DimensionHealth]:
    """Min, mean, last and trend of each series; a series without samples reports nothing but its name."""
    out = []
    for name, series in scores.items():
        values = [v for _, v in sorted(series)]
        if not values:
            out.append(api.DimensionHealth(dimension=name))
            continue
        out.append(
            api.DimensionHealth(
                dimension=name,
                min=round(min(values), 2),
                mean=round(statistics.fmean(values), 2),
                last=round(values[-1], 2),
                trend=trend(values),
                points=downsample(values),
            )
        )
    return out


def issue_counts(
    issues: Sequence[IssueFact], remediations: Sequence[RemediationFact]
) -> list[api.IssueCount]:
    """Distinct issues (by fingerprint) per severity and category, most severe first."""
    seen: dict[str, tuple[api.Severity, str]] = {i.fingerprint: (i.severity, i.category) for i in issues}
    for r in remediations:
        seen.setdefault(r.fingerprint, (r.severity, r.category))
    counts = Counter(seen.values())
    return [
        api.IssueCount(severity=sev, category=cat, count=n)
        for (sev, cat), n in sorted(counts.items(), key=lambda kv: (-api.SEVERITY_ORDER[kv[0][0]], kv[0][1]))
    ]


def response_times(remediations: Sequence[RemediationFact], spec: api.SLASpec) -> list[api.ResponseTimes]:
    """Per severity with remediations: median response, MTTR from detection, and breaches of the SLA."""
    by_severity: dict[api.Severity, list[RemediationFact]] = defaultdict(list)
    for r in remediations:
        by_severity[r.severity].append(r)
    out = []
    for severity in sorted(by_severity, key=lambda s: -api.SEVERITY_ORDER[s]):
        group = by_severity[severity]
        responses, resolutions, late_response, late_resolution = [], [], 0, 0
        for r in group:
            due = sla.deadlines(spec, severity=severity, detected_at=r.detected_at)
            answered = r.responded_at or r.resolved_at
            if answered is not None:
                responses.append(sla.elapsed_seconds(detected_at=r.detected_at, at=answered))
                late_response += answered > due.response_due
            if r.resolved_at is not None:
                resolutions.append(sla.elapsed_seconds(detected_at=r.detected_at, at=r.resolved_at))
                late_resolution += r.resolved_at > due.resolution_due
        out.append(
            api.ResponseTimes(
                severity=severity,
                remediations=len(group),
                response_target_seconds=api.parse_duration(spec.response.of(severity)),
                resolution_target_seconds=api.parse_duration(spec.resolution.of(severity)),
                median_response_seconds=round(statistics.median(responses), 3) if responses else None,
                mttr_seconds=round(statistics.fmean(resolutions), 3) if resolutions else None,
                response_breaches=late_response,
                resolution_breaches=late_resolution,
            )
        )
    return out


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def effectiveness(remediations: Sequence[RemediationFact]) -> list[api.ActionEffectiveness]:
    """Success, rollback and failure counts of finished remediations by action."""
    by_action: dict[str, list[api.RemediationPhase]] = defaultdict(list)
    for r in remediations:
        if r.phase in _FINISHED:
            by_action[r.action].append(r.phase)
    out = []
    for action in sorted(by_action):
        phases = by_action[action]
        ok = sum(p in _SUCCEEDED for p in phases)
        out.append(
            api.ActionEffectiveness(
                action=action,
                total=len(phases),
                succeeded=ok,
                rolled_back=sum(p in _ROLLED_BACK for p in phases),
                failed=sum(p in _FAILED for p in phases),
                success_rate=_rate(ok, len(phases)),
            )
        )
    return out


def decisions(remediations: Sequence[RemediationFact]) -> list[api.PlannerDecisions]:
    """Per planner: plans, mean stated confidence, and how often finished plans succeeded."""
    by_planner: dict[str, list[RemediationFact]] = defaultdict(list)
    for r in remediations:
        by_planner[r.planner].append(r)
    out = []
    for planner in sorted(by_planner):
        group = by_planner[planner]
        finished = [r for r in group if r.phase in _FINISHED]
        out.append(
            api.PlannerDecisions(
                planner=planner,
                plans=len(group),
                mean_confidence=round(statistics.fmean(r.confidence for r in group), 2),
                success_rate=_rate(sum(r.phase in _SUCCEEDED for r in finished), len(finished)),
            )
        )
    return out


def recommendations(
    *,
    health_rows: Sequence[api.DimensionHealth],
    times: Sequence[api.ResponseTimes],
    actions: Sequence[api.ActionEffectiveness],
    gaps: Sequence[str],
) -> list[str]:
    """Plain advice derived from the sections; empty when nothing stands out."""
    out = []
    for row in health_rows:
        if row.last is not None and row.last < HEALTH_THRESHOLD:
            out.append(
                f"{row.dimension} ends the period at {row.last:.1f} (< {HEALTH_THRESHOLD}): investigate it."
            )
        elif row.trend is api.Trend.DEGRADING:
            out.append(f"{row.dimension} is degrading over the period: look for a slow leak or growing load.")
    for t in times:
        if t.response_breaches or t.resolution_breaches:
            out.append(
                f"{t.severity.value} issues missed their SLA {t.response_breaches + t.resolution_breaches} "
                "time(s): route them to approval sooner or widen the maintenance windows."
            )
    for a in actions:
        if a.total >= 2 and (a.success_rate or 0.0) < 0.5:
            out.append(f"{a.action} succeeded in {a.succeeded} of {a.total} runs: review when it is planned.")
    if gaps:
        out.append("Part of the data was missing: check Prometheus and the retention of Remediations.")
    return out


def summary(
    *, inputs: Inputs, counts: Sequence[api.IssueCount], actions: Sequence[api.ActionEffectiveness]
) -> str:
    """One paragraph: scope, issues, outcomes, SLA misses, latest overall score."""
    days = (inputs.end - inputs.start).total_seconds() / 86400
    issues = sum(c.count for c in counts)
    finished = sum(a.total for a in actions)
    ok = sum(a.succeeded for a in actions)
    text = f"{', '.join(inputs.policies) or 'No policy'} over {days:.1f} day(s): {issues} issue(s)"
    if not inputs.remediations:
        text += ", no remediation."
    else:
        text += f", {len(inputs.remediations)} remediation(s), {ok} of {finished} finished ones verified."
    overall = (inputs.scores or {}).get("overall")
    if overall:
        text += f" Overall score now {sorted(overall)[-1][1]:.1f}."
    return text


def capacity_sections(reports: Mapping[str, api.CapacityReport]) -> list[api.CapacitySection]:
    """One row per policy with a capacity analysis, by policy name."""
    return [
        api.CapacitySection(
            policy=policy,
            analyzed_at=r.analyzed_at,
            sufficient=r.sufficient,
            headroom_percent=r.headroom_percent,
            exhaustion_at=r.exhaustion_at,
            blocked_scenarios=[s.name for s in r.scenarios if not s.allowed],
            right_sized_containers=sum(1 for s in r.right_sizing if s.cpu_request_cores is not None),
            message=r.message[:1024],
        )
        for policy, r in sorted(reports.items())
    ]


def audit_sections(
    config: Mapping[str, api.ConfigAuditReport], security: Mapping[str, api.SecurityReport]
) -> list[api.AuditSection]:
    """One row per policy with a configuration audit or a security review, by policy name."""
    rows = []
    for policy in sorted(set(config) | set(security)):
        c, s = config.get(policy), security.get(policy)
        rows.append(
            api.AuditSection(
                policy=policy,
                config_score=c.score if c else None,
                config_findings=c.finding_count if c else 0,
                security_score=s.score if s else None,
                security_findings=s.finding_count if s else 0,
                overdue_vulnerabilities=s.overdue_vulnerabilities if s else 0,
            )
        )
    return rows


def compose(inputs: Inputs, *, now: datetime) -> api.MaintenanceReportStatus:
    """The report's status: every section, Partial with the reasons when data was missing."""
    gaps = list(inputs.gaps)
    if inputs.scores is None:
        gaps.append("Prometheus was unavailable: no score history.")
    health_rows = health(inputs.scores or {})
    counts = issue_counts(inputs.issues, inputs.remediations)
    times = response_times(inputs.remediations, inputs.sla)
    actions = effectiveness(inputs.remediations)
    return api.MaintenanceReportStatus(
        phase=api.ReportPhase.PARTIAL if gaps else api.ReportPhase.READY,
        period_start=timestamps.rfc3339(inputs.start),
        period_end=timestamps.rfc3339(inputs.end),
        generated_at=timestamps.rfc3339(now),
        policies=list(inputs.policies),
        executive_summary=summary(inputs=inputs, counts=counts, actions=actions),
        health=health_rows,
        issues=counts,
        response_times=times,
        remediations=actions,
        ai_decisions=decisions(inputs.remediations),
        token_usage=inputs.tokens,
        findings=list(inputs.findings)[:20],
        recommendations=recommendations(health_rows=health_rows, times=times, actions=actions, gaps=gaps),
        gaps=gaps,
        message="; ".join(gaps)[:4096],
        capacity=capacity_sections(inputs.capacity),
        audits=audit_sections(inputs.config_audits, inputs.security),
    )


def remediation_fact(
    *, name: str, spec: api.RemediationSpec, status: api.RemediationStatus, created_at: datetime
) -> RemediationFact:
    """A Remediation as the report sees it. Older objects lack the SLA stamps: detection falls back to
    creation, response to execution start or the human decision, resolution to completion if verified."""
    approval = spec.approval.approved_at if spec.approval else None
    resolved = status.resolved_at or (status.completed_at if status.phase in _SUCCEEDED else None)
    return RemediationFact(
        name=name,
        severity=spec.issue.severity,
        category=spec.issue.category,
        fingerprint=spec.issue.fingerprint,
        action=spec.plan.actions[0].type.value,
        planner=spec.plan.planner.value,
        confidence=spec.plan.confidence,
        phase=status.phase,
        detected_at=timestamps.parse_or_none(spec.issue.detected_at) or created_at,
        responded_at=timestamps.parse_or_none(status.responded_at or status.started_at or approval),
        resolved_at=timestamps.parse_or_none(resolved),
    )
