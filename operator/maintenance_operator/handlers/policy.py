"""MaintenancePolicy: validate, report readiness; create HealthAssessments (see handlers/schedule)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import kopf

from maintenance_operator.adapters import crs
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import verification
from maintenance_operator.handlers import common

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
