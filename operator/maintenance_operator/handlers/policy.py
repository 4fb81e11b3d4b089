"""MaintenancePolicy: validate, report readiness, and schedule HealthAssessments."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import kopf

from maintenance_operator.adapters import crs
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import retention, schedule, verification
from maintenance_operator.handlers import common
from maintenance_operator.reconcilers import shared_status
from maintenance_operator.runtime import from_memo

log = logging.getLogger(__name__)
PLURAL = "maintenancepolicies"


@kopf.on.resume(api.GROUP, api.VERSION, PLURAL)
@kopf.on.create(api.GROUP, api.VERSION, PLURAL)
@kopf.on.update(api.GROUP, api.VERSION, PLURAL, field="spec")
async def reconcile_policy(
    spec: kopf.Spec,
    meta: kopf.Meta,
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    **_: Any,
) -> None:
    """Parse the spec once per change; an invalid spec is reported in status, never retried in a loop.
    Conditions are merged by type on a fresh read (the assessment writes HealthAlert to the same list)."""
    policy, error = common.parse(api.MaintenancePolicySpec, spec)
    generation = meta.get("generation")
    changes: list[shared_status.ConditionChange]
    if policy is None:
        patch.status["phase"] = api.PolicyPhase.ERROR.value
        changes = [
            shared_status.ConditionChange(
                "Ready", False, "InvalidSpec", error or "", observed_generation=generation
            )
        ]
        await _write_conditions(memo, meta, changes)
        kopf.warn(body, reason="InvalidSpec", message=error or "invalid spec")
        return
    phase = api.PolicyPhase.SUSPENDED if policy.suspend else api.PolicyPhase.ACTIVE
    patch.status["phase"] = phase.value
    patch.status["observedGeneration"] = generation
    notice = verification.delay_notice(policy.verification, [(i.name, i.query) for i in policy.indicators])
    changes = [
        shared_status.ConditionChange(
            "Ready",
            not policy.suspend,
            "Suspended" if policy.suspend else "Accepted",
            "policy suspended: no assessments, no actions" if policy.suspend else "policy accepted",
            observed_generation=generation,
        ),
        shared_status.ConditionChange(
            "VerificationDelayRaised",
            notice is not None,
            "QueryLookback" if notice else "InitialDelayCoversLookback",
            notice or "initialDelay covers every indicator's look-back",
            observed_generation=generation,
        ),
    ]
    await _write_conditions(memo, meta, changes)
    if notice:
        kopf.info(body, reason="VerificationDelayRaised", message=notice)


async def _write_conditions(
    memo: kopf.Memo, meta: kopf.Meta, changes: list[shared_status.ConditionChange]
) -> None:
    written = await shared_status.write(
        from_memo(memo).resources,
        kind="MaintenancePolicy",
        namespace=str(meta["namespace"]),
        name=str(meta["name"]),
        changes=changes,
        now=common.now(),
    )
    if not written:
        raise kopf.TemporaryError("policy conditions not written: the policy kept changing", delay=5)


@kopf.timer(
    api.GROUP, api.VERSION, PLURAL, interval=common.POLICY_SCHEDULE_SECONDS, initial_delay=1.0, id="schedule"
)
async def schedule_assessments(
    spec: kopf.Spec,
    status: kopf.Status,
    name: str,
    namespace: str,
    body: kopf.Body,
    patch: kopf.Patch,
    memo: kopf.Memo,
    **_: Any,
) -> None:
    """Create the HealthAssessment that is due (if any) and prune history beyond historyLimit."""
    policy, _error = common.parse(api.MaintenancePolicySpec, spec)
    if policy is None or policy.suspend:
        return
    runtime = from_memo(memo)
    now = common.now()
    due = schedule.next_due(
        policy_name=name,
        schedule=policy.schedule,
        last_health_check=status.get("lastHealthCheckTime"),
        last_performance_analysis=status.get("lastPerformanceAnalysisTime"),
        now=now,
    )
    if due is not None:
        created = await create_assessment(
            runtime.resources,
            policy=body,
            target=policy.target_ref.name,
            name=due.name,
            analysis=due.analysis,
            trigger=api.Trigger.SCHEDULED,
        )
        stamp = common.iso(now)
        patch.status["lastHealthCheckTime"] = stamp
        if due.analysis is api.AnalysisKind.PERFORMANCE_ANALYSIS:
            patch.status["lastPerformanceAnalysisTime"] = stamp
        if created:
            log.info("created %s %s/%s", due.analysis.value, namespace, due.name)
    await _prune(runtime.resources, namespace=namespace, policy=name, limit=policy.history_limit)
    if due is not None:  # once per assessment is often enough for a retention counted in hours
        await _prune_remediations(runtime.resources, namespace=namespace, policy=name, spec=policy, now=now)


async def create_assessment(
    resources: crs.CustomResources,
    *,
    policy: Mapping[str, Any],
    target: str,
    name: str,
    analysis: api.AnalysisKind,
    trigger: api.Trigger,
    annotations: dict[str, str] | None = None,
) -> bool:
    """Create one HealthAssessment of `policy`, labelled and owned like every other; False when the name
    was already taken (creation is idempotent)."""
    namespace = policy["metadata"]["namespace"]
    policy_name = policy["metadata"]["name"]
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "labels": {
            crs.POLICY_LABEL: policy_name,
            crs.TARGET_LABEL: target,
            crs.ANALYSIS_LABEL: analysis.value,
        },
        "ownerReferences": [crs.owner_reference(policy, kind="MaintenancePolicy")],
    }
    if annotations:
        metadata["annotations"] = annotations
    spec = {"policyRef": {"name": policy_name}, "trigger": trigger.value, "analysis": analysis.value}
    _, created = await resources.create("HealthAssessment", namespace, {"metadata": metadata, "spec": spec})
    return created


async def _prune(resources: crs.CustomResources, *, namespace: str, policy: str, limit: int) -> None:
    items = await resources.list("HealthAssessment", namespace, labels={crs.POLICY_LABEL: policy})
    refs = [
        schedule.AssessmentRef(
            name=item["metadata"]["name"],
            created=str(item["metadata"].get("creationTimestamp", "")),
            phase=(item.get("status") or {}).get("phase"),
        )
        for item in items
    ]
    for victim in schedule.to_prune(refs, history_limit=limit):
        await resources.delete("HealthAssessment", namespace, victim)


def _time(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


async def _prune_remediations(
    resources: crs.CustomResources,
    *,
    namespace: str,
    policy: str,
    spec: api.MaintenancePolicySpec,
    now: datetime,
) -> None:
    """Delete terminal Remediations of this policy older than spec.history.retention."""
    items = await resources.list("Remediation", namespace, labels={crs.POLICY_LABEL: policy})
    refs = []
    for item in items:
        created = _time(item["metadata"].get("creationTimestamp"))
        if created is None:
            continue
        status = item.get("status") or {}
        refs.append(
            retention.RemediationRef(
                name=item["metadata"]["name"],
                created=created,
                phase=status.get("phase"),
                completed=_time(status.get("completedAt")),
            )
        )
    for victim in retention.remediations_to_prune(refs, retention=spec.history, now=now):
        await resources.delete("Remediation", namespace, victim)
        log.info(
            "pruned Remediation %s/%s (older than history.retention %s)",
            namespace,
            victim,
            spec.history.retention,
        )
