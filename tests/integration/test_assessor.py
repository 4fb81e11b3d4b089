"""One assessment of the sample policy against a real Prometheus scraping exporter-driven Chat App series."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.fixtures.chatapp_series import MIB, sample_policy, serve_chatapp, wait_for_rates
from tests.fixtures.prometheus import MetricsExporter, PrometheusProcess

from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.reconcilers import assess as assessor

pytestmark = pytest.mark.integration


async def run(
    url: str, spec: api.MaintenancePolicySpec, analysis: api.AnalysisKind = api.AnalysisKind.HEALTH_CHECK
) -> assessor.AssessmentOutcome:
    return await assessor.assess(
        policy=spec,
        namespace="chatapp",
        analysis=analysis,
        prometheus=prom.HttpPrometheus(url, timeout=5),
        states=[],
        now=datetime.now(UTC),
    )


async def test_healthy_values_score_high_without_issues(
    shared_exporter: MetricsExporter, shared_prometheus: PrometheusProcess
) -> None:
    serve_chatapp(shared_exporter, deployment="healthy")
    wait_for_rates(shared_prometheus, "healthy")
    out = await run(shared_prometheus.url, sample_policy(deployment="healthy"))
    s = out.status
    unjudged = [
        (r.name, r.message) for r in s.indicator_results if r.phase is not api.MeasurementPhase.SUCCESSFUL
    ]
    assert unjudged == []
    assert s.phase is api.AssessmentPhase.COMPLETED and s.issues == []
    assert s.overall_score is not None and s.overall_score >= 8.0 and s.healthy is True
    assert out.queries == 12


async def test_error_spike_is_a_high_error_rate_issue_in_core(
    shared_exporter: MetricsExporter, shared_prometheus: PrometheusProcess
) -> None:
    serve_chatapp(shared_exporter, deployment="spike", error_ratio=0.07)
    wait_for_rates(shared_prometheus, "spike")
    s = (await run(shared_prometheus.url, sample_policy(deployment="spike"))).status
    [issue] = s.issues
    assert (issue.severity, issue.category, issue.dimension) == (
        api.Severity.HIGH,
        "error-rate",
        api.Dimension.CORE,
    )
    assert issue.evidence[0].value == pytest.approx(0.07, rel=0.05)
    assert 'deployment="spike"' in issue.evidence[0].query
    assert s.healthy is False


async def test_memory_growth_is_forecast(
    shared_exporter: MetricsExporter, shared_prometheus: PrometheusProcess
) -> None:
    serve_chatapp(shared_exporter, deployment="leak", memory_bytes=200 * MIB, memory_per_second=1 * MIB)
    wait_for_rates(shared_prometheus, "leak")
    shared_prometheus.wait_for(
        'count_over_time((max(chatapp_memory_bytes{deployment="leak"}))[20s:1s])',
        lambda v: v != [] and v[0] >= 4,
    )
    out = await run(
        shared_prometheus.url, sample_policy(deployment="leak"), api.AnalysisKind.PERFORMANCE_ANALYSIS
    )
    s = out.status
    memory = next(f for f in s.forecasts if f.indicator == "memory-usage")
    # (512 - ~205 MiB) / 1 MiB/s: about 300 s, within the 1 h horizon and its first quarter.
    assert memory.seconds_to_exhaustion is not None and 200 < memory.seconds_to_exhaustion < 330
    assert memory.limit == 1.0 and memory.confidence > 0
    queue = next(f for f in s.forecasts if f.indicator == "queue-depth")
    assert queue.seconds_to_exhaustion is None
    predicted = [i for i in s.issues if i.predicted]
    assert [(i.indicator, i.severity) for i in predicted] == [("memory-usage", api.Severity.HIGH)]
    assert out.queries == 12 + 12 + 2
    assert all(d.trend is api.Trend.UNKNOWN for d in s.dimensions)  # no baseline 5 min ago


async def test_prometheus_stopped_is_inconclusive(
    metrics_exporter: MetricsExporter, prometheus_server: PrometheusProcess
) -> None:
    serve_chatapp(metrics_exporter, deployment="gone", error_ratio=0.5)
    wait_for_rates(prometheus_server, "gone")
    prometheus_server.stop()
    s = (await run(prometheus_server.url, sample_policy(deployment="gone"))).status
    assert s.phase is api.AssessmentPhase.INCONCLUSIVE
    assert s.message.startswith("Prometheus unreachable: unavailable:") and "refused" in s.message
    assert s.issues == [] and s.overall_score is None
