"""The pooled aiohttp querier on a real Prometheus: the requests adapter's answers, bounded sockets."""

from __future__ import annotations

import asyncio
import math
import os
import socket
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest
from tests.fixtures import sockets
from tests.fixtures.prometheus import MetricsExporter, PrometheusProcess

from maintenance_operator import metrics
from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.adapters import prometheus_pool

pytestmark = pytest.mark.integration

QUERIES = [
    'pool_queue_depth{namespace="pool"}',
    "vector(NaN)",
    "scalar(vector(3))",
    "-vector(+Inf)",
    'nothing_here{pod="x"}',
    "sum(",
    'label_replace(vector(1), "a", "x", "", "")'
    ' + on() group_left label_replace(vector(1) or vector(2), "b", "y", "", "")',
    '"text"',
]


def _same(a: prom.QueryResult, b: prom.QueryResult) -> None:
    assert (a.result_type, a.warnings) == (b.result_type, b.warnings)
    assert (a.error is None) == (b.error is None)
    if a.error is not None and b.error is not None:
        assert a.error == b.error
    by_labels = {tuple(sorted(s.labels.items())): s.value for s in a.series}
    other = {tuple(sorted(s.labels.items())): s.value for s in b.series}
    assert by_labels.keys() == other.keys()
    for key, value in by_labels.items():
        assert (math.isnan(value) and math.isnan(other[key])) or value == other[key]


async def test_answers_equal_the_requests_adapter(
    shared_exporter: MetricsExporter, shared_prometheus: PrometheusProcess
) -> None:
    shared_exporter.set("pool_queue_depth", 7, {"namespace": "pool", "pod": "p1"})
    shared_exporter.set("pool_queue_depth", 9, {"namespace": "pool", "pod": "p2"})
    shared_prometheus.wait_for('count(pool_queue_depth{namespace="pool"})', lambda v: v == [2.0])
    pool = prometheus_pool.QueryPool(max_concurrent=2)
    pooled = pool.querier(shared_prometheus.url, timeout=5)
    sync = prom.HttpPrometheus(shared_prometheus.url, timeout=5)
    try:
        for q in QUERIES:
            _same(await pooled.query(q), await sync.query(q))
        end = time.time()
        for q in ('pool_queue_depth{namespace="pool"}', "sum(", "vector(1)"):
            a = await pooled.query_range(q, start=end - 30, end=end, step=5)
            b = await sync.query_range(q, start=end - 30, end=end, step=5)
            assert (a.ok, a.error) == (b.ok, b.error)
            assert {tuple(sorted(s.labels.items())) for s in a.series} == {
                tuple(sorted(s.labels.items())) for s in b.series
            }
            assert a.series or not a.ok
    finally:
        sync.close()
        await pool.aclose()


async def test_a_down_endpoint_is_unavailable_and_a_silent_one_times_out() -> None:
    pool = prometheus_pool.QueryPool()
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connects, never answers
        port = silent.getsockname()[1]
        slow = await pool.querier(f"http://127.0.0.1:{port}", timeout=0.5).query("up")
    assert slow.error is not None and slow.error.kind is prom.ErrorKind.TIMEOUT
    try:
        down = await pool.querier("http://127.0.0.1:9", timeout=1).query("up")
        assert down.error is not None and down.error.kind is prom.ErrorKind.UNAVAILABLE
        ranged = await pool.querier("http://127.0.0.1:9", timeout=1).query_range(
            "up", start=0, end=60, step=15
        )
        assert ranged.error is not None and ranged.error.kind is prom.ErrorKind.UNAVAILABLE
    finally:
        await pool.aclose()


@pytest.mark.parametrize("limit", [1, 3])
async def test_fifty_concurrent_queries_hold_at_most_the_limit_of_sockets(
    limit: int, shared_prometheus: PrometheusProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    port = urllib.parse.urlsplit(shared_prometheus.url).port
    assert port is not None
    pool = prometheus_pool.QueryPool(max_concurrent=limit, qps=0)
    peak_sockets = peak_in_flight = peak_queued = 0
    done = asyncio.Event()

    async def watch() -> None:
        nonlocal peak_sockets, peak_in_flight, peak_queued
        while not done.is_set():
            peak_sockets = max(peak_sockets, sockets.established_to(port))
            peak_in_flight = max(peak_in_flight, pool.in_flight)
            peak_queued = max(
                peak_queued,
                int(metrics.REGISTRY.get_sample_value("maintenance_operator_prometheus_queries_queued") or 0),
            )
            await asyncio.sleep(0)

    # Each query is a subquery over a few minutes at 1 ms resolution: slow enough to overlap.
    promql = "count_over_time(vector(1)[2m:1ms])"
    watcher = asyncio.create_task(watch())
    try:
        results = await asyncio.gather(
            *(pool.querier(shared_prometheus.url, timeout=20).query(promql) for _ in range(50))
        )
    finally:
        done.set()
        await watcher
    try:
        assert all(r.ok for r in results), [r.error for r in results if r.error][:1]
        assert 1 <= peak_sockets <= limit
        assert peak_in_flight == limit
        assert peak_queued >= 50 - limit - 1
        assert pool.in_flight == 0 and pool.queued == 0
        assert os.listdir(tmp_path) == []
    finally:
        await pool.aclose()


async def test_the_endpoint_rate_limit_spaces_queries(shared_prometheus: PrometheusProcess) -> None:
    pool = prometheus_pool.QueryPool(max_concurrent=4, qps=20)
    querier = pool.querier(shared_prometheus.url, timeout=5)
    try:
        started = time.monotonic()
        results = await asyncio.gather(*(querier.query("vector(1)") for _ in range(24)))
        elapsed = time.monotonic() - started
    finally:
        await pool.aclose()
    assert all(r.ok for r in results)
    # A burst of 4, then 20 more at 20/s: about one second, never all at once.
    assert elapsed >= 0.9
