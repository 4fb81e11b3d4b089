"""MaintenanceReport: make the report when it is created or its spec changes, and again on its schedule.

Change handlers make the first report of each generation; the timer only remakes reports already made
for the current generation, so the two never make the same report twice.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from maintenance_operator import metrics
from maintenance_operator.adapters import score_history
from maintenance_operator.api import stored
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.handlers import common
from maintenance_operator.reconcilers import report as reconciler
from maintenance_operator.runtime import Runtime, from_memo

log = logging.getLogger(__name__)
PLURAL = "maintenancereports"
CHECK_SECONDS = 60.0
_REASONS = {
    api.ReportPhase.READY: "ReportReady",
    api.ReportPhase.PARTIAL: "ReportPartial",
    api.ReportPhase.FAILED: "ReportFailed",
}


async def _notifier(runtime: Runtime) -> reconciler.Notifier | None:
    """The operator's one webhook notifier (None when no webhook is configured)."""
    return await runtime.webhook()


async def ports(runtime: Runtime) -> reconciler.Ports:
    return reconciler.Ports(
        objects=runtime.resources,
        scores=score_history.PrometheusScoreHistory(
            await runtime.querier(namespace="", spec=api.PrometheusSpec())
        ),
        notifier=await _notifier(runtime),
    )


def _current(read: stored.Read[api.MaintenanceReportStatus]) -> api.MaintenanceReportStatus:
    # a status written by hand or by a newer operator that does not read back: start over
    return read.status if read.intact else api.MaintenanceReportStatus()


async def apply(
    *, spec: Any, status: Any, meta: Any, body: kopf.Body, patch: kopf.Patch, ports: reconciler.Ports
) -> None:
    """Reconcile one report and write its status, conditions and an Event; an invalid spec is reported
    in status once, never retried in a loop."""
    generation = meta.get("generation")
    read = stored.read(api.MaintenanceReportStatus, {"status": status})
    conditions = [c.wire() for c in read.status.conditions]
    parsed, error = common.parse(api.MaintenanceReportSpec, spec)
    if parsed is None:
        patch.status["phase"] = api.ReportPhase.FAILED.value
        patch.status["observedGeneration"] = generation
        patch.status["message"] = error or "invalid spec"
        patch.status["conditions"] = common.set_condition(
            conditions,
            type_="Ready",
            status=False,
            reason="InvalidSpec",
            message=error or "",
            generation=generation,
        )
        kopf.warn(body, reason="InvalidSpec", message=error or "invalid spec")
        return
    result = await reconciler.reconcile(
        parsed,
        name=meta["name"],
        namespace=meta["namespace"],
        generation=generation,
        status=_current(read),
        now=common.now(),
        ports=ports,
    )
    made = result.status
    if made is None or made.phase is None:
        return
    wire = made.wire()
    for key, value in wire.items():
        if key != "conditions":
            patch.status[key] = value
    patch.status["nextRunAt"] = made.next_run_at  # None clears a schedule that was removed
    metrics.REPORTS.labels(meta["namespace"], made.phase.value).inc()
    reason = _REASONS.get(made.phase, "ReportFailed")
    message = made.message or made.executive_summary
    patch.status["conditions"] = common.set_condition(
        conditions,
        type_="Ready",
        status=made.phase is not api.ReportPhase.FAILED,
        reason=reason,
        message=message,
        generation=generation,
    )
    if made.phase is api.ReportPhase.FAILED:
        kopf.warn(body, reason=reason, message=message)
    else:
        kopf.info(body, reason=reason, message=message[:1024])


@kopf.on.resume(api.GROUP, api.VERSION, PLURAL, when=common.owned)
@kopf.on.create(api.GROUP, api.VERSION, PLURAL, when=common.owned)
@kopf.on.update(api.GROUP, api.VERSION, PLURAL, field="spec", when=common.owned)
async def make_report(
    spec: kopf.Spec,
    status: kopf.Status,
    meta: kopf.Meta,
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    **_: Any,
) -> None:
    await apply(
        spec=spec, status=status, meta=meta, body=body, patch=patch, ports=await ports(from_memo(memo))
    )


def _made_for_this_generation(status: kopf.Status, meta: kopf.Meta, **_: Any) -> bool:
    made = stored.read(api.MaintenanceReportStatus, {"status": status}).status
    return bool(made.generated_at) and made.observed_generation == meta.get("generation")


@kopf.timer(
    api.GROUP, api.VERSION, PLURAL, interval=CHECK_SECONDS, initial_delay=5.0, when=_made_for_this_generation
)
async def scheduled_report(
    spec: kopf.Spec,
    status: kopf.Status,
    meta: kopf.Meta,
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    **_: Any,
) -> None:
    """Remake Daily/Weekly reports (and retry failed ones) when their time comes."""
    if not common.owned(body, memo):
        return
    await apply(
        spec=spec, status=status, meta=meta, body=body, patch=patch, ports=await ports(from_memo(memo))
    )
