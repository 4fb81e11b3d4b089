"""One assessment of the sample policy against a real Prometheus scraping exporter-driven Chat App series."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.fixtures.prometheus import MetricsExporter, PrometheusProcess

from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.reconcilers import assess as assessor

pytestmark = pytest.mark.integration
SAMPLE = Path(__file__).resolve().parents[2] / "crds" / "samples" / "chatapp-policy.yaml"
MIB = 1024 * 1024
HISTOGRAMS = {
    # name: (bucket bounds, cumulative fractions) giving a p95 well inside the healthy range
    "chatapp_message_latency_seconds": ((0.1, 0.25, 0.5, 1.0), (0.5, 0.97, 0.99, 1.0)),
    "chatapp_llm_api_latency_seconds": ((1.0, 2.5, 5.0), (0.5, 0.97, 1.0)),
    "chatapp_terminal_render_latency_seconds": ((0.01, 0.025, 0.05), (0.5, 0.97, 1.0)),
}


def sample_policy(*, deployment: str, lookback: str = "20s") -> api.MaintenancePolicySpec:
    """The sample policy targeting `deployment`, with `for: 0s` and a short forecast lookback for tests."""
    spec: dict[str, Any] = yaml.safe_load(SAMPLE.read_text())["spec"]
    spec["targetRef"]["name"] = deployment
    for indicator in spec["indicators"]:
        indicator["for"] = "0s"
        if "forecast" in indicator:
            indicator["forecast"]["lookback"] = lookback
    return api.MaintenancePolicySpec.model_validate(spec)


def serve_chatapp(
    exporter: MetricsExporter,
    *,
    deployment: str,
    error_ratio: float = 0.002,
    memory_bytes: float = 170 * MIB,
    memory_per_second: float = 0.0,
) -> None:
    """Healthy Chat App series for one pod of `deployment` in namespace chatapp (plus the given faults)."""
    labels = {"namespace": "chatapp", "deployment": deployment, "pod": f"{deployment}-0"}
    rps = 100.0

    def counter(name: str, per_second: float) -> None:
        exporter.set(name, 0.0, labels, per_second=per_second)

    counter("chatapp_requests_total", rps)
    counter("chatapp_request_errors_total", rps * error_ratio)
    counter("chatapp_eventbus_messages_total", rps)
    counter("chatapp_llm_api_requests_total", rps / 10)
    counter("chatapp_llm_api_errors_total", rps / 10 * 0.003)
    counter("chatapp_session_drops_total", 0.0)
    for name in ("chatapp_plugin_failures_total", "chatapp_config_reload_failures_total"):
        counter(name, 0.0)
    counter("chatapp_log_write_errors_total", 0.0)
    exporter.set("chatapp_eventbus_queue_depth", 20, labels)
    exporter.set("chatapp_sessions_active", 1000, labels)
    exporter.set("chatapp_memory_limit_bytes", 512 * MIB, labels)
    exporter.set("chatapp_memory_bytes", memory_bytes, labels, per_second=memory_per_second)
    for name, (bounds, fractions) in HISTOGRAMS.items():
        for bound, fraction in zip(bounds, fractions, strict=True):
            exporter.set(f"{name}_bucket", 0.0, {**labels, "le": f"{bound:g}"}, per_second=rps * fraction)
        exporter.set(f"{name}_bucket", 0.0, {**labels, "le": "+Inf"}, per_second=rps)
        exporter.set(f"{name}_count", 0.0, labels, per_second=rps)


def wait_for_rates(server: PrometheusProcess, deployment: str) -> None:
    """rate() needs two samples of every series; predict_linear needs two subquery points."""
    server.wait_for(
        f'count(rate(chatapp_requests_total{{deployment="{deployment}"}}[1m]) > 0)', lambda v: v == [1.0]
    )


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
