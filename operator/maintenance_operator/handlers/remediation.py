"""Remediation: advance the state machine on creation and on a short timer until a terminal phase."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from maintenance_operator import metrics
from maintenance_operator.adapters import crs
from maintenance_operator.api import stored
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import machine
from maintenance_operator.handlers import common
from maintenance_operator.reconcilers import remediate
from maintenance_operator.runtime import from_memo

log = logging.getLogger(__name__)
PLURAL = "remediations"


def _open(status: kopf.Status, annotations: kopf.Annotations, **_: Any) -> bool:
    """Ticked until terminal; an Escalated one until a human acknowledges it (for its reminders)."""
    phase = stored.read(api.RemediationStatus, {"status": status}).status.phase
    if phase is api.RemediationPhase.ESCALATED:
        return crs.ACK_ANNOTATION not in annotations
    return not machine.is_terminal(phase)


async def _advance(body: kopf.Body, memo: kopf.Memo) -> None:
    runtime = from_memo(memo)
    spec, error = common.parse(api.RemediationSpec, body.get("spec"))
    read = stored.read(api.RemediationStatus, body)
    if not read.intact:
        log.warning(
            "remediation %s: status read without %s: %s", body["metadata"]["name"], read.dropped, read.reason
        )
    namespace = body["metadata"]["namespace"]
    name = body["metadata"]["name"]
    if spec is None:
        await runtime.resources.patch_status(
            "Remediation", namespace, name, {"phase": api.RemediationPhase.FAILED.value, "message": error}
        )
        return
    policy_body = await runtime.resources.get("MaintenancePolicy", namespace, spec.policy_ref.name)
    policy: api.MaintenancePolicySpec | None = None
    policy_error: str | None = "not found"
    if policy_body is not None:
        policy, policy_error = common.parse(api.MaintenancePolicySpec, policy_body.get("spec"))
    if policy_body is None or policy is None:
        kopf.warn(body, reason="PolicyUnavailable", message=f"policy {spec.policy_ref.name}: {policy_error}")
        return
    tick = remediate.Tick(
        world=runtime,
        body=dict(body),
        spec=spec,
        status=read.status,
        policy_body=policy_body,
        policy=policy,
        now=common.now(),
    )
    try:
        await remediate.advance(tick)
    finally:
        common.post_events(body, tick.events)


@kopf.index(api.GROUP, api.VERSION, PLURAL)
async def remediation_summaries(namespace: str, body: kopf.Body, **_: Any) -> dict[str, dict[str, Any]]:
    """Every Remediation's summary by namespace (``crs.remediation_summary``): the proposal's dedupe and
    the execution guard read it instead of LISTing. kopf holds every handler until the index is filled.
    Async: a sync handler would hop to kopf's thread pool for every Remediation event."""
    return {namespace: crs.remediation_summary(body)}


# One timer, no change handlers: kopf never runs two invocations of a timer for one object at once, so
# ticks cannot race each other.
@kopf.timer(
    api.GROUP, api.VERSION, PLURAL, interval=common.REMEDIATION_TICK_SECONDS, initial_delay=1.0, when=_open
)
async def remediation_tick(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    if not common.owned(body, memo):  # sharded: only the replica holding the policy's shard advances it
        return
    try:
        await _advance(body, memo)
    except Exception:
        metrics.HANDLER_ERRORS.labels(handler="remediation").inc()
        raise
