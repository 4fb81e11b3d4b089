"""kopf wiring of the periodic analyses: capacity planning, configuration audit, security review.

One loop for every policy (``AnalysesLoop``, a heap of due times fed by the policy watch) checks each
policy every ``ANALYSES_TICK_SECONDS``; ``domain.cadence`` says which analysis is due (capacity daily,
configuration audit weekly and on every target change, security daily, all configurable under
``spec.analyses``). Each due analysis runs through its reconciler and writes its report to the policy
status (``capacity``, ``configAudit``, ``security``), sets the ``Analyses`` condition, posts an Event and
updates the metrics. A failing analysis is reported, never retried in a loop: the others still run and
the next is due one interval later. Nothing here writes to the target.

The configuration audit also re-runs when the target's generation or the allowlisted ConfigMap's
resourceVersion changes (seen at the next check). Audit and security findings and right-sizing
recommendations become Remediations (``audit.raise_findings``, ``capacity.raise_recommendations``), one
per finding, which always wait for a human.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import kopf

from maintenance_operator import metrics
from maintenance_operator.api import stored
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import cadence, scheduling
from maintenance_operator.handlers import common
from maintenance_operator.reconcilers import audit, ports, scheduler, shared_status
from maintenance_operator.reconcilers import capacity as capacity_reconciler
from maintenance_operator.runtime import from_memo

log = logging.getLogger(__name__)
PLURAL = "maintenancepolicies"
#: How often each policy's target is checked for due analyses (and for a changed target or ConfigMap).
ANALYSES_TICK_SECONDS = 300.0
#: The first check after start (or after a policy appears) comes this much later, plus the hash offset.
ANALYSES_INITIAL_DELAY_SECONDS = 15.0
STATUS_FIELD = {
    cadence.Analysis.CAPACITY: "capacity",
    cadence.Analysis.CONFIG_AUDIT: "configAudit",
    cadence.Analysis.SECURITY: "security",
}


def _last_report(
    status: api.MaintenancePolicyStatus, analysis: cadence.Analysis
) -> api.CapacityReport | api.ConfigAuditReport | api.SecurityReport | None:
    if analysis is cadence.Analysis.CAPACITY:
        return status.capacity
    if analysis is cadence.Analysis.CONFIG_AUDIT:
        return status.config_audit
    return status.security


class AnalysisTarget(ports.AuditTarget, ports.CapacityTarget, Protocol):
    """Both ports: what adapters.workload.WorkloadReader offers."""

    async def config_map_version(self, name: str) -> str: ...


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one tick did: status fields to patch, Events to post and the analyses that failed."""

    status: dict[str, Any]
    events: list[tuple[str, str, str]]  # (type, reason, message)
    failed: list[str]
    raised: dict[str, str] = dataclasses.field(default_factory=dict)  # finding fingerprint -> Remediation


def due_analyses(
    *,
    policy: api.MaintenancePolicySpec,
    status: api.MaintenancePolicyStatus,
    now: float,
    target_fingerprint: str,
) -> list[cadence.Analysis]:
    """The analyses due at ``now`` given the reports already in the status."""
    a = policy.analyses
    settings = {
        cadence.Analysis.CAPACITY: (a.capacity.enabled, a.capacity.interval),
        cadence.Analysis.CONFIG_AUDIT: (a.config_audit.enabled, a.config_audit.interval),
        cadence.Analysis.SECURITY: (a.security.enabled, a.security.interval),
    }
    due = []
    for analysis, (enabled, interval) in settings.items():
        report = _last_report(status, analysis)
        last = cadence.LastRun(
            cadence.epoch(report.analyzed_at) if report else None,
            report.target_fingerprint if isinstance(report, api.ConfigAuditReport) else "",
        )
        decision = cadence.decide(
            analysis=analysis,
            last=last,
            now=now,
            interval=api.parse_duration(interval),
            enabled=enabled,
            target_fingerprint=target_fingerprint,
        )
        if decision.due:
            due.append(analysis)
    return due


async def run_due(
    *,
    policy: api.MaintenancePolicySpec,
    status: api.MaintenancePolicyStatus,
    name: str,
    namespace: str,
    target: AnalysisTarget,
    prometheus: Callable[[], Awaitable[ports.RangeSource]],
    now: float,
    findings_to: ports.ObjectStore | None = None,
    policy_body: Mapping[str, Any] | None = None,
) -> Outcome:
    """Run every due analysis; never raises for a failing one (it is reported instead). With
    ``findings_to`` and ``policy_body``, audit and security findings become Remediations there."""
    out = Outcome({}, [], [])
    known_good = status.known_good_config  # drift is only judged against values proven healthy
    deployment = await target.deployment()
    config_ref = policy.actions.config_patch.config_map_ref
    config_version = await target.config_map_version(config_ref.name) if config_ref is not None else ""
    fingerprint = audit.target_fingerprint(deployment, config_version)
    for analysis in due_analyses(policy=policy, status=status, now=now, target_fingerprint=fingerprint):
        started = time.monotonic()
        try:
            report = await _run_one(
                analysis,
                policy=policy,
                namespace=namespace,
                target=target,
                prometheus=prometheus,
                known_good=known_good,
                now=now,
            )
        except Exception as exc:  # one failing analysis must not stop the others or loop the timer
            log.exception("%s of %s/%s failed", analysis.value, namespace, name)
            out.failed.append(analysis.value)
            out.events.append(
                ("Warning", "AnalysisFailed", f"{analysis.value}: {type(exc).__name__}: {exc}"[:1024])
            )
            metrics.ANALYSIS_RUNS.labels(namespace, name, analysis.value, "failed").inc()
            continue
        metrics.ANALYSIS_SECONDS.labels(analysis.value).observe(time.monotonic() - started)
        if isinstance(report, api.ConfigAuditReport):
            report = report.model_copy(update={"target_fingerprint": fingerprint})
        out.status[STATUS_FIELD[analysis]] = report.wire()
        out.events.append(_event(report))
        _record_metrics(report, namespace=namespace, name=name)
        if findings_to is not None and policy_body is not None:
            try:
                if isinstance(report, api.CapacityReport):
                    raised = await capacity_reconciler.raise_recommendations(
                        findings_to,
                        policy_body=policy_body,
                        policy=policy,
                        report=report,
                        deployment=deployment,
                    )
                else:
                    raised = await audit.raise_findings(
                        findings_to,
                        policy_body=policy_body,
                        policy=policy,
                        report=report,
                        known_good=known_good.data if known_good is not None else {},
                    )
                out.raised.update(raised)
            except Exception as exc:  # the report stands; the findings are raised again next run
                log.exception("raising %s findings of %s/%s failed", analysis.value, namespace, name)
                out.events.append(
                    ("Warning", "FindingsNotRaised", f"{analysis.value}: {type(exc).__name__}: {exc}"[:1024])
                )
    return out


async def _run_one(
    analysis: cadence.Analysis,
    *,
    policy: api.MaintenancePolicySpec,
    namespace: str,
    target: AnalysisTarget,
    prometheus: Callable[[], Awaitable[ports.RangeSource]],
    known_good: api.KnownGoodConfig | None,
    now: float,
) -> api.CapacityReport | api.ConfigAuditReport | api.SecurityReport:
    if analysis is cadence.Analysis.CAPACITY:
        return await capacity_reconciler.analyze(
            spec=policy, namespace=namespace, prometheus=await prometheus(), target=target, now=now
        )
    if analysis is cadence.Analysis.CONFIG_AUDIT:
        return await audit.run_config_audit(spec=policy, target=target, known_good=known_good, now=now)
    return await audit.run_security_review(spec=policy, target=target, now=now)


def _event(report: api.CapacityReport | api.ConfigAuditReport | api.SecurityReport) -> tuple[str, str, str]:
    if isinstance(report, api.CapacityReport):
        if not report.sufficient:
            return ("Normal", "CapacityUnknown", report.message[:1024] or "not enough data")
        blocked = [s.name for s in report.scenarios if not s.allowed]
        text = f"headroom {report.headroom_percent}%; blocked scenarios: {', '.join(blocked) or 'none'}"
        return ("Normal", "CapacityAnalyzed", text)
    if isinstance(report, api.ConfigAuditReport):
        return ("Normal", "ConfigAudited", f"score {report.score}, {report.finding_count} findings")
    text = f"score {report.score}, {report.finding_count} findings, {report.overdue_vulnerabilities} overdue"
    if report.message:
        text += f"; {report.message}"
    kind = "Warning" if report.overdue_vulnerabilities else "Normal"
    return (kind, "SecurityReviewed", text)


def _record_metrics(
    report: api.CapacityReport | api.ConfigAuditReport | api.SecurityReport, *, namespace: str, name: str
) -> None:
    if isinstance(report, api.CapacityReport):
        metrics.ANALYSIS_RUNS.labels(
            namespace, name, "capacity", "ok" if report.sufficient else "degraded"
        ).inc()
        if report.headroom_percent is not None:
            metrics.CAPACITY_HEADROOM.labels(namespace, name).set(report.headroom_percent)
        for s in report.scenarios:
            metrics.CAPACITY_REPLICAS_NEEDED.labels(namespace, name, s.name).set(s.replicas)
        return
    analysis = "configAudit" if isinstance(report, api.ConfigAuditReport) else "security"
    metrics.ANALYSIS_RUNS.labels(namespace, name, analysis, "ok").inc()
    score_gauge = metrics.CONFIG_SCORE if analysis == "configAudit" else metrics.SECURITY_SCORE
    score_gauge.labels(namespace, name).set(report.score)
    by_severity = {s.value: 0 for s in api.Severity}
    for f in report.findings:
        by_severity[f.severity] = by_severity.get(f.severity, 0) + 1
    for severity, count in by_severity.items():
        metrics.AUDIT_FINDINGS.labels(namespace, name, analysis, severity).set(count)
    if isinstance(report, api.SecurityReport) and report.vulnerability_counts is not None:
        for severity, count in report.vulnerability_counts.items():
            metrics.VULNERABILITIES.labels(namespace, name, severity, "open").set(count)
        metrics.VULNERABILITIES.labels(namespace, name, "all", "overdue").set(report.overdue_vulnerabilities)


Key = tuple[str, str]  # (namespace, policy name)


class AnalysesLoop:
    """Every policy's analyses on one heap of due times (no kopf timer, hence no live body, per policy).

    The policy watch only adds and removes keys; when a key is due its policy is read fresh, the due
    analyses run (``run_due``) and their reports, the ``Analyses`` condition (merged by type, see
    ``reconcilers/shared_status``) and Events are written. The next check is one tick later; a new key
    starts within the tick, at its hash offset, so a fleet never starts its analyses at once."""

    def __init__(
        self,
        *,
        resources: Callable[[], ports.ObjectStore],
        target_of: Callable[[str, str], AnalysisTarget],
        prometheus_of: Callable[[str, api.PrometheusSpec], Awaitable[ports.RangeSource]],
        tick: float = ANALYSES_TICK_SECONDS,
        initial_delay: float = ANALYSES_INITIAL_DELAY_SECONDS,
        clock: Callable[[], float] = time.time,
        post_events: Callable[[kopf.Body, list[tuple[str, str, str]]], None] = common.post_events,
        owns: Callable[[Mapping[str, Any]], bool] = lambda _body: True,
    ) -> None:
        self.resources = resources
        self.owns = owns  # sharded replicas analyse only the policies of the shards they hold
        self.post_events = post_events
        self.target_of = target_of
        self.prometheus_of = prometheus_of
        self.tick = tick
        self.initial_delay = initial_delay
        self.clock = clock
        self.scheduler: scheduler.Scheduler[Key] = scheduler.Scheduler(
            self.fire, clock=clock, max_concurrent_fires=2
        )
        self.known: set[Key] = set()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run the heap, once. Called from a kopf handler: the task copies the handler's context, which
        holds kopf's event queue, so ``kopf.event`` works from it (a task started in a startup handler
        has no queue and every Event would fail)."""
        if self.task is None:
            self.task = asyncio.create_task(self.scheduler.run())

    def observe(self, key: Key, *, present: bool) -> None:
        """A policy appeared, changed or went away; a change never moves its next check."""
        if not present:
            self.known.discard(key)
            self.scheduler.remove(key)
        elif key not in self.known:
            self.known.add(key)
            offset = scheduling.jitter_fraction(f"{key[0]}/{key[1]}") * self.tick
            self.scheduler.upsert(key, self.clock() + self.initial_delay + offset)

    async def fire(self, key: Key, due: float) -> None:
        try:
            await self.analyze(key)
        finally:
            if key in self.known:  # not deleted meanwhile: the next check one tick later
                self.scheduler.upsert(key, max(due + self.tick, self.clock()))

    async def analyze(self, key: Key) -> None:
        """Run the due analyses of one policy and record them in its status."""
        namespace, name = key
        store = self.resources()
        body = await store.get("MaintenancePolicy", namespace, name)
        if body is None or (body.get("metadata") or {}).get("deletionTimestamp"):
            self.observe(key, present=False)
            return
        if not self.owns(body):
            return
        policy, _error = common.parse(api.MaintenancePolicySpec, body.get("spec"))
        if policy is None or policy.suspend:
            return
        read = stored.read(api.MaintenancePolicyStatus, body)
        conditions = [c.wire() for c in read.status.conditions]
        spec_prometheus = policy.prometheus

        async def prometheus() -> ports.RangeSource:
            return await self.prometheus_of(namespace, spec_prometheus)

        generation = (body.get("metadata") or {}).get("generation")
        try:
            outcome = await run_due(
                policy=policy,
                status=read.status,  # a malformed report reads as missing: that analysis runs again
                name=name,
                namespace=namespace,
                target=self.target_of(namespace, policy.target_ref.name),
                prometheus=prometheus,
                now=self.clock(),
                findings_to=store,
                policy_body=body,
            )
        except Exception as exc:  # the target itself could not be read: say so, try again next tick
            message = f"cannot read target {policy.target_ref.name}: {type(exc).__name__}: {exc}"[:1024]
            change = shared_status.ConditionChange(
                "Analyses", False, "TargetUnreadable", message, observed_generation=generation
            )
            if not shared_status.holds(conditions, [change]):  # not every tick
                await shared_status.write(
                    store,
                    kind="MaintenancePolicy",
                    namespace=namespace,
                    name=name,
                    changes=[change],
                    now=common.now(),
                )
            return
        if not outcome.status and not outcome.failed:
            return
        ok = not outcome.failed
        change = shared_status.ConditionChange(
            "Analyses",
            ok,
            "AnalysesSucceeded" if ok else "AnalysisFailed",
            "ran " + ", ".join(outcome.status) if ok else "failed: " + ", ".join(outcome.failed),
            observed_generation=generation,
        )
        await shared_status.write(
            store,
            kind="MaintenancePolicy",
            namespace=namespace,
            name=name,
            changes=[change],
            fields=outcome.status,
            now=common.now(),
        )
        events = list(outcome.events)
        if outcome.raised:
            events.append(("Normal", "FindingsRaised", f"{len(outcome.raised)} findings need a human"))
        self.post_events(kopf.Body(body), events)


def loop_of(memo: Any) -> AnalysesLoop:
    loop = getattr(memo, "analyses", None)
    if not isinstance(loop, AnalysesLoop):
        raise RuntimeError("analyses loop not initialised: the startup handler did not run")
    return loop


@kopf.on.startup()
async def start_analyses(memo: kopf.Memo, **_: Any) -> None:
    def target_of(namespace: str, name: str) -> AnalysisTarget:
        return from_memo(memo).workload(namespace=namespace, name=name)

    async def prometheus_of(namespace: str, spec: api.PrometheusSpec) -> ports.RangeSource:
        return await from_memo(memo).querier(namespace=namespace, spec=spec)

    loop = AnalysesLoop(
        resources=lambda: from_memo(memo).resources,
        target_of=target_of,
        prometheus_of=prometheus_of,
        owns=lambda body: common.owned(body, memo),
    )
    memo.analyses = loop  # its task starts with the first policy event (see watch_policy_analyses)


@kopf.on.cleanup()
async def stop_analyses(memo: kopf.Memo, **_: Any) -> None:
    loop = getattr(memo, "analyses", None)
    if isinstance(loop, AnalysesLoop) and loop.task is not None:
        loop.task.cancel()


@kopf.on.event(api.GROUP, api.VERSION, PLURAL, id="analyses")
async def watch_policy_analyses(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    meta = body["metadata"]
    gone = event.get("type") == "DELETED" or bool(meta.get("deletionTimestamp"))
    loop = loop_of(memo)
    loop.observe((meta["namespace"], meta["name"]), present=not gone)
    loop.start()
