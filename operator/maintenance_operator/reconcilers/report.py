"""Make a MaintenanceReport: decide whether one is due, gather the period's facts through ports, compose
the sections (domain.report) and announce it. Nothing here talks to kopf or a client library directly."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import ValidationError

from maintenance_operator.api import stored
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import notification, report, timestamps

log = logging.getLogger(__name__)
INTERVALS = {api.ReportSchedule.DAILY: timedelta(days=1), api.ReportSchedule.WEEKLY: timedelta(days=7)}
RETRY_AFTER = timedelta(minutes=5)


class ObjectSource(Protocol):
    """Lists the operator's custom objects in a namespace (crs.CustomResources fits)."""

    async def list(
        self, kind: str, namespace: str, *, labels: dict[str, str] | None = None
    ) -> list[dict[str, Any]]: ...


class ScoreHistory(Protocol):
    """Score series per dimension (and 'overall') of one policy over a period; None when unavailable."""

    async def scores(
        self, *, namespace: str, policy: str, start: datetime, end: datetime
    ) -> Mapping[str, report.Series] | None: ...


class Notifier(Protocol):
    """Hands an event to delivery without waiting for it."""

    def notify(self, event: notification.Event) -> object: ...


@dataclass(frozen=True)
class Ports:
    objects: ObjectSource
    scores: ScoreHistory
    notifier: Notifier | None = None


@dataclass(frozen=True)
class Result:
    """What the handler writes: a new status (None: nothing to do) and when to look again."""

    status: api.MaintenanceReportStatus | None
    next_check: datetime | None = None
    events: list[notification.Event] = field(default_factory=list)


def due(
    spec: api.MaintenanceReportSpec,
    status: api.MaintenanceReportStatus,
    *,
    generation: int | None,
    now: datetime,
) -> bool:
    """Due when never made or the spec changed; else when its schedule (or a failed one's retry) comes."""
    if status.generated_at is None or status.observed_generation != generation:
        return True
    next_run = timestamps.parse_or_none(status.next_run_at)
    return next_run is not None and now >= next_run


def next_run(schedule: api.ReportSchedule, *, now: datetime) -> datetime | None:
    interval = INTERVALS.get(schedule)
    return None if interval is None else now + interval


def _created(obj: Mapping[str, Any]) -> datetime | None:
    return timestamps.parse_or_none(obj.get("metadata", {}).get("creationTimestamp"))


def _policy_of(obj: Mapping[str, Any]) -> str | None:
    ref = (obj.get("spec") or {}).get("policyRef") or {}
    name = ref.get("name")
    return str(name) if name else None


@dataclass
class _Gathered:
    policies: list[str] = field(default_factory=list)
    sla: api.SLASpec = field(default_factory=api.SLASpec)
    issues: list[report.IssueFact] = field(default_factory=list)
    remediations: list[report.RemediationFact] = field(default_factory=list)
    tokens: api.TokenUsage = field(default_factory=api.TokenUsage)
    findings: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    capacity: dict[str, api.CapacityReport] = field(default_factory=dict)
    config_audits: dict[str, api.ConfigAuditReport] = field(default_factory=dict)
    security: dict[str, api.SecurityReport] = field(default_factory=dict)


async def _policies(spec: api.MaintenanceReportSpec, namespace: str, ports: Ports, into: _Gathered) -> None:
    labels = dict(spec.selector.match_labels) if spec.selector else None
    found = await ports.objects.list("MaintenancePolicy", namespace, labels=labels)
    if spec.policy_ref is not None:
        found = [p for p in found if p.get("metadata", {}).get("name") == spec.policy_ref.name]
    slas = []
    for obj in sorted(found, key=lambda o: str(o.get("metadata", {}).get("name"))):
        try:
            parsed = api.MaintenancePolicySpec.model_validate(obj.get("spec") or {})
        except ValidationError:
            into.gaps.append(f"policy {obj['metadata'].get('name')} has an invalid spec and was left out.")
            continue
        into.policies.append(str(obj["metadata"]["name"]))
        slas.append(parsed.sla)
        _analyses(str(obj["metadata"]["name"]), stored.read(api.MaintenancePolicyStatus, obj), into)
    if not into.policies:
        into.gaps.append("No policy matched the report's policyRef or selector.")
        return
    into.sla = slas[0]
    if any(s != slas[0] for s in slas):
        into.gaps.append(f"Policies have different SLAs; the targets of {into.policies[0]} are shown.")


def _analyses(policy: str, read: stored.Read[api.MaintenancePolicyStatus], into: _Gathered) -> None:
    """The latest capacity, configuration audit and security reports in the policy's status."""
    if {"capacity", "configAudit", "security"} & set(read.dropped):
        into.gaps.append(f"policy {policy} has an unreadable analysis report in its status.")
    status = read.status  # the reports that do read are kept
    if status.capacity:
        into.capacity[policy] = status.capacity
    if status.config_audit:
        into.config_audits[policy] = status.config_audit
    if status.security:
        into.security[policy] = status.security


async def _remediations(namespace: str, start: datetime, ports: Ports, into: _Gathered) -> None:
    invalid = 0
    for obj in await ports.objects.list("Remediation", namespace):
        created = _created(obj)
        if _policy_of(obj) not in into.policies or created is None or created < start:
            continue
        read = stored.read(api.RemediationStatus, obj)
        try:
            spec = api.RemediationSpec.model_validate(obj.get("spec") or {})
        except ValidationError:
            invalid += 1
            continue
        if not read.intact:
            invalid += 1
            continue
        into.remediations.append(
            report.remediation_fact(
                name=str(obj["metadata"]["name"]), spec=spec, status=read.status, created_at=created
            )
        )
    if invalid:
        into.gaps.append(f"{invalid} Remediation(s) could not be read and were left out.")


async def _assessments(namespace: str, start: datetime, ports: Ports, into: _Gathered) -> None:
    newest: dict[str, tuple[datetime, api.HealthAssessmentStatus]] = {}
    for obj in await ports.objects.list("HealthAssessment", namespace):
        created, policy = _created(obj), _policy_of(obj)
        if policy not in into.policies or created is None or created < start:
            continue
        read = stored.read(api.HealthAssessmentStatus, obj)
        if not read.intact:
            continue
        status = read.status
        into.issues += [report.IssueFact(i.fingerprint, i.severity, i.category) for i in status.issues]
        if status.token_usage is not None:
            into.tokens = into.tokens.plus(status.token_usage)
        if policy is not None and (policy not in newest or newest[policy][0] < created):
            newest[policy] = (created, status)
    for policy, (_, status) in sorted(newest.items()):
        for f in status.forecasts:
            if f.seconds_to_exhaustion is not None:
                into.findings.append(
                    f"{policy}: {f.indicator} reaches {f.limit:g} in {f.seconds_to_exhaustion / 3600:.1f}h "
                    f"at the current trend (now {f.current:g})."
                )


async def _scores(
    namespace: str, start: datetime, end: datetime, ports: Ports, into: _Gathered
) -> dict[str, report.Series] | None:
    """Series of every policy, prefixed by policy when there are several; None when no policy's history
    could be read at all."""
    merged: dict[str, report.Series] = {}
    unanswered = 0
    for policy in into.policies:
        try:
            series = await ports.scores.scores(namespace=namespace, policy=policy, start=start, end=end)
        except Exception as exc:  # a broken history source makes the report partial, never failed
            log.warning("score history of %s/%s failed: %s", namespace, policy, type(exc).__name__)
            series = None
        if series is None:
            unanswered += 1
            into.gaps.append(f"No score history for {policy}: Prometheus did not answer.")
            continue
        if not any(series.values()):
            into.gaps.append(f"No score history for {policy}: Prometheus has no scores in the period.")
        prefix = f"{policy}/" if len(into.policies) > 1 else ""
        merged.update({prefix + dim: points for dim, points in series.items()})
    return None if into.policies and unanswered == len(into.policies) else merged


def _event(
    name: str, namespace: str, status: api.MaintenanceReportStatus, now: datetime
) -> notification.Event:
    return notification.Event(
        type=notification.EventType.REPORT,
        kind="MaintenanceReport",
        namespace=namespace,
        name=name,
        title=f"{status.phase.value if status.phase else ''} maintenance report {name}".strip(),
        text=status.executive_summary,
        link=(
            f"kubectl get mrep {name} -n {namespace} -o yaml > {name}.yaml && "
            f"python -m maintenance_operator report {name}.yaml --html {name}.html"
        ),
        at=now,
    )


async def reconcile(
    spec: api.MaintenanceReportSpec,
    *,
    name: str,
    namespace: str,
    generation: int | None,
    status: api.MaintenanceReportStatus,
    now: datetime,
    ports: Ports,
) -> Result:
    """Make the report if it is due. Missing data makes it Partial; an unreadable API makes it Failed with
    a retry in RETRY_AFTER; nothing raises."""
    if not due(spec, status, generation=generation, now=now):
        return Result(status=None, next_check=timestamps.parse_or_none(status.next_run_at))
    start = now - timedelta(seconds=api.parse_duration(spec.period))
    facts = _Gathered()
    try:
        await _policies(spec, namespace, ports, facts)
        if facts.policies:
            await _remediations(namespace, start, ports, facts)
            await _assessments(namespace, start, ports, facts)
    except Exception as exc:  # the API server is unreachable or refuses: say so and try again later
        log.warning("report %s/%s: listing objects failed: %s", namespace, name, type(exc).__name__)
        failed = api.MaintenanceReportStatus(
            phase=api.ReportPhase.FAILED,
            observed_generation=generation,
            generated_at=timestamps.rfc3339(now),
            next_run_at=timestamps.rfc3339(now + RETRY_AFTER),
            message=f"could not list objects: {type(exc).__name__}",
        )
        return Result(status=failed, next_check=now + RETRY_AFTER)
    scores = await _scores(namespace, start, now, ports, facts)
    composed = report.compose(
        report.Inputs(
            policies=tuple(facts.policies),
            start=start,
            end=now,
            sla=facts.sla,
            scores=scores,
            issues=facts.issues,
            remediations=facts.remediations,
            tokens=facts.tokens,
            findings=facts.findings,
            gaps=facts.gaps,
            capacity=facts.capacity,
            config_audits=facts.config_audits,
            security=facts.security,
        ),
        now=now,
    )
    upcoming = next_run(spec.schedule, now=now)
    final = composed.model_copy(
        update={
            "observed_generation": generation,
            "next_run_at": timestamps.rfc3339(upcoming) if upcoming else None,
        }
    )
    event = _event(name, namespace, final, now)
    if ports.notifier is not None:
        ports.notifier.notify(event)
    return Result(status=final, next_check=upcoming, events=[event])
