"""The one scheduler of HealthAssessments, fed by the watch of MaintenancePolicies (no timer per policy).

Watch events keep the latest policy bodies and a due time per policy in a heap; the scheduler creates the
due assessment, stamps the policy's status and prunes its history from the watched inventory (no LIST)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import kopf

from maintenance_operator import metrics
from maintenance_operator.adapters import crs, errors
from maintenance_operator.api import stored
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.config import OperatorConfig
from maintenance_operator.domain import inventory, machine, retention, schedule, scheduling, timestamps
from maintenance_operator.handlers import common, policy
from maintenance_operator.reconcilers import scheduler
from maintenance_operator.runtime import from_memo

log = logging.getLogger(__name__)
#: Annotation on a scheduled HealthAssessment: the due time it was created for (RFC 3339, microseconds).
DUE_ANNOTATION = f"{api.GROUP}/due"
#: Annotation on a HealthAssessment another replica left unfinished: the replica that took its shard over.
ADOPTED_BY_ANNOTATION = f"{api.GROUP}/adopted-by"


class Fleet:
    """The scheduler's state: latest policy bodies, the heap, the watched inventory, the assessment limit."""

    def __init__(self, resources: Callable[[], crs.CustomResources], *, config: OperatorConfig) -> None:
        self.resources = resources
        self.spread = config.schedule_spread_seconds
        self.bodies: dict[inventory.PolicyKey, dict[str, Any]] = {}
        self.inventory = inventory.Inventory()
        self.limiter = scheduler.FairLimiter(config.max_concurrent_assessments, on_change=_gauge_assessments)
        # a creation costs about 3 API calls (create, stamp, prune): 4 at once at 0.5 s per call start
        # fewer than the 3.3 per second that 1,000 policies on a 5m schedule need (docs/decisions.md)
        self.scheduler: scheduler.Scheduler[inventory.PolicyKey] = scheduler.Scheduler(
            self.fire, max_concurrent_fires=fires_at_once(config)
        )
        self.task: asyncio.Task[None] | None = None
        #: Whether this replica schedules a policy (sharding replaces it; without sharding: every policy).
        self.owns: Callable[[inventory.PolicyKey], bool] = lambda key: True
        self.adoptions: set[asyncio.Task[list[inventory.ObjectKey]]] = set()

    def observe(self, key: inventory.PolicyKey, body: dict[str, Any] | None) -> None:
        """A policy changed (None: deleted): reschedule it from its spec and status."""
        if body is None:
            self.bodies.pop(key, None)
            self.scheduler.remove(key)
        else:
            self.bodies[key] = body
            due = None
            if self.owns(key):
                due = due_time(key, body, now=common.now().timestamp(), spread=self.spread)
            if due is None:
                self.scheduler.remove(key)
            else:
                self.scheduler.upsert(key, due)
        metrics.SCHEDULED_POLICIES.set(len(self.scheduler))

    def reshard(self) -> None:
        """Shards were gained or lost: schedule the policies now owned, drop the others at once."""
        for key, body in list(self.bodies.items()):
            self.observe(key, body)

    async def adopt(self, identity: str) -> list[inventory.ObjectKey]:
        """Shards were gained: touch the assessments their previous holder left unfinished, so that this
        replica's kopf sees them again. kopf runs an object whose handling never finished as a new one (no
        diff-base was stored), and the create handler now passes its ownership filter. Returns the touched."""
        touched: list[inventory.ObjectKey] = []
        for namespace, name in self.inventory.unfinished_of(self.owns):
            try:
                found = await self.resources().annotate(
                    "HealthAssessment", namespace, name, {ADOPTED_BY_ANNOTATION: identity}
                )
            except errors.ApiError as exc:  # the next scheduled run covers the policy
                log.warning("cannot adopt HealthAssessment %s/%s: %s", namespace, name, exc)
                continue
            if found:
                log.info("adopted unfinished HealthAssessment %s/%s", namespace, name)
                touched.append((namespace, name))
        return touched

    def adopt_soon(self, identity: str) -> None:
        """`adopt` in a task of its own (shard listeners are called synchronously)."""
        task = asyncio.get_running_loop().create_task(self.adopt(identity))
        self.adoptions.add(task)
        task.add_done_callback(self.adoptions.discard)

    async def fire(self, key: inventory.PolicyKey, due: float) -> None:
        body = self.bodies.get(key)
        if body is None or not self.owns(key):
            return
        try:
            await self._create_due(key, body, due=due)
        finally:
            if key in self.bodies:  # reschedule from the (locally stamped) status, whatever happened
                self.observe(key, self.bodies[key])

    async def _create_due(self, key: inventory.PolicyKey, body: dict[str, Any], *, due: float) -> None:
        spec, _ = common.parse(api.MaintenancePolicySpec, body.get("spec"))
        if spec is None or spec.suspend:
            return
        namespace, name = key
        status = stored.read(api.MaintenancePolicyStatus, body).status
        now = common.now()
        wanted = schedule.next_due(
            policy_name=name,
            schedule=spec.schedule,
            last_health_check=status.last_health_check_time,
            last_performance_analysis=status.last_performance_analysis_time,
            now=now,
        )
        if wanted is None:
            return
        resources = self.resources()
        created = await policy.create_assessment(
            resources,
            policy=body,
            target=spec.target_ref.name,
            name=wanted.name,
            analysis=wanted.analysis,
            trigger=api.Trigger.SCHEDULED,
            annotations={DUE_ANNOTATION: timestamps.rfc3339_micro(datetime.fromtimestamp(due, UTC))},
        )
        stamp = timestamps.rfc3339(now)
        stamps = {"lastHealthCheckTime": stamp}
        if wanted.analysis is api.AnalysisKind.PERFORMANCE_ANALYSIS:
            stamps["lastPerformanceAnalysisTime"] = stamp
        body["status"] = {**status.wire(), **stamps}
        await resources.patch_status("MaintenancePolicy", namespace, name, stamps)
        if created:
            log.info("created %s %s/%s", wanted.analysis.value, namespace, wanted.name)
            await self.prune(key, spec=spec, now=now)

    async def prune(
        self, key: inventory.PolicyKey, *, spec: api.MaintenancePolicySpec, now: datetime
    ) -> None:
        """On each creation: assessments beyond historyLimit, Remediations beyond history.retention."""
        namespace, _name = key
        resources = self.resources()
        refs = self.inventory.assessments_of(key)
        for victim in schedule.to_prune(refs, history_limit=spec.history_limit):
            await resources.delete("HealthAssessment", namespace, victim)
            self.inventory.forget_assessment(key, victim)
        olds = retention.remediations_to_prune(
            self.inventory.remediations_of(key), retention=spec.history, now=now
        )
        for victim in olds:
            await resources.delete("Remediation", namespace, victim)
            self.inventory.forget_remediation(key, victim)
            log.info(
                "pruned Remediation %s/%s (older than history.retention %s)",
                namespace,
                victim,
                spec.history.retention,
            )


def fires_at_once(config: OperatorConfig) -> int:
    """Due policies whose assessment is being created at once: half the API calls in flight, at least 4
    (the rest stay for the assessments themselves)."""
    return max(4, config.api_max_in_flight // 2)


def _gauge_assessments(active: int, queued: int) -> None:
    metrics.ASSESSMENTS_RUNNING.labels(state="running").set(active)
    metrics.ASSESSMENTS_RUNNING.labels(state="queued").set(queued)


def due_time(key: inventory.PolicyKey, body: dict[str, Any], *, now: float, spread: float) -> float | None:
    """When the policy's next assessment is due (epoch seconds); None if suspended or invalid."""
    spec, _ = common.parse(api.MaintenancePolicySpec, body.get("spec"))
    if spec is None or spec.suspend:
        return None
    status = stored.read(api.MaintenancePolicyStatus, body).status
    last_health = timestamps.parse_or_none(status.last_health_check_time)
    last_perf = timestamps.parse_or_none(status.last_performance_analysis_time)
    return scheduling.due_at(
        f"{key[0]}/{key[1]}",
        intervals=[
            (
                last_health.timestamp() if last_health else None,
                api.parse_duration(spec.schedule.health_check),
            ),
            (
                last_perf.timestamp() if last_perf else None,
                api.parse_duration(spec.schedule.performance_analysis),
            ),
        ],
        now=now,
        spread=spread,
    )


def fleet_of(memo: Any) -> Fleet:
    fleet = getattr(memo, "fleet", None)
    if not isinstance(fleet, Fleet):
        raise RuntimeError("scheduler not initialised: the startup handler did not run")
    return fleet


@kopf.on.startup()
async def start_scheduler(memo: kopf.Memo, **_: Any) -> None:
    fleet = Fleet(lambda: from_memo(memo).resources, config=OperatorConfig.from_env())
    fleet.task = asyncio.create_task(fleet.scheduler.run())
    memo.fleet = fleet


@kopf.on.cleanup()
async def stop_scheduler(memo: kopf.Memo, **_: Any) -> None:
    fleet = getattr(memo, "fleet", None)
    if isinstance(fleet, Fleet) and fleet.task is not None:
        fleet.task.cancel()


def _key(body: kopf.Body) -> inventory.PolicyKey:
    return body["metadata"]["namespace"], body["metadata"]["name"]


#: What the scheduler reads of a policy; the rest (indicators, analyses, actions, reports) is not kept.
_SPEC_KEPT = ("targetRef", "schedule", "historyLimit", "suspend", "history")
_STATUS_KEPT = ("lastHealthCheckTime", "lastPerformanceAnalysisTime")


def compact(body: kopf.Body) -> dict[str, Any] | None:
    """The few fields the scheduler needs, copied (kopf's full body is not retained per policy); None for
    a spec that does not validate (it is never scheduled; the policy handler reports why)."""
    spec = dict(body.get("spec") or {})
    parsed, _ = common.parse(api.MaintenancePolicySpec, spec)
    if parsed is None:
        return None
    meta = body["metadata"]
    status = body.get("status") or {}
    indicator = dict(spec["indicators"][0])  # the spec must still validate: one indicator stands in
    return {
        "apiVersion": body.get("apiVersion", api.API_VERSION),
        "kind": body.get("kind", "MaintenancePolicy"),
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid") if k in meta},
        "spec": {**{k: spec[k] for k in _SPEC_KEPT if k in spec}, "indicators": [indicator]},
        "status": {k: status[k] for k in _STATUS_KEPT if k in status},
    }


@kopf.on.event(api.GROUP, api.VERSION, policy.PLURAL)
async def watch_policy(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    gone = event.get("type") == "DELETED" or body["metadata"].get("deletionTimestamp")
    fleet_of(memo).observe(_key(body), None if gone else compact(body))


def _phase(phase: api.AssessmentPhase | api.RemediationPhase | None) -> str | None:
    return phase.value if phase is not None else None


def _policy_of(body: kopf.Body) -> inventory.PolicyKey:
    return body["metadata"]["namespace"], (body["metadata"].get("labels") or {})[crs.POLICY_LABEL]


@kopf.on.event(api.GROUP, api.VERSION, "healthassessments")
async def watch_assessment(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Every assessment's progress (for a takeover); the scheduler's own, labelled ones also for pruning."""
    fleet = fleet_of(memo)
    meta = body["metadata"]
    gone = event.get("type") == "DELETED"
    phase = stored.read(api.HealthAssessmentStatus, body).status.phase
    fleet.inventory.note_progress(
        (meta["namespace"], meta["name"]),
        policy=common.owner_key(body),
        finished=gone or phase in machine.ASSESSMENT_FINISHED,
    )
    if crs.POLICY_LABEL not in (meta.get("labels") or {}):
        return
    if gone:
        fleet.inventory.forget_assessment(_policy_of(body), meta["name"])
        return
    ref = schedule.AssessmentRef(
        name=meta["name"], created=str(meta.get("creationTimestamp", "")), phase=_phase(phase)
    )
    fleet.inventory.put_assessment(_policy_of(body), ref)


@kopf.on.event(api.GROUP, api.VERSION, "remediations", labels={crs.POLICY_LABEL: kopf.PRESENT})
async def watch_remediation(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    fleet = fleet_of(memo)
    meta = body["metadata"]
    if event.get("type") == "DELETED":
        fleet.inventory.forget_remediation(_policy_of(body), meta["name"])
        return
    created = timestamps.parse_or_none(meta.get("creationTimestamp"))
    if created is None:
        return
    status = stored.read(api.RemediationStatus, body).status
    ref = retention.RemediationRef(
        name=meta["name"],
        created=created,
        phase=_phase(status.phase),
        completed=timestamps.parse_or_none(status.completed_at),
    )
    fleet.inventory.put_remediation(_policy_of(body), ref)
