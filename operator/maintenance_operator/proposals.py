"""From an assessment's issues to Remediations: read the target, ask the planner, create one per issue.

Deduplicated per target and issue fingerprint while a Remediation is open; names derive from the
assessment and fingerprint, so re-running after an operator restart creates nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from maintenance_operator import metrics
from maintenance_operator.adapters import crs, kube, llm
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import budget, machine, planning
from maintenance_operator.runtime import Runtime

log = logging.getLogger(__name__)
OUTCOMES_KEPT = 50


async def api_key(runtime: Runtime, *, namespace: str, spec: api.LLMSpec) -> str | None:
    """The Anthropic key from the policy's Secret, else from the operator's environment; never logged."""
    if spec.mode is not api.LLMMode.AUTO:
        return None
    if spec.secret_ref is not None:
        return await runtime.resources.read_secret(namespace, spec.secret_ref.name, spec.secret_ref.key)
    return os.environ.get(runtime.config.anthropic_api_key_env) or None


def budget_state(status: dict[str, Any]) -> budget.BudgetState:
    usage = api.TokenUsage.model_validate(status.get("tokenUsage") or {})
    return budget.BudgetState(day=status.get("tokenUsageDay"), usage=usage)


async def planner_for(
    runtime: Runtime, *, namespace: str, policy: api.MaintenancePolicySpec, policy_status: dict[str, Any]
) -> llm.Planner:
    key = await api_key(runtime, namespace=namespace, spec=policy.llm)
    return llm.select_planner(
        policy.llm,
        api_key=key,
        budget_state=budget_state(policy_status),
        default_daily_tokens=runtime.config.default_daily_token_budget,
        default_model=runtime.config.default_model,
    )


def spent(planner: llm.Planner) -> budget.BudgetState | None:
    """The planner's budget state after its calls, to persist in the policy status (Claude only)."""
    return planner.budget_state if isinstance(planner, llm.FallbackPlanner) else None


async def target_state(target: kube.TargetDeployment, *, now: datetime) -> planning.TargetState:
    deployment = await target.read()
    revisions = await target.revisions(deployment)
    has_hpa = await target.has_hpa()
    spec = deployment.get("spec") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or [{}]
    annotations = (deployment.get("metadata") or {}).get("annotations") or {}
    current = _int(annotations.get("deployment.kubernetes.io/revision"))
    current_created = next((r.created_at for r in revisions if current in r.numbers), None)
    age = (now - machine.parse_time(current_created)).total_seconds() if current_created else None
    return planning.TargetState(
        replicas=int(spec.get("replicas", 1)),
        available_replicas=int((deployment.get("status") or {}).get("availableReplicas") or 0),
        paused=bool(spec.get("paused", False)),
        has_hpa=has_hpa,
        image=str(containers[0].get("image", "")),
        revision=current,
        revisions=[
            planning.RevisionInfo(revision=r.number, image=(r.images or ("",))[0], created_at=r.created_at)
            for r in revisions
        ],
        current_revision_age_seconds=age,
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


async def config_values(
    runtime: Runtime, *, namespace: str, policy: api.MaintenancePolicySpec
) -> dict[str, str]:
    """Current values of the allowlisted ConfigMap keys (nothing else is read into a prompt)."""
    patch = policy.actions.config_patch
    if not patch.enabled or patch.config_map_ref is None:
        return {}
    try:
        cm = await asyncio.to_thread(
            client.CoreV1Api(runtime.api_client).read_namespaced_config_map,
            patch.config_map_ref.name,
            namespace,
        )
    except ApiException:
        return {}
    data = cm.data or {}
    return {k: data[k] for k in patch.allowed_keys if k in data}


def _summaries(
    results: Sequence[api.IndicatorResult], policy: api.MaintenancePolicySpec
) -> list[planning.IndicatorSummary]:
    thresholds = {i.name: i for i in policy.indicators}
    return [
        planning.IndicatorSummary(
            name=r.name,
            dimension=r.dimension.value,
            phase=r.phase.value,
            category=thresholds[r.name].category if r.name in thresholds else "general",
            value=r.value,
            warning=thresholds[r.name].warning if r.name in thresholds else None,
            critical=thresholds[r.name].critical if r.name in thresholds else None,
        )
        for r in results
    ]


_WAITING = {
    api.RemediationPhase.AWAITING_APPROVAL.value,
    api.RemediationPhase.SCHEDULED.value,
    api.RemediationPhase.BACKLOG.value,
}


async def open_remediation(
    runtime: Runtime, *, namespace: str, target: str, fingerprint: str, severity: api.Severity
) -> str | None:
    """Name of a non-terminal Remediation for this target and issue, if one exists. One that waits for a
    human or a window does not count once the issue became more severe: the new severity is routed again
    (the waiting one is declined later if the issue is gone by then)."""
    items = await runtime.resources.list(
        "Remediation", namespace, labels={crs.TARGET_LABEL: target, crs.FINGERPRINT_LABEL: fingerprint[:63]}
    )
    for item in items:
        phase = (item.get("status") or {}).get("phase")
        if machine.is_terminal(api.RemediationPhase(phase) if phase else None):
            continue
        raw = ((item.get("spec") or {}).get("issue") or {}).get("severity")
        earlier = api.Severity(raw) if raw in {s.value for s in api.Severity} else severity
        if phase in _WAITING and api.SEVERITY_ORDER[severity] > api.SEVERITY_ORDER[earlier]:
            continue
        return str(item["metadata"]["name"])
    return None


_ABSORBING = {
    None,
    *(
        p.value
        for p in (
            api.RemediationPhase.PROPOSED,
            api.RemediationPhase.APPROVED,
            api.RemediationPhase.EXECUTING,
            api.RemediationPhase.VERIFYING,
        )
    ),
}


async def open_plans(runtime: Runtime, *, namespace: str, target: str) -> dict[str, str]:
    """Plan key to name of every Remediation on the target that is about to run or running."""
    found: dict[str, str] = {}
    for item in await runtime.resources.list("Remediation", namespace):
        if ((item.get("spec") or {}).get("targetRef") or {}).get("name") != target:
            continue
        phase = (item.get("status") or {}).get("phase")
        # only plans that are about to run or running absorb new issues; one parked for a human or a
        # maintenance window must not swallow a more urgent issue
        if phase not in _ABSORBING:
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
    runtime: Runtime,
    *,
    policy_body: dict[str, Any],
    policy: api.MaintenancePolicySpec,
    assessment_name: str,
    status: api.HealthAssessmentStatus,
    now: datetime,
) -> tuple[dict[str, str], budget.BudgetState | None]:
    """Create Remediations for the routed issues; returns {fingerprint: name} and the budget spent."""
    namespace = policy_body["metadata"]["namespace"]
    policy_name = policy_body["metadata"]["name"]
    target_name = policy.target_ref.name
    created: dict[str, str] = {}
    actionable = [
        i for i in status.issues if policy.severity_routing.route(i.severity) is not api.Route.IGNORE
    ]
    if not actionable or policy.suspend:
        return created, None
    target = kube.TargetDeployment(runtime.api_client, namespace=namespace, name=target_name)
    try:
        state = await target_state(target, now=now)
    except ApiException as exc:
        log.warning("cannot read target %s/%s: %s", namespace, target_name, exc.reason)
        return created, None
    policy_status = policy_body.get("status") or {}
    planner = await planner_for(runtime, namespace=namespace, policy=policy, policy_status=policy_status)
    config = await config_values(runtime, namespace=namespace, policy=policy)
    known_good = (policy_status.get("knownGoodConfig") or {}).get("data") or {}
    outcomes = [api.Outcome.model_validate(o) for o in policy_status.get("outcomes") or []]
    planned = await open_plans(runtime, namespace=namespace, target=target_name)
    for issue in actionable:
        existing = await open_remediation(
            runtime,
            namespace=namespace,
            target=target_name,
            fingerprint=issue.fingerprint,
            severity=issue.severity,
        )
        if existing:
            created[issue.fingerprint] = existing
            continue
        ctx = planning.PlanningContext(
            namespace=namespace,
            target_name=target_name,
            issue=issue,
            target=state,
            actions=policy.actions,
            config=config,
            known_good_config=dict(known_good),
            outcomes=[
                o for o in outcomes if o.fingerprint == issue.fingerprint or o.category == issue.category
            ],
            indicator_summary=_summaries(status.indicator_results, policy),
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
                issue=issue,
                plan=plan,
            ).wire(),
        }
        await runtime.resources.create("Remediation", namespace, body)
        created[issue.fingerprint] = name
        planned[planning.change_identity(plan)] = name
    if isinstance(planner, llm.FallbackPlanner):
        await planner.aclose()
    return created, spent(planner)


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


def record_outcome(outcomes: Sequence[dict[str, Any]], outcome: api.Outcome) -> list[dict[str, Any]]:
    """The knowledge base with one more outcome, newest last, bounded to OUTCOMES_KEPT."""
    kept = [dict(o) for o in outcomes if o.get("remediation") != outcome.remediation]
    return [*kept, outcome.wire()][-OUTCOMES_KEPT:]
