"""MaintenancePolicy: validate, report readiness, and schedule HealthAssessments."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from maintenance_operator.adapters import crs
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import schedule, verification
from maintenance_operator.handlers import common
from maintenance_operator.runtime import from_memo

log = logging.getLogger(__name__)
PLURAL = "maintenancepolicies"


@kopf.on.resume(api.GROUP, api.VERSION, PLURAL)
@kopf.on.create(api.GROUP, api.VERSION, PLURAL)
@kopf.on.update(api.GROUP, api.VERSION, PLURAL, field="spec")
async def reconcile_policy(
    spec: kopf.Spec, status: kopf.Status, meta: kopf.Meta, body: kopf.Body, patch: kopf.Patch, **_: Any
) -> None:
    """Parse the spec once per change; an invalid spec is reported in status, never retried in a loop."""
    policy, error = common.parse(api.MaintenancePolicySpec, spec)
    conditions = list(status.get("conditions") or [])
    generation = meta.get("generation")
    if policy is None:
        patch.status["phase"] = api.PolicyPhase.ERROR.value
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
    phase = api.PolicyPhase.SUSPENDED if policy.suspend else api.PolicyPhase.ACTIVE
    patch.status["phase"] = phase.value
    patch.status["observedGeneration"] = generation
    patch.status["conditions"] = common.set_condition(
        conditions,
        type_="Ready",
        status=not policy.suspend,
        reason="Suspended" if policy.suspend else "Accepted",
        message="policy suspended: no assessments, no actions" if policy.suspend else "policy accepted",
        generation=generation,
    )
    notice = verification.delay_notice(policy.verification, [(i.name, i.query) for i in policy.indicators])
    patch.status["conditions"] = common.set_condition(
        patch.status["conditions"],
        type_="VerificationDelayRaised",
        status=notice is not None,
        reason="QueryLookback" if notice else "InitialDelayCoversLookback",
        message=notice or "initialDelay covers every indicator's look-back",
        generation=generation,
    )
    if notice:
        kopf.info(body, reason="VerificationDelayRaised", message=notice)


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
        _, created = await runtime.resources.create(
            "HealthAssessment",
            namespace,
            {
                "metadata": {
                    "name": due.name,
                    "namespace": namespace,
                    "labels": {
                        crs.POLICY_LABEL: name,
                        crs.TARGET_LABEL: policy.target_ref.name,
                        crs.ANALYSIS_LABEL: due.analysis.value,
                    },
                    "ownerReferences": [crs.owner_reference(body)],
                },
                "spec": {"policyRef": {"name": name}, "trigger": "Scheduled", "analysis": due.analysis.value},
            },
        )
        stamp = common.iso(now)
        patch.status["lastHealthCheckTime"] = stamp
        if due.analysis is api.AnalysisKind.PERFORMANCE_ANALYSIS:
            patch.status["lastPerformanceAnalysisTime"] = stamp
        if created:
            log.info("created %s %s/%s", due.analysis.value, namespace, due.name)
    await _prune(runtime.resources, namespace=namespace, policy=name, limit=policy.history_limit)


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
