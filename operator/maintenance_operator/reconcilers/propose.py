"""From an assessment's issues to Remediations: ask the planner, create one per issue.

Deduplicated per target and issue fingerprint while a Remediation is open; names derive from the
assessment and fingerprint, so re-running after an operator restart creates nothing twice. The caller
owns the planner (and closes it).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from maintenance_operator import metrics
from maintenance_operator.adapters import crs, errors
from maintenance_operator.api import stored
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import budget, machine, planning, redaction
from maintenance_operator.reconcilers import context, ports, remediate

log = logging.getLogger(__name__)


def budget_state(status: api.MaintenancePolicyStatus) -> budget.BudgetState:
    """The token budget a policy's status records (day and usage so far)."""
    return budget.BudgetState(day=status.token_usage_day, usage=status.token_usage or api.TokenUsage())


def _open_escalation(item: dict[str, Any], *, severity: api.Severity, detected_at: str | None) -> bool:
    """An Escalated Remediation still stands for the issue (one escalation per problem) until a human
    acknowledges it, the issue changes severity, or it clears (a new breach has a new detectedAt)."""
    if stored.read(api.RemediationStatus, item).status.phase is not api.RemediationPhase.ESCALATED:
        return False
    if ((item.get("metadata") or {}).get("annotations") or {}).get(crs.ACK_ANNOTATION):
        return False
    issue = (item.get("spec") or {}).get("issue") or {}
    if issue.get("severity") != severity.value:
        return False
    earlier = issue.get("detectedAt")
    return bool(issue.get("predicted")) or not earlier or not detected_at or earlier == detected_at


async def open_remediation(
    world: ports.Ports,
    *,
    namespace: str,
    target: str,
    fingerprint: str,
    severity: api.Severity,
    detected_at: str | None = None,
) -> str | None:
    """Name of a non-terminal Remediation for this target and issue, if one exists, or of the open
    escalation of the issue. One that waits for a human or a window does not count once the issue became
    more severe: the new severity is routed again (the waiting one is declined later if the issue is gone
    by then)."""
    items = await world.resources.list(
        "Remediation", namespace, labels={crs.TARGET_LABEL: target, crs.FINGERPRINT_LABEL: fingerprint[:63]}
    )
    for item in items:
        phase = stored.read(api.RemediationStatus, item).status.phase
        if _open_escalation(item, severity=severity, detected_at=detected_at):
            return str(item["metadata"]["name"])
        if machine.is_terminal(phase):
            continue
        raw = ((item.get("spec") or {}).get("issue") or {}).get("severity")
        earlier = api.Severity(raw) if raw in {s.value for s in api.Severity} else severity
        if phase in machine.WAITING and api.SEVERITY_ORDER[severity] > api.SEVERITY_ORDER[earlier]:
            continue
        return str(item["metadata"]["name"])
    return None


async def open_plans(world: ports.Ports, *, namespace: str, target: str) -> dict[str, str]:
    """Plan key to name of every Remediation on the target that is about to run or running."""
    found: dict[str, str] = {}
    for item in await world.resources.list("Remediation", namespace):
        if ((item.get("spec") or {}).get("targetRef") or {}).get("name") != target:
            continue
        phase = stored.read(api.RemediationStatus, item).status.phase
        # only plans that are about to run or running absorb new issues; one parked for a human or a
        # maintenance window must not swallow a more urgent issue
        if phase is not None and phase not in machine.ABSORBING:
            continue
        try:
            plan = api.Plan.model_validate((item.get("spec") or {}).get("plan") or {})
        except ValueError:
            continue
        found[planning.change_identity(plan)] = str(item["metadata"]["name"])
    return found


def remediation_name(assessment: str, fingerprint: str) -> str:
    return f"{assessment[:200]}-{fingerprint[:10]}"


async def propose(
    world: ports.Ports,
    *,
    planner: ports.Planner,
    policy_body: dict[str, Any],
    policy: api.MaintenancePolicySpec,
    assessment_name: str,
    status: api.HealthAssessmentStatus,
    now: datetime,
) -> dict[str, str]:
    """Create Remediations for the routed issues; returns {fingerprint: name}."""
    namespace = policy_body["metadata"]["namespace"]
    policy_name = policy_body["metadata"]["name"]
    target_name = policy.target_ref.name
    created: dict[str, str] = {}
    actionable = [
        i for i in status.issues if policy.severity_routing.route(i.severity) is not api.Route.IGNORE
    ]
    if not actionable or policy.suspend:
        return created
    target = world.target(namespace=namespace, name=target_name)
    try:
        state = await target.state(now=now)
    except errors.ApiError as exc:
        log.warning("cannot read target %s/%s: %s", namespace, target_name, exc)
        return created
    policy_status = stored.read(api.MaintenancePolicyStatus, policy_body).status
    config = await remediate.config_values(target, policy)
    planned = await open_plans(world, namespace=namespace, target=target_name)
    for issue in actionable:
        existing = await open_remediation(
            world,
            namespace=namespace,
            target=target_name,
            fingerprint=issue.fingerprint,
            severity=issue.severity,
            detected_at=issue.detected_at,
        )
        if existing:
            created[issue.fingerprint] = existing
            continue
        ctx = context.build(
            namespace=namespace,
            target_name=target_name,
            issue=issue,
            state=state,
            policy=policy,
            policy_status=policy_status,
            config=config,
            indicator_results=status.indicator_results,
            now=now,
        )
        result = await planner.plan(ctx)
        plan = result.plan or planning.offline_plan(ctx)
        same = planned.get(planning.change_identity(plan))
        if same is not None and plan.mutating:
            # one fault often breaches several indicators (queue, latency, sessions): one change, not three
            created[issue.fingerprint] = same
            continue
        if result.fallback_reason:
            metrics.PLANNER_FALLBACKS.labels(reason=result.error_kind or "fallback").inc()
        _count_tokens(namespace=namespace, policy=policy_name, usage=result.usage)
        name = remediation_name(assessment_name, issue.fingerprint)
        body = {
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {
                    crs.POLICY_LABEL: policy_name,
                    crs.TARGET_LABEL: target_name,
                    crs.FINGERPRINT_LABEL: issue.fingerprint[:63],
                },
                "annotations": {
                    f"{api.GROUP}/planner": plan.planner.value,
                    **(
                        {f"{api.GROUP}/planner-fallback": result.fallback_reason}
                        if result.fallback_reason
                        else {}
                    ),
                },
                "ownerReferences": [crs.owner_reference(policy_body, kind="MaintenancePolicy")],
            },
            "spec": api.RemediationSpec(
                policy_ref=api.LocalObjectReference(name=policy_name),
                assessment_ref=api.LocalObjectReference(name=assessment_name),
                target_ref=api.TargetRef(name=target_name),
                # the description quotes what was observed, model and user text included: stored redacted
                issue=issue.model_copy(update={"description": redaction.redact(issue.description)[:2048]}),
                plan=plan,
            ).wire(),
        }
        await world.resources.create("Remediation", namespace, body)
        created[issue.fingerprint] = name
        planned[planning.change_identity(plan)] = name
    return created


def _count_tokens(*, namespace: str, policy: str, usage: api.TokenUsage) -> None:
    for kind, value in (
        ("input", usage.input_tokens),
        ("output", usage.output_tokens),
        ("cache_creation", usage.cache_creation_input_tokens),
        ("cache_read", usage.cache_read_input_tokens),
    ):
        if value:
            metrics.LLM_TOKENS.labels(namespace=namespace, policy=policy, kind=kind).inc(value)
    if usage.estimated_cost_usd:
        metrics.LLM_COST.labels(namespace=namespace, policy=policy).inc(usage.estimated_cost_usd)
