"""HealthAssessment: parse the request, run the assessment reconciler once, write its status and Events."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import kopf

from maintenance_operator import metrics
from maintenance_operator.api import stored
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import machine, timestamps
from maintenance_operator.handlers import common, schedule
from maintenance_operator.reconcilers import assess
from maintenance_operator.runtime import from_memo

log = logging.getLogger(__name__)
PLURAL = "healthassessments"


def _fail(patch: kopf.Patch, body: kopf.Body, *, reason: str, message: str) -> None:
    patch.status["phase"] = api.AssessmentPhase.FAILED.value
    patch.status["message"] = message
    patch.status["completedAt"] = timestamps.rfc3339(common.now())
    patch.status["conditions"] = common.set_condition(
        [c.wire() for c in stored.read(api.HealthAssessmentStatus, body).status.conditions],
        type_="Completed",
        status=False,
        reason=reason,
        message=message,
    )
    kopf.warn(body, reason=reason, message=message)


def _lag(due: datetime | None, *, stage: str) -> None:
    """Schedule lag of a scheduled assessment (on-demand ones carry no due time)."""
    if due is not None:
        metrics.SCHEDULE_LAG.labels(stage=stage).observe(max(0.0, (common.now() - due).total_seconds()))


@kopf.on.resume(api.GROUP, api.VERSION, PLURAL, when=common.owned)
@kopf.on.create(api.GROUP, api.VERSION, PLURAL, when=common.owned)
async def run_assessment(
    spec: kopf.Spec,
    status: kopf.Status,
    name: str,
    namespace: str,
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    **_: Any,
) -> None:
    """Assess once. Idempotent: a finished assessment is never re-run after an operator restart."""
    if stored.read(api.HealthAssessmentStatus, body).status.phase in machine.ASSESSMENT_FINISHED:
        return
    replica = common.sharded_replica(memo)
    if replica is not None:  # sharded: name the replica that assessed it (written with the status)
        patch.metadata.annotations[common.ASSESSED_BY_ANNOTATION] = replica
    request, error = common.parse(api.HealthAssessmentSpec, spec)
    if request is None:
        _fail(patch, body, reason="InvalidSpec", message=error or "invalid spec")
        return
    fleet = schedule.fleet_of(memo)
    due = timestamps.parse_or_none((body["metadata"].get("annotations") or {}).get(schedule.DUE_ANNOTATION))
    async with fleet.limiter.slot(namespace):
        _lag(due, stage="started")
        try:
            result = await assess.run(
                from_memo(memo), name=name, namespace=namespace, request=request, now=common.now()
            )
        finally:
            _lag(due, stage="completed")
    if result.failure is not None:
        reason, message = result.failure
        _fail(patch, body, reason=reason, message=message)
        return
    assert result.status is not None
    for key, value in result.status.wire().items():
        patch.status[key] = value
    common.post_events(body, result.events)
