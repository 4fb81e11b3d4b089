"""One health assessment: query every indicator, judge, score, trend, forecast, classify, summarize.

Async orchestration only (no kopf, no Kubernetes): the handler passes the policy, the carry-over states
and a PrometheusQuerier, and writes the returned status and states. Queries run concurrently, at most
``MAX_CONCURRENT_QUERIES`` at a time. Trend and forecast statistics of one indicator are fetched in one
query each (``label_replace(..., "stat", ...)`` joined with ``or``), on the worst series (``max`` or
``min`` of the indicator query, by direction).

When no indicator yields usable data (Prometheus unreachable, or everything empty / erroring) the
assessment is Inconclusive with the reason, no score and never any issue.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pydantic

from maintenance_operator import metrics
from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.api import stored
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import (
    classification,
    forecasting,
    known_good,
    machine,
    notification,
    promql,
    scoring,
    summary,
    timestamps,
    trends,
)
from maintenance_operator.domain import judgement as judging
from maintenance_operator.reconcilers import measure, ports, propose, remediate, shared_status

log = logging.getLogger(__name__)

MAX_CONCURRENT_QUERIES = 8
MEASUREMENTS_KEPT = 5
_NO_ANSWER = (prom.ErrorKind.UNAVAILABLE, prom.ErrorKind.TIMEOUT)


@dataclasses.dataclass(frozen=True)
class AssessmentOutcome:
    """What the handler writes: the status, the carry-over states, and the number of queries sent."""

    status: api.HealthAssessmentStatus
    states: list[api.IndicatorState]
    queries: int


def _stats(result: prom.QueryResult) -> dict[str, float]:
    return {s.labels["stat"]: s.value for s in result.series if "stat" in s.labels}


class _BoundedQuerier:
    """Limits concurrency and counts queries (and remembers every error kind)."""

    def __init__(self, inner: prom.PrometheusQuerier, *, limit: int = MAX_CONCURRENT_QUERIES) -> None:
        self.inner = inner
        self.semaphore = asyncio.Semaphore(limit)
        self.sent = 0
        self.results: list[prom.QueryResult] = []

    async def query(self, promql: str) -> prom.QueryResult:
        async with self.semaphore:
            self.sent += 1
            result = await self.inner.query(promql)
        self.results.append(result)
        return result

    @property
    def reachable(self) -> bool:
        """True if Prometheus answered anything at all (an error about the query is an answer)."""
        return any(r.error is None or r.error.kind not in _NO_ANSWER for r in self.results)


async def _baseline(
    indicator: api.Indicator, *, query: str, spec: api.TrendSpec, prometheus: prom.PrometheusQuerier
) -> trends.Baseline | None:
    result = await prometheus.query(promql.trend_query(query, direction=indicator.direction, spec=spec))
    stats = _stats(result)
    if result.error is not None or not {"mean", "stddev", "count"} <= stats.keys():
        return None
    return trends.Baseline(mean=stats["mean"], stddev=stats["stddev"], samples=int(stats["count"]))


async def _forecast(
    indicator: api.Indicator, *, namespace: str, deployment: str, prometheus: prom.PrometheusQuerier
) -> api.Forecast | None:
    spec = indicator.forecast
    if spec is None:
        return None
    query = promql.substitute(indicator.query, namespace=namespace, deployment=deployment)
    limit_query = (
        None
        if spec.limit_query is None
        else promql.substitute(spec.limit_query, namespace=namespace, deployment=deployment)
    )
    sent = promql.forecast_query(query, spec=spec, limit_query=limit_query)
    result = await prometheus.query(sent)
    stats = _stats(result)
    limit = spec.limit if spec.limit is not None else stats.get("limit")
    if (
        result.error is not None
        or limit is None
        or not {"current", "predicted", "slope", "count"} <= stats.keys()
    ):
        return None
    return forecasting.forecast_exhaustion(
        indicator=indicator.name,
        current=stats["current"],
        predicted=stats["predicted"],
        slope=stats["slope"],
        samples=int(stats["count"]),
        limit=limit,
        horizon_seconds=api.parse_duration(spec.horizon),
        query=sent,
    )


def _condition(type_: str, status: bool | None, reason: str, message: str, now: datetime) -> api.Condition:
    return machine.condition(
        previous=None,
        type=type_,
        status=machine.condition_status(status),
        reason=reason,
        message=message,
        now=now,
    )


async def assess(
    *,
    policy: api.MaintenancePolicySpec,
    namespace: str,
    analysis: api.AnalysisKind,
    prometheus: prom.PrometheusQuerier,
    states: Sequence[api.IndicatorState],
    now: datetime,
    previous: Sequence[api.IndicatorResult] = (),
) -> AssessmentOutcome:
    """Assess the policy's target once. ``previous`` results carry the last measurements forward."""
    started = time.monotonic()
    deployment = policy.target_ref.name
    bounded = _BoundedQuerier(prometheus)
    performance = analysis is api.AnalysisKind.PERFORMANCE_ANALYSIS
    judged = asyncio.gather(
        *(
            measure.judge(i, namespace=namespace, deployment=deployment, prometheus=bounded)
            for i in policy.indicators
        )
    )
    baselines = asyncio.gather(
        *(
            _baseline(
                i,
                query=promql.substitute(i.query, namespace=namespace, deployment=deployment),
                spec=policy.trend,
                prometheus=bounded,
            )
            for i in (policy.indicators if performance else [])
        )
    )
    predicted = asyncio.gather(
        *(
            _forecast(i, namespace=namespace, deployment=deployment, prometheus=bounded)
            for i in policy.indicators
            if performance and i.forecast is not None
        )
    )
    measured, baseline_list, forecast_list = await asyncio.gather(judged, baselines, predicted)

    old_states = {s.name: s for s in states}
    old_results = {r.name: r for r in previous}
    new_states: list[api.IndicatorState] = []
    observations: list[classification.Observation] = []
    results: list[api.IndicatorResult] = []
    indicator_trends: dict[api.Dimension, list[trends.IndicatorTrend]] = {d: [] for d in api.Dimension}
    for n, (indicator, (raw, query)) in enumerate(zip(policy.indicators, measured, strict=True)):
        state = judging.advance_state(old_states.get(indicator.name), raw, indicator=indicator, now=now)
        new_states.append(state)
        judgement = judging.effective(raw, state, indicator)
        observations.append(
            classification.Observation(
                indicator=indicator,
                judgement=judgement,
                query=query,
                sustained=judging.sustained(state, indicator, now),
                breaching_since=state.breaching_since,
            )
        )
        history = old_results[indicator.name].measurements if indicator.name in old_results else []
        results.append(
            api.IndicatorResult(
                name=indicator.name,
                dimension=indicator.dimension,
                phase=judgement.phase,
                value=judgement.value,
                score=scoring.score_indicator(judgement, indicator),
                query=query,
                series=judgement.series,
                breaching_since=state.breaching_since,
                message=judgement.message[:1024],
                measurements=[*history[-(MEASUREMENTS_KEPT - 1) :], raw.measurement(now)],
            )
        )
        if performance:
            indicator_trends[indicator.dimension].append(
                trends.indicator_trend(
                    current=judgement.value,
                    baseline=baseline_list[n],
                    direction=indicator.direction,
                    spec=policy.trend,
                )
            )

    dimensions = scoring.score_dimensions(results=results, weights=policy.dimension_weights)
    if performance:
        dimensions = [
            d.model_copy(update={"trend": t.trend, "z_score": t.z_score})
            for d in dimensions
            for t in [trends.dimension_trend(indicator_trends[d.dimension])]
        ]
    forecasts = [f for f in forecast_list if f is not None]
    at = timestamps.rfc3339(now)
    completed_at = timestamps.rfc3339(now + timedelta(seconds=time.monotonic() - started))
    reachable = bounded.reachable
    usable = any(o.judgement.level is not None for o in observations)
    reachable_condition = _condition(
        "PrometheusReachable",
        reachable,
        "Answered" if reachable else "Unreachable",
        "" if reachable else _first_error(bounded.results),
        now,
    )

    if not usable:
        if not reachable:
            message = f"Prometheus unreachable: {_first_error(bounded.results)}"
        else:
            message = "no indicator returned usable data (empty, NaN or query errors): not judging health"
        status = api.HealthAssessmentStatus(
            phase=api.AssessmentPhase.INCONCLUSIVE,
            dimensions=dimensions,
            indicator_results=results,
            queries=bounded.sent,
            started_at=at,
            completed_at=completed_at,
            message=message,
            conditions=[
                _condition("Completed", False, "Inconclusive", message, now),
                _condition("HealthAlert", None, scoring.health_alert_reason(None), "no score", now),
                reachable_condition,
            ],
        )
    else:
        issues = classification.classify(
            namespace=namespace,
            target=deployment,
            observations=observations,
            forecasts=forecasts,
            routing=policy.severity_routing,
            now=now,
        )
        overall = scoring.overall_score(dimensions)
        alert = scoring.health_alert(overall)
        status = api.HealthAssessmentStatus(
            phase=api.AssessmentPhase.COMPLETED,
            overall_score=overall,
            healthy=scoring.is_healthy(overall, issues),
            dimensions=dimensions,
            forecasts=forecasts,
            issues=issues,
            indicator_results=results,
            queries=bounded.sent,
            started_at=at,
            completed_at=completed_at,
            message=f"{len(issues)} issue(s), overall {overall}",
            conditions=[
                _condition("Completed", True, "Assessed", f"{analysis.value} completed", now),
                _condition(
                    "HealthAlert",
                    alert,
                    scoring.health_alert_reason(overall),
                    f"overall score {overall} (alert below {scoring.HEALTH_ALERT_BELOW})",
                    now,
                ),
                reachable_condition,
            ],
        )
    text = summary.summarize(status, target=deployment)
    status = status.model_copy(update={"summary": api.Summary(text=text, source=api.SummarySource.OFFLINE)})
    return AssessmentOutcome(status=status, states=new_states, queries=bounded.sent)


def _first_error(results: Sequence[prom.QueryResult]) -> str:
    for result in results:
        if result.error is not None:
            return f"{result.error.kind.value}: {result.error.message}"[:1024]
    return "no answer"


# ---------------------------------------------------------------- one HealthAssessment, end to end


@dataclasses.dataclass
class Run:
    """What the handler writes on the HealthAssessment (status) and posts as Events (type, reason, message).

    ``failure`` is (reason, message) when the assessment could not run at all (its policy is missing or
    invalid); ``status`` is then None."""

    status: api.HealthAssessmentStatus | None = None
    created: dict[str, str] = dataclasses.field(default_factory=dict)
    events: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    failure: tuple[str, str] | None = None


async def run(
    world: ports.Ports, *, name: str, namespace: str, request: api.HealthAssessmentSpec, now: datetime
) -> Run:
    """Assess the requested policy's target once, propose Remediations for the issues, narrate, and feed the
    policy's status (indicator states, score, HealthAlert, known-good config, token budget)."""
    policy_name = request.policy_ref.name
    policy_body = await world.resources.get("MaintenancePolicy", namespace, policy_name)
    if policy_body is None:
        return Run(failure=("PolicyNotFound", f"MaintenancePolicy {policy_name} not found"))
    try:
        policy = api.MaintenancePolicySpec.model_validate(dict(policy_body.get("spec") or {}))
    except pydantic.ValidationError as exc:
        return Run(failure=("InvalidPolicy", f"policy {policy_name} is invalid: {first_error(exc)}"))
    read = stored.read(api.MaintenancePolicyStatus, policy_body)
    if not read.intact:
        log.warning(
            "policy %s/%s: status read without %s: %s", namespace, policy_name, read.dropped, read.reason
        )
    policy_status = read.status
    previous = await _previous_results(
        world, namespace=namespace, last=policy_status.last_assessment, current=name
    )
    querier = await world.querier(namespace=namespace, spec=policy.prometheus)
    try:
        outcome = await assess(
            policy=policy,
            namespace=namespace,
            analysis=request.analysis,
            prometheus=querier,
            states=policy_status.indicator_states,
            now=now,
            previous=previous,
        )
    finally:
        await querier.aclose()
    result = outcome.status
    created: dict[str, str] = {}
    spent = None
    if result.issues and not policy.suspend:
        planner = await world.planner(
            namespace=namespace, policy=policy, budget_state=propose.budget_state(policy_status)
        )
        try:
            created = await propose.propose(
                world,
                planner=planner,
                policy_body=policy_body,
                policy=policy,
                assessment_name=name,
                status=result,
                now=now,
            )
            result = await _narrate(
                planner, result=result, model=policy.llm.model or world.config.default_model
            )
            spent = planner.spent
        finally:
            await planner.aclose()
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
    await _update_policy(
        world,
        policy_body=policy_body,
        current=read,
        policy=policy,
        assessment=name,
        result=result,
        states=outcome.states,
        spent=spent,
        now=now,
    )
    threshold = world.config.health_alert_threshold
    stated = next((c.status for c in policy_status.conditions if c.type == "HealthAlert"), None)
    now_stated = machine.condition_status(
        health_alert_change(result.overall_score, threshold=threshold).status
    )
    events = _observe(
        namespace=namespace,
        policy=policy_name,
        result=result,
        created=created,
        threshold=threshold,
        health_changed=stated != now_stated,
    )
    was_alerting = any(
        c.type == "HealthAlert" and c.status is api.ConditionStatus.TRUE for c in policy_status.conditions
    )
    # one notification when the alert starts, not one per assessment while it lasts
    if scoring.health_alert(result.overall_score, threshold=threshold) and not was_alerting:
        await world.notify(
            notification.Event(
                type=notification.EventType.HEALTH_ALERT,
                namespace=namespace,
                name=policy_name,
                kind="MaintenancePolicy",
                title=f"Health of {namespace}/{policy_name} is {result.overall_score}/10 (< {threshold:g})",
                text=(result.summary.text if result.summary else "") or result.message,
                at=now,
                fields={"assessment": name, "issues": str(len(result.issues))},
            )
        )
    return Run(status=result, created=created, events=events)


def first_error(exc: pydantic.ValidationError) -> str:
    """The first validation error on one line: ``location: message``."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))


def summary_numbers(result: api.HealthAssessmentStatus) -> dict[str, Any]:
    """The computed numbers a narrative may use (nothing else reaches the prompt)."""
    return {
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


async def _narrate(
    planner: ports.Planner, *, result: api.HealthAssessmentStatus, model: str
) -> api.HealthAssessmentStatus:
    """Claude's summary of an unhealthy assessment, from computed numbers only, within the daily budget;
    the offline summary stays when Claude is off, over budget or down. Healthy assessments cost nothing."""
    text, usage = await planner.summarize(summary_numbers(result))
    if not text:
        return result
    narrative = api.Summary(text=text, source=api.SummarySource.LLM, model=model)
    total = usage if result.token_usage is None else result.token_usage.plus(usage)
    return result.model_copy(update={"summary": narrative, "token_usage": total})


async def _previous_results(
    world: ports.Ports, *, namespace: str, last: str | None, current: str
) -> list[api.IndicatorResult]:
    if not last or last == current:
        return []
    previous = await world.resources.get("HealthAssessment", namespace, last)
    return stored.read(api.HealthAssessmentStatus, previous).status.indicator_results


async def _update_policy(
    world: ports.Ports,
    *,
    policy_body: dict[str, Any],
    current: stored.Read[api.MaintenancePolicyStatus],
    policy: api.MaintenancePolicySpec,
    assessment: str,
    result: api.HealthAssessmentStatus,
    states: list[api.IndicatorState],
    spent: Any,
    now: datetime,
) -> None:
    namespace = policy_body["metadata"]["namespace"]
    score = result.overall_score
    alert = health_alert_change(score, threshold=world.config.health_alert_threshold)
    update: dict[str, Any] = {
        "lastAssessment": assessment,
        "overallScore": score,
        "indicatorStates": [s.wire() for s in states],
    }
    config_map = policy.actions.config_patch.config_map_ref
    # a known-good record that did not read back is left alone rather than overwritten from nothing
    unreadable = {"knownGoodConfig", "candidateConfig"} & set(current.dropped)
    if result.phase is api.AssessmentPhase.COMPLETED and config_map is not None and not unreadable:
        target = world.target(namespace=namespace, name=policy.target_ref.name)
        known, candidate = known_good.advance(
            known_good=current.status.known_good_config,
            candidate=current.status.candidate_config,
            config_map=config_map.name,
            current=await remediate.config_values(target, policy),
            healthy=bool(result.healthy),
            now=now,
        )
        update["knownGoodConfig"] = known.wire() if known else None
        update["candidateConfig"] = candidate.wire() if candidate else None
    if spent is not None:
        update["tokenUsageDay"] = spent.day
        update["tokenUsage"] = spent.usage.wire()
    # conditions are shared with the policy handler: merged by type, under a resourceVersion precondition;
    # while HealthAlert holds as read at the start (most assessments) only the fields are patched
    await shared_status.update(
        world.resources, kind="MaintenancePolicy", read=policy_body, changes=[alert], fields=update, now=now
    )


def health_alert_change(score: float | None, *, threshold: float) -> shared_status.ConditionChange:
    """The policy's HealthAlert condition for an overall score. Its message names the state, not the score
    or the assessment (both are in the status beside it), so an unchanged state is not rewritten."""
    if score is None:
        return shared_status.ConditionChange(
            "HealthAlert", None, scoring.health_alert_reason(None), "no score"
        )
    alerting = scoring.health_alert(score, threshold=threshold)
    side = "below" if alerting else "at or above"
    return shared_status.ConditionChange(
        "HealthAlert", alerting, scoring.health_alert_reason(score), f"overall score {side} {threshold:g}"
    )


def _observe(
    *,
    namespace: str,
    policy: str,
    result: api.HealthAssessmentStatus,
    created: dict[str, str],
    threshold: float = scoring.HEALTH_ALERT_BELOW,
    health_changed: bool = True,
) -> list[tuple[str, str, str]]:
    """Count the assessment in metrics; the Events to post about it: warnings always, the Normal
    ``Assessed`` only when the policy's HealthAlert state changes (a healthy repeat is in the status and
    the metrics; an Event for each of them was one more request per assessment)."""
    events: list[tuple[str, str, str]] = []
    phase = result.phase.value if result.phase else "Unknown"
    metrics.ASSESSMENTS.labels(namespace=namespace, policy=policy, result=phase).inc()
    if result.overall_score is not None:
        metrics.HEALTH_SCORE.labels(namespace=namespace, policy=policy, dimension="overall").set(
            result.overall_score
        )
        alert = scoring.health_alert(result.overall_score, threshold=threshold)
        metrics.HEALTH_ALERT.labels(namespace=namespace, policy=policy).set(1 if alert else 0)
        if alert:
            events.append(
                (
                    "Warning",
                    "HealthAlert",
                    f"HIGH: overall health score {result.overall_score} < {threshold:g}",
                )
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
        level = "Warning" if issue.severity in (api.Severity.CRITICAL, api.Severity.HIGH) else "Normal"
        events.append(
            (level, "IssueDetected", f"{issue.severity.value} {issue.category}: {issue.title}{suffix}")
        )
    if result.phase is not api.AssessmentPhase.COMPLETED:
        events.append(("Warning", "Inconclusive", result.message or "no usable data"))
    elif health_changed:
        events.append(
            ("Normal", "Assessed", f"overall {result.overall_score}, {len(result.issues)} issue(s)")
        )
    return events
