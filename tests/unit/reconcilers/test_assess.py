"""Orchestration of one assessment (reconcilers/assess.py) against an in-memory PrometheusQuerier."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.reconcilers import assess as assessor
from maintenance_operator.reconcilers import measure
from tests.fixtures import fakes

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
D = api.Dimension
FakePrometheus = fakes.FakePrometheus
Answer = fakes.Answer


def ind(name: str, dimension: str, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": name,
        "dimension": dimension,
        "query": f'{name.replace("-", "_")}{{namespace="$namespace",deployment="$deployment"}}',
        "warning": 1,
        "critical": 2,
    }
    fields.update(overrides)
    return fields


def policy(*indicators: dict[str, Any], **overrides: Any) -> api.MaintenancePolicySpec:
    base = indicators or (
        ind("errors", "core", category="error-rate", warning=0.01, critical=0.05),
        ind("plugins", "component", category="plugins"),
        ind("llm", "integration", category="external-dependency"),
        ind("drops", "userExperience", category="sessions"),
        ind("logs", "operational", category="logging"),
    )
    return api.MaintenancePolicySpec.model_validate(
        {"targetRef": {"name": "chatapp"}, "indicators": list(base), **overrides}
    )


HEALTHY: dict[str, Answer] = {
    "errors": [0.001],
    "plugins": [0.1],
    "llm": [0.2],
    "drops": [0.0],
    "logs": [0.3],
}


async def run(
    fake: FakePrometheus,
    spec: api.MaintenancePolicySpec | None = None,
    *,
    analysis: api.AnalysisKind = api.AnalysisKind.HEALTH_CHECK,
    states: list[api.IndicatorState] | None = None,
    previous: list[api.IndicatorResult] | None = None,
) -> assessor.AssessmentOutcome:
    return await assessor.assess(
        policy=spec or policy(),
        namespace="chatapp",
        analysis=analysis,
        prometheus=fake,
        states=states or [],
        now=NOW,
        previous=previous or [],
    )


def condition(status: api.HealthAssessmentStatus, type_: str) -> api.Condition:
    return next(c for c in status.conditions if c.type == type_)


async def test_healthy_assessment() -> None:
    fake = FakePrometheus(HEALTHY)
    out = await run(fake)
    s = out.status
    assert s.phase is api.AssessmentPhase.COMPLETED
    assert s.overall_score is not None and s.overall_score >= 8.0
    assert s.healthy is True and s.issues == [] and s.forecasts == []
    assert out.queries == s.queries == 5 == len(fake.sent)
    assert 'errors{namespace="chatapp",deployment="chatapp"}' in fake.sent
    assert s.indicator_results[0].query == 'errors{namespace="chatapp",deployment="chatapp"}'
    assert all(d.trend is api.Trend.UNKNOWN for d in s.dimensions)  # HealthCheck: no trends
    assert condition(s, "Completed").status is api.ConditionStatus.TRUE
    assert condition(s, "HealthAlert").status is api.ConditionStatus.FALSE
    assert condition(s, "PrometheusReachable").status is api.ConditionStatus.TRUE
    assert (
        s.summary is not None
        and s.summary.source is api.SummarySource.OFFLINE
        and "healthy" in s.summary.text
    )
    assert [st.name for st in out.states] == ["errors", "plugins", "llm", "drops", "logs"]
    assert out.states[0].last_good_value == 0.001


async def test_error_spike_raises_high_error_rate_issue_in_core() -> None:
    out = await run(FakePrometheus({**HEALTHY, "errors": [0.001, 0.07]}))
    s = out.status
    [issue] = s.issues
    assert (issue.severity, issue.category, issue.dimension) == (api.Severity.HIGH, "error-rate", D.CORE)
    assert issue.route is api.Route.APPROVAL_REQUIRED
    assert issue.evidence[0].query == 'errors{namespace="chatapp",deployment="chatapp"}'
    assert issue.evidence[0].value == 0.07
    assert s.healthy is False
    core = next(d for d in s.dimensions if d.dimension is D.CORE)
    assert core.score is not None and core.score < 4
    assert s.indicator_results[0].phase is api.MeasurementPhase.FAILED and s.indicator_results[0].series == 2
    assert out.states[0].breaching_since == "2025-01-01T12:00:00Z"


async def test_health_alert_when_overall_below_seven() -> None:
    bad: dict[str, Answer] = {"errors": [1.0], "plugins": [5.0], "llm": [5.0], "drops": [5.0], "logs": [5.0]}
    s = (await run(FakePrometheus(bad))).status
    assert s.overall_score == 1.0
    assert condition(s, "HealthAlert").status is api.ConditionStatus.TRUE
    assert condition(s, "HealthAlert").reason == "ScoreBelow7"
    assert len(s.issues) == 5


async def test_for_delays_the_issue_until_sustained() -> None:
    spec = policy(ind("errors", "core", warning=0.01, critical=0.05, **{"for": "1m"}))
    fake = FakePrometheus({"errors": [0.07]})
    first = await run(fake, spec)
    assert first.status.issues == [] and first.states[0].breaching_since == "2025-01-01T12:00:00Z"
    earlier = api.IndicatorState(name="errors", breaching_since="2025-01-01T11:58:00Z")
    second = await run(fake, spec, states=[earlier])
    assert [i.severity for i in second.status.issues] == [api.Severity.HIGH]
    assert second.status.indicator_results[0].breaching_since == "2025-01-01T11:58:00Z"


async def test_prometheus_unreachable_is_inconclusive_without_issues() -> None:
    down = prom.QueryError(prom.ErrorKind.UNAVAILABLE, "connection refused")
    fake = FakePrometheus({k: down for k in HEALTHY})
    breaching = api.IndicatorState(
        name="errors", breaching_since="2025-01-01T11:00:00Z", consecutive_errors=9
    )
    out = await run(fake, states=[breaching])
    s = out.status
    assert s.phase is api.AssessmentPhase.INCONCLUSIVE
    assert s.message.startswith("Prometheus unreachable: unavailable: connection refused")
    assert s.issues == [] and s.overall_score is None and s.healthy is None
    assert all(d.score is None and d.message == "insufficient data" for d in s.dimensions)
    assert condition(s, "PrometheusReachable").status is api.ConditionStatus.FALSE
    assert condition(s, "Completed").status is api.ConditionStatus.FALSE
    assert condition(s, "HealthAlert").status is api.ConditionStatus.UNKNOWN
    assert s.indicator_results[0].phase is api.MeasurementPhase.ERROR  # 10 errors in a row > limit 4
    assert s.indicator_results[1].phase is api.MeasurementPhase.INCONCLUSIVE  # 1st error: tolerated
    assert s.indicator_results[1].measurements[-1].phase is api.MeasurementPhase.ERROR
    assert out.states[0].consecutive_errors == 10 and out.states[0].breaching_since == "2025-01-01T11:00:00Z"
    assert s.summary is not None and "inconclusive" in s.summary.text


async def test_all_empty_is_inconclusive_but_reachable() -> None:
    s = (await run(FakePrometheus({}))).status
    assert s.phase is api.AssessmentPhase.INCONCLUSIVE
    assert "no indicator returned usable data" in s.message
    assert condition(s, "PrometheusReachable").status is api.ConditionStatus.TRUE
    assert s.issues == []


async def test_bad_query_is_reachable_error_and_dimension_weight_redistributed() -> None:
    bad = prom.QueryError(prom.ErrorKind.BAD_DATA, "parse error")
    s = (await run(FakePrometheus({**HEALTHY, "llm": bad}))).status
    assert s.phase is api.AssessmentPhase.COMPLETED
    integration = next(d for d in s.dimensions if d.dimension is D.INTEGRATION)
    assert (
        integration.score is None
        and integration.effective_weight == 0
        and integration.message == "insufficient data"
    )
    assert sum(d.effective_weight for d in s.dimensions) == pytest.approx(100)
    assert s.issues == []
    assert "bad_data: parse error" in s.indicator_results[2].message


async def test_nan_and_inf_values() -> None:
    s = (await run(FakePrometheus({**HEALTHY, "plugins": [math.nan], "llm": [math.inf]}))).status
    results = {r.name: r for r in s.indicator_results}
    assert results["plugins"].phase is api.MeasurementPhase.INCONCLUSIVE and results["plugins"].score is None
    assert results["llm"].phase is api.MeasurementPhase.FAILED and results["llm"].score == 1.0
    assert [i.severity for i in s.issues] == [api.Severity.CRITICAL]


PERF_INDICATORS = (
    ind("errors", "core", category="error-rate", warning=0.01, critical=0.05),
    ind(
        "memory",
        "core",
        category="memory",
        warning=0.8,
        critical=0.9,
        forecast={"limit": 1.0, "lookback": "5m"},
    ),
    ind(
        "queue",
        "component",
        category="queue",
        warning=100,
        critical=500,
        forecast={"limitQuery": 'queue_limit{namespace="$namespace"}', "horizon": "30m"},
    ),
)


async def test_performance_analysis_trends_and_forecasts() -> None:
    fake = FakePrometheus(
        {
            "errors": [0.004],
            "errors:trend": {"mean": 0.002, "stddev": 0.0005, "count": 60},
            "memory": [0.5],
            "memory:trend": {"mean": 0.5, "stddev": 0.0, "count": 60},
            "memory:forecast": {"current": 0.5, "predicted": 1.22, "slope": 0.0002, "count": 60},
            "queue": [10.0],
            "queue:trend": {"mean": 10.0, "stddev": 2.0, "count": 3},
            "queue:forecast": {"current": 10, "predicted": 10, "slope": 0, "count": 60, "limit": 1000},
        }
    )
    spec = policy(*PERF_INDICATORS, trend={"minSamples": 10})
    out = await run(fake, spec, analysis=api.AnalysisKind.PERFORMANCE_ANALYSIS)
    s = out.status
    assert out.queries == 3 + 3 + 2
    dims = {d.dimension: d for d in s.dimensions}
    assert dims[D.CORE].trend is api.Trend.DEGRADING and dims[D.CORE].z_score == pytest.approx(4.0)
    assert dims[D.COMPONENT].trend is api.Trend.UNKNOWN  # 3 baseline samples < 10
    assert dims[D.INTEGRATION].trend is api.Trend.UNKNOWN
    forecasts = {f.indicator: f for f in s.forecasts}
    assert forecasts["memory"].seconds_to_exhaustion == pytest.approx(2500)
    assert forecasts["queue"].seconds_to_exhaustion is None and forecasts["queue"].limit == 1000
    assert forecasts["queue"].horizon_seconds == 1800
    [issue] = s.issues
    assert (
        issue.predicted and issue.indicator == "memory" and issue.severity is api.Severity.LOW
    )  # 2500 s > half of 1 h
    forecast_q = next(q for q in fake.sent if "predict_linear" in q and "queue" in q)
    assert 'min(queue_limit{namespace="chatapp"})' in forecast_q
    assert (
        "predict_linear((max(queue{" in forecast_q and "[10m:10s]" in forecast_q and ", 1800)" in forecast_q
    )
    trend_q = next(q for q in fake.sent if " offset " in q and "errors" in q)
    assert "[30m:30s] offset 30m" in trend_q and "clamp_min(stddev_over_time(" in trend_q


async def test_forecast_guards_errors_and_missing_stats() -> None:
    fake = FakePrometheus(
        {
            "errors": [0.004],
            "errors:trend": prom.QueryError(prom.ErrorKind.EXECUTION, "boom"),
            "memory": [0.5],
            "memory:forecast": prom.QueryError(prom.ErrorKind.TIMEOUT, "slow"),
            "queue": [10.0],
            "queue:forecast": {"current": 10, "predicted": 10, "slope": 0, "count": 60},  # limit query empty
        }
    )
    s = (await run(fake, policy(*PERF_INDICATORS), analysis=api.AnalysisKind.PERFORMANCE_ANALYSIS)).status
    assert s.forecasts == []
    assert all(d.trend is api.Trend.UNKNOWN for d in s.dimensions)


async def test_lower_is_worse_trend_query_uses_min() -> None:
    spec = policy(ind("up", "operational", direction="LowerIsWorse", warning=1, critical=0.5))
    fake = FakePrometheus({"up": [1.0]})
    await run(fake, spec, analysis=api.AnalysisKind.PERFORMANCE_ANALYSIS)
    assert any(q.startswith("label_replace(avg_over_time((min(up{") for q in fake.sent)


async def test_measurements_history_is_capped() -> None:
    old = [
        api.Measurement(phase=api.MeasurementPhase.SUCCESSFUL, value=float(n), at=f"t{n}") for n in range(7)
    ]
    previous = [
        api.IndicatorResult(
            name="errors",
            dimension=D.CORE,
            phase=api.MeasurementPhase.SUCCESSFUL,
            query="q",
            measurements=old,
        )
    ]
    s = (await run(FakePrometheus(HEALTHY), previous=previous)).status
    history = s.indicator_results[0].measurements
    assert len(history) == assessor.MEASUREMENTS_KEPT
    assert [m.at for m in history[:-1]] == ["t3", "t4", "t5", "t6"]
    assert history[-1].value == 0.001 and history[-1].at == "2025-01-01T12:00:00Z"
    assert len(s.indicator_results[1].measurements) == 1


async def test_queries_are_bounded() -> None:
    many = [ind(f"m{i}", "core") for i in range(20)]
    fake = FakePrometheus({f"m{i}": [0.1] for i in range(20)}, delay=0.01)
    out = await run(fake, policy(*many))
    assert out.queries == 20
    assert 1 < fake.max_in_flight <= assessor.MAX_CONCURRENT_QUERIES


async def test_measure_returns_measurement_and_query() -> None:
    indicator = api.Indicator.model_validate(ind("errors", "core", warning=0.01, critical=0.05))
    fake = FakePrometheus({"errors": [0.07]})
    m, query = await measure.measure(indicator, namespace="ns", deployment="web", prometheus=fake, now=NOW)
    assert query == 'errors{namespace="ns",deployment="web"}'
    assert m.phase is api.MeasurementPhase.FAILED and m.value == 0.07 and m.at == "2025-01-01T12:00:00Z"


async def test_states_carry_over_only_current_indicators() -> None:
    stale = api.IndicatorState(name="removed", consecutive_errors=3)
    out = await run(FakePrometheus(HEALTHY), states=[stale])
    assert "removed" not in {s.name for s in out.states}
