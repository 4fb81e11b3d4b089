"""Under the operator's full query load Prometheus still answers an outside client; the pool's limit holds.

Latency numbers are recorded by benchmarks/prometheus_load.py, not asserted here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fixtures import operator_load
from tests.fixtures.chatapp_series import serve_chatapp, wait_for_rates
from tests.fixtures.prometheus import MetricsExporter, PrometheusProcess

pytestmark = pytest.mark.integration
LIMIT = 4


async def test_an_outside_client_is_answered_while_the_limit_holds(
    shared_exporter: MetricsExporter, shared_prometheus: PrometheusProcess, tmp_path: Path
) -> None:
    serve_chatapp(shared_exporter, deployment="chatapp")
    wait_for_rates(shared_prometheus, "chatapp")
    report = await operator_load.run(
        shared_prometheus.url, assessments=60, limit=LIMIT, stop_file=str(tmp_path / "stop")
    )
    assert report.queries >= 60 * 10
    assert report.inconclusive == 0
    assert 1 <= report.peak_sockets <= LIMIT
    assert report.peak_in_flight == LIMIT and report.peak_queued > 0
    assert report.outside_latencies and report.outside_failures == 0
