"""HealthAssessment: run one assessment against Prometheus, write its status, feed the policy, propose
remediations for the issues found."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from maintenance_operator import assessor, connections, metrics, proposals
from maintenance_operator.adapters import llm
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import known_good, scoring
from maintenance_operator.handlers import common
from maintenance_operator.runtime import Runtime, from_memo

log = logging.getLogger(__name__)
PLURAL = "healthassessments"
FINISHED = {
    p.value
    for p in (api.AssessmentPhase.COMPLETED, api.AssessmentPhase.INCONCLUSIVE, api.AssessmentPhase.FAILED)
}


def _fail(patch: kopf.Patch, body: kopf.Body, *, reason: str, message: str) -> None:
    patch.status["phase"] = api.AssessmentPhase.FAILED.value
    patch.status["message"] = message
    patch.status["completedAt"] = common.iso(common.now())
    patch.status["conditions"] = common.set_condition(
        body.get("status", {}).get("conditions"),
        type_="Completed",
        status=False,
        reason=reason,
        message=message,
    )
    kopf.warn(body, reason=reason, message=message)


@kopf.on.resume(api.GROUP, api.VERSION, PLURAL)
@kopf.on.create(api.GROUP, api.VERSION, PLURAL)
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
    if status.get("phase") in FINISHED:
        return
    runtime = from_memo(memo)
    now = common.now()
    request, error = common.parse(api.HealthAssessmentSpec, spec)
    if request is None:
        _fail(patch, body, reason="InvalidSpec", message=error or "invalid spec")
        return
    policy_body = await runtime.resources.get("MaintenancePolicy", namespace, request.policy_ref.name)
    if policy_body is None:
        _fail(
            patch,
            body,
            reason="PolicyNotFound",
            message=f"MaintenancePolicy {request.policy_ref.name} not found",
        )
        return
    policy, error = common.parse(api.MaintenancePolicySpec, policy_body.get("spec"))
    if policy is None:
        _fail(
            patch,
            body,
            reason="InvalidPolicy",
            message=f"policy {request.policy_ref.name} is invalid: {error}",
        )
        return
    policy_status = policy_body.get("status") or {}
    states = [api.IndicatorState.model_validate(s) for s in policy_status.get("indicatorStates") or []]
    previous = await _previous_results(
        runtime, namespace=namespace, policy_status=policy_status, current=name
    )
    querier = await connections.querier_for(runtime, namespace=namespace, spec=policy.prometheus)
    try:
        outcome = await assessor.assess(
            policy=policy,
            namespace=namespace,
            analysis=request.analysis,
            prometheus=querier,
            states=states,
            now=now,
            previous=previous,
        )
    finally:
        querier.close()
    result = outcome.status
    created: dict[str, str] = {}
    spent = None
    if result.issues and not policy.suspend:
        created, spent = await proposals.propose(
            runtime, policy_body=policy_body, policy=policy, assessment_name=name, status=result, now=now
        )
    if result.issues and not policy.suspend:
        result, spent = await _narrate(
            runtime, namespace=namespace, policy=policy, policy_body=policy_body, result=result, spent=spent
        )
    issues = [
        i.model_copy(
            update={
                "route": policy.severity_routing.route(i.severity),
                "remediation": created.get(i.fingerprint),
            }
        )
        for i in result.issues
    ]
    result = result.model_copy(update={"issues": issues})
    _write_status(patch, result)
    await _update_policy(
        runtime,
        policy_body=policy_body,
        policy=policy,
        assessment=name,
        result=result,
        states=outcome.states,
        spent=spent,
    )
    _observe(body, namespace=namespace, policy=request.policy_ref.name, result=result, created=created)


async def _narrate(
    runtime: Runtime,
    *,
    namespace: str,
    policy: api.MaintenancePolicySpec,
    policy_body: dict[str, Any],
    result: api.HealthAssessmentStatus,
    spent: Any,
) -> tuple[api.HealthAssessmentStatus, Any]:
    """Claude's summary of an unhealthy assessment, from computed numbers only, within the daily budget;
    the offline summary stays when Claude is off, over budget or down. Healthy assessments cost nothing."""
    status = dict(policy_body.get("status") or {})
    if spent is not None:
        status = {**status, "tokenUsageDay": spent.day, "tokenUsage": spent.usage.wire()}
    planner = await proposals.planner_for(runtime, namespace=namespace, policy=policy, policy_status=status)
    if not isinstance(planner, llm.FallbackPlanner):
        return result, spent
    numbers = {
        "overallScore": result.overall_score,
        "dimensions": [
            {"dimension": d.dimension.value, "score": d.score, "trend": d.trend.value}
            for d in result.dimensions
        ],
        "issues": [
            {
                "severity": i.severity.value,
                "indicator": i.indicator,
                "category": i.category,
                "predicted": i.predicted,
                "value": i.evidence[0].value if i.evidence else None,
            }
            for i in result.issues
        ],
        "forecasts": [
            {"indicator": f.indicator, "secondsToExhaustion": f.seconds_to_exhaustion}
            for f in result.forecasts
        ],
    }
    try:
        text, usage = await planner.summarize(numbers)
    finally:
        await planner.aclose()
    if text:
        summary = api.Summary(
            text=text, source=api.SummarySource.LLM, model=policy.llm.model or runtime.config.default_model
        )
        total = usage if result.token_usage is None else result.token_usage.plus(usage)
        result = result.model_copy(update={"summary": summary, "token_usage": total})
    return result, planner.budget_state


async def _previous_results(
    runtime: Runtime, *, namespace: str, policy_status: dict[str, Any], current: str
) -> list[api.IndicatorResult]:
    last = policy_status.get("lastAssessment")
    if not last or last == current:
        return []
    previous = await runtime.resources.get("HealthAssessment", namespace, last)
    raw = ((previous or {}).get("status") or {}).get("indicatorResults") or []
    return [api.IndicatorResult.model_validate(r) for r in raw]


def _write_status(patch: kopf.Patch, result: api.HealthAssessmentStatus) -> None:
    """The assessor's status, conditions included (Completed, HealthAlert, PrometheusReachable)."""
    for key, value in result.wire().items():
        patch.status[key] = value


async def _update_policy(
    runtime: Runtime,
    *,
    policy_body: dict[str, Any],
    policy: api.MaintenancePolicySpec,
    assessment: str,
    result: api.HealthAssessmentStatus,
    states: list[api.IndicatorState],
    spent: Any,
) -> None:
    namespace = policy_body["metadata"]["namespace"]
    name = policy_body["metadata"]["name"]
    current = policy_body.get("status") or {}
    alert = result.overall_score is not None and scoring.health_alert(result.overall_score)
    update: dict[str, Any] = {
        "lastAssessment": assessment,
        "overallScore": result.overall_score,
        "indicatorStates": [s.wire() for s in states],
        "conditions": common.set_condition(
            current.get("conditions"),
            type_="HealthAlert",
            status=alert if result.overall_score is not None else None,
            reason="OverallBelow7"
            if alert
            else "Healthy"
            if result.overall_score is not None
            else "InsufficientData",
            message=f"assessment {assessment}: overall {result.overall_score}",
        ),
    }
    config_map = policy.actions.config_patch.config_map_ref
    if result.phase is api.AssessmentPhase.COMPLETED and config_map is not None:
        known, candidate = known_good.advance(
            known_good=_config_state(current.get("knownGoodConfig")),
            candidate=_config_state(current.get("candidateConfig")),
            config_map=config_map.name,
            current=await proposals.config_values(runtime, namespace=namespace, policy=policy),
            healthy=bool(result.healthy),
            now=common.now(),
        )
        update["knownGoodConfig"] = known.wire() if known else None
        update["candidateConfig"] = candidate.wire() if candidate else None
    if spent is not None:
        update["tokenUsageDay"] = spent.day
        update["tokenUsage"] = spent.usage.wire()
    await runtime.resources.patch_status("MaintenancePolicy", namespace, name, update)


def _config_state(raw: Any) -> api.KnownGoodConfig | None:
    return api.KnownGoodConfig.model_validate(raw) if raw else None


def _observe(
    body: kopf.Body,
    *,
    namespace: str,
    policy: str,
    result: api.HealthAssessmentStatus,
    created: dict[str, str],
) -> None:
    phase = result.phase.value if result.phase else "Unknown"
    metrics.ASSESSMENTS.labels(namespace=namespace, policy=policy, result=phase).inc()
    if result.overall_score is not None:
        metrics.HEALTH_SCORE.labels(namespace=namespace, policy=policy, dimension="overall").set(
            result.overall_score
        )
        alert = scoring.health_alert(result.overall_score)
        metrics.HEALTH_ALERT.labels(namespace=namespace, policy=policy).set(1 if alert else 0)
        if alert:
            kopf.warn(
                body, reason="HealthAlert", message=f"HIGH: overall health score {result.overall_score} < 7.0"
            )
    for dimension in result.dimensions:
        if dimension.score is not None:
            metrics.HEALTH_SCORE.labels(
                namespace=namespace, policy=policy, dimension=dimension.dimension.value
            ).set(dimension.score)
    for issue in result.issues:
        metrics.ISSUES.labels(
            namespace=namespace, policy=policy, severity=issue.severity.value, category=issue.category
        ).inc()
        remediation = created.get(issue.fingerprint)
        suffix = f"; remediation {remediation}" if remediation else ""
        kopf.event(
            body,
            type="Warning" if issue.severity in (api.Severity.CRITICAL, api.Severity.HIGH) else "Normal",
            reason="IssueDetected",
            message=f"{issue.severity.value} {issue.category}: {issue.title}{suffix}",
        )
    if result.phase is not api.AssessmentPhase.COMPLETED:
        kopf.warn(body, reason="Inconclusive", message=result.message or "no usable data")
    else:
        kopf.info(
            body, reason="Assessed", message=f"overall {result.overall_score}, {len(result.issues)} issue(s)"
        )
