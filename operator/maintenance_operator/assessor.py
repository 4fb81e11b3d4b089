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
import re
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import classification, forecasting, scoring, summary, trends
from maintenance_operator.domain import judgement as judging

MAX_CONCURRENT_QUERIES = 8
MEASUREMENTS_KEPT = 5
SUBQUERY_POINTS = 60
STDDEV_FLOOR = 1e-9
_VARIABLE = re.compile(r"\$(namespace|deployment)\b")
_DNS_LABEL = re.compile(api.DNS_LABEL_PATTERN)
_NO_ANSWER = (prom.ErrorKind.UNAVAILABLE, prom.ErrorKind.TIMEOUT)


@dataclasses.dataclass(frozen=True)
class AssessmentOutcome:
    """What the handler writes: the status, the carry-over states, and the number of queries sent."""

    status: api.HealthAssessmentStatus
    states: list[api.IndicatorState]
    queries: int


def substitute(query: str, *, namespace: str, deployment: str) -> str:
    """The query with $namespace and $deployment replaced; both must be DNS labels (safe in quotes)."""
    for name, value in (("namespace", namespace), ("deployment", deployment)):
        if not _DNS_LABEL.fullmatch(value) or len(value) > 63:
            raise ValueError(f"{name} {value!r} is not a DNS label")
    values = {"namespace": namespace, "deployment": deployment}
    return _VARIABLE.sub(lambda m: values[m.group(1)], query)


def worst_series(query: str, direction: api.Direction) -> str:
    """The query reduced to its worst series."""
    aggregate = "max" if direction is api.Direction.HIGHER_IS_WORSE else "min"
    return f"{aggregate}({query})"


def subquery_step(window: str) -> str:
    """A subquery resolution giving about SUBQUERY_POINTS points over the window (at least 1s)."""
    return f"{max(1, round(api.parse_duration(window) / SUBQUERY_POINTS))}s"


def _stat(expr: str, name: str) -> str:
    return f'label_replace({expr}, "stat", "{name}", "", "")'


def trend_query(query: str, *, direction: api.Direction, spec: api.TrendSpec) -> str:
    """Baseline mean, stddev (floored) and sample count of the worst series, in one query."""
    window = spec.baseline_window
    sub = (
        f"({worst_series(query, direction)})[{window}:{subquery_step(window)}] offset {spec.baseline_offset}"
    )
    return " or ".join(
        (
            _stat(f"avg_over_time({sub})", "mean"),
            _stat(f"clamp_min(stddev_over_time({sub}), {STDDEV_FLOOR:g})", "stddev"),
            _stat(f"count_over_time({sub})", "count"),
        )
    )


def forecast_query(query: str, *, spec: api.ForecastSpec, limit_query: str | None) -> str:
    """Current value, predict_linear at the horizon, deriv, sample count (and limit) in one query."""
    worst = worst_series(query, api.Direction.HIGHER_IS_WORSE)
    sub = f"({worst})[{spec.lookback}:{subquery_step(spec.lookback)}]"
    parts = [
        _stat(worst, "current"),
        _stat(f"predict_linear({sub}, {api.parse_duration(spec.horizon):g})", "predicted"),
        _stat(f"deriv({sub})", "slope"),
        _stat(f"count_over_time({sub})", "count"),
    ]
    if limit_query is not None:
        parts.append(_stat(f"min({limit_query})", "limit"))
    return " or ".join(parts)


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


async def _judge(
    indicator: api.Indicator, *, namespace: str, deployment: str, prometheus: prom.PrometheusQuerier
) -> tuple[judging.Judgement, str]:
    query = substitute(indicator.query, namespace=namespace, deployment=deployment)
    result = await prometheus.query(query)
    error = None if result.error is None else f"{result.error.kind.value}: {result.error.message}"
    return judging.judge(values=result.values, error=error, indicator=indicator), query


async def measure(
    indicator: api.Indicator,
    *,
    namespace: str,
    deployment: str,
    prometheus: prom.PrometheusQuerier,
    now: datetime,
) -> tuple[api.Measurement, str]:
    """One judged measurement of an indicator, and the query as sent (used by verification too)."""
    judgement, query = await _judge(
        indicator, namespace=namespace, deployment=deployment, prometheus=prometheus
    )
    return judgement.measurement(now), query


async def _baseline(
    indicator: api.Indicator, *, query: str, spec: api.TrendSpec, prometheus: prom.PrometheusQuerier
) -> trends.Baseline | None:
    result = await prometheus.query(trend_query(query, direction=indicator.direction, spec=spec))
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
    query = substitute(indicator.query, namespace=namespace, deployment=deployment)
    limit_query = (
        None
        if spec.limit_query is None
        else substitute(spec.limit_query, namespace=namespace, deployment=deployment)
    )
    promql = forecast_query(query, spec=spec, limit_query=limit_query)
    result = await prometheus.query(promql)
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
        query=promql,
    )


def _condition(type_: str, status: bool | None, reason: str, message: str, at: str) -> api.Condition:
    value = {
        True: api.ConditionStatus.TRUE,
        False: api.ConditionStatus.FALSE,
        None: api.ConditionStatus.UNKNOWN,
    }
    return api.Condition(
        type=type_, status=value[status], reason=reason, message=message[:4096], last_transition_time=at
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
            _judge(i, namespace=namespace, deployment=deployment, prometheus=bounded)
            for i in policy.indicators
        )
    )
    baselines = asyncio.gather(
        *(
            _baseline(
                i,
                query=substitute(i.query, namespace=namespace, deployment=deployment),
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
    at = judging.rfc3339(now)
    completed_at = judging.rfc3339(now + timedelta(seconds=time.monotonic() - started))
    reachable = bounded.reachable
    usable = any(o.judgement.level is not None for o in observations)
    reachable_condition = _condition(
        "PrometheusReachable",
        reachable,
        "Answered" if reachable else "Unreachable",
        "" if reachable else _first_error(bounded.results),
        at,
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
                _condition("Completed", False, "Inconclusive", message, at),
                _condition("HealthAlert", None, "Inconclusive", "no score", at),
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
                _condition("Completed", True, "Assessed", f"{analysis.value} completed", at),
                _condition(
                    "HealthAlert",
                    alert,
                    "ScoreBelow7" if alert else "ScoreOK",
                    f"overall score {overall} (alert below {scoring.HEALTH_ALERT_BELOW})",
                    at,
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
