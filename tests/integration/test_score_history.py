"""Score history read back from a real Prometheus scraping the operator-style score gauge."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from tests.fixtures.prometheus import MetricsExporter, PrometheusProcess, free_port

from maintenance_operator import metrics
from maintenance_operator.adapters import prometheus_pool, score_history

pytestmark = pytest.mark.integration
History = Callable[..., score_history.PrometheusScoreHistory]


@pytest.fixture
async def history_of() -> AsyncIterator[History]:
    """PrometheusScoreHistory through the operator's bounded pool."""
    pool = prometheus_pool.QueryPool()

    def make(url: str, *, timeout_seconds: float) -> score_history.PrometheusScoreHistory:
        return score_history.PrometheusScoreHistory(pool.querier(url, timeout=timeout_seconds))

    yield make
    await pool.aclose()


async def test_series_per_dimension_for_one_policy(
    shared_exporter: MetricsExporter, shared_prometheus: PrometheusProcess, history_of: History
) -> None:
    for dimension, value in (("overall", 8.5), ("core", 6.0)):
        shared_exporter.set(
            score_history.METRIC, value, {"namespace": "chatapp", "policy": "chatapp", "dimension": dimension}
        )
    shared_exporter.set(
        score_history.METRIC, 1.0, {"namespace": "chatapp", "policy": "other", "dimension": "overall"}
    )
    shared_prometheus.wait_for(f"count({score_history.METRIC})", lambda v: v == [3.0])
    end = datetime.now(UTC) + timedelta(seconds=1)
    history = history_of(shared_prometheus.url, timeout_seconds=5)
    got = await history.scores(
        namespace="chatapp", policy="chatapp", start=end - timedelta(minutes=2), end=end
    )
    assert got is not None and set(got) == {"overall", "core"}
    assert got["overall"] and {v for _, v in got["overall"]} == {8.5}
    assert {v for _, v in got["core"]} == {6.0}
    times = [t for t, _ in got["core"]]
    assert times == sorted(times) and all(t <= end + timedelta(milliseconds=1) for t in times)


async def test_no_prometheus_is_none(history_of: History) -> None:
    history = history_of(f"http://127.0.0.1:{free_port()}", timeout_seconds=2)
    now = datetime.now(UTC)
    assert await history.scores(namespace="n", policy="p", start=now - timedelta(hours=1), end=now) is None


async def test_refused_query_is_none(shared_prometheus: PrometheusProcess, history_of: History) -> None:
    history = history_of(shared_prometheus.url, timeout_seconds=5)
    now = datetime.now(UTC)
    # end before start: Prometheus answers 400 bad_data
    assert await history.scores(namespace="n", policy="p", start=now, end=now - timedelta(hours=1)) is None


@pytest.mark.parametrize(("hours", "step"), [(0.01, 1.0), (1, 18.0), (168, 3024.0)])
def test_step_gives_about_two_hundred_points(hours: float, step: float) -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    assert score_history.step_seconds(start, start + timedelta(hours=hours)) == step


def test_reads_the_gauge_the_operator_exports() -> None:
    assert score_history.METRIC in {family.name for family in metrics.REGISTRY.collect()}
