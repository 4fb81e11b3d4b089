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
from maintenance_operator.reconcilers import shared_status
from maintenance_operator.runtime import from_memo

log = logging.getLogger(__name__)
PLURAL = "maintenancepolicies"


@kopf.on.resume(api.GROUP, api.VERSION, PLURAL, when=common.owned)
@kopf.on.create(api.GROUP, api.VERSION, PLURAL, when=common.owned)
@kopf.on.update(api.GROUP, api.VERSION, PLURAL, field="spec", when=common.owned)
async def reconcile_policy(
    spec: kopf.Spec,
    status: kopf.Status,
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
    if status.get("phase") != phase.value or status.get("observedGeneration") != generation:
        patch.status["phase"] = phase.value  # unchanged on resume: no patch at all
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
    if not shared_status.holds(status.get("conditions") or [], changes):  # e.g. on resume after a restart
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
