"""The Prometheus adapter against a real Prometheus (tests/fixtures/prometheus.py)."""

from __future__ import annotations

import math
import socket
import threading
from collections.abc import Iterator

import pytest
from tests.fixtures.prometheus import MetricsExporter, PrometheusProcess

from maintenance_operator.adapters import prometheus as prom

pytestmark = pytest.mark.integration
K = prom.ErrorKind


@pytest.fixture(params=["http", "api-client"])
def client(request: pytest.FixtureRequest, shared_prometheus: PrometheusProcess) -> prom.PrometheusQuerier:
    if request.param == "http":
        return prom.HttpPrometheus(shared_prometheus.url, timeout=5)
    return prom.ApiClientPrometheus(shared_prometheus.url, timeout=5)


async def test_exported_values_and_labels(
    client: prom.PrometheusQuerier, shared_exporter: MetricsExporter, shared_prometheus: PrometheusProcess
) -> None:
    shared_exporter.set("chatapp_eventbus_queue_depth", 42, {"namespace": "chatapp", "pod": "p1"})
    shared_exporter.set("chatapp_eventbus_queue_depth", math.nan, {"namespace": "chatapp", "pod": "p2"})
    shared_prometheus.wait_for("count(chatapp_eventbus_queue_depth)", lambda v: v == [2.0])
    result = await client.query('chatapp_eventbus_queue_depth{namespace="chatapp"}')
    assert result.ok and result.result_type == "vector"
    by_pod = {s.labels["pod"]: s.value for s in result.series}
    assert by_pod["p1"] == 42 and math.isnan(by_pod["p2"])
    assert by_pod and result.series[0].labels["job"] == "chatapp"


@pytest.mark.parametrize(
    ("promql", "expected", "result_type"),
    [
        ("vector(NaN)", "nan", "vector"),
        ("NaN", "nan", "scalar"),
        ("vector(+Inf)", math.inf, "vector"),
        ("-vector(+Inf)", -math.inf, "vector"),
        ("scalar(vector(3))", 3.0, "scalar"),
    ],
)
async def test_special_values(
    client: prom.PrometheusQuerier, promql: str, expected: float | str, result_type: str
) -> None:
    result = await client.query(promql)
    assert result.ok and result.result_type == result_type
    [value] = result.values
    assert math.isnan(value) if expected == "nan" else value == expected


async def test_empty_is_no_data_not_zero(client: prom.PrometheusQuerier) -> None:
    result = await client.query('chatapp_requests_total{namespace="nowhere"}')
    assert result.ok and result.series == () and result.values == []


async def test_bad_data(client: prom.PrometheusQuerier) -> None:
    result = await client.query("sum(")
    assert result.error is not None and result.error.kind is K.BAD_DATA
    assert "parse error" in result.error.message


async def test_execution_error(client: prom.PrometheusQuerier) -> None:
    result = await client.query('vector(1) + on() (vector(1) or label_replace(vector(2), "x", "y", "", ""))')
    assert result.error is not None and result.error.kind is K.EXECUTION
    assert "many-to-many" in result.error.message


async def test_string_result_is_bad_data(shared_prometheus: PrometheusProcess) -> None:
    result = await prom.HttpPrometheus(shared_prometheus.url, timeout=5).query('"text"')
    assert result.result_type == "string" and result.error is not None and result.error.kind is K.BAD_DATA


async def test_server_down_is_unavailable(prometheus_server: PrometheusProcess) -> None:
    prometheus_server.stop()
    for client in (
        prom.HttpPrometheus(prometheus_server.url, timeout=2),
        prom.ApiClientPrometheus(prometheus_server.url, timeout=2),
    ):
        result = await client.query("up")
        assert result.error is not None and result.error.kind is K.UNAVAILABLE
        assert "refused" in result.error.message.lower()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers: a hung Prometheus."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


async def test_client_timeout(silent_server: str) -> None:
    for client in (
        prom.HttpPrometheus(silent_server, timeout=0.5),
        prom.ApiClientPrometheus(silent_server, timeout=0.5),
    ):
        result = await client.query("up")
        assert result.error is not None and result.error.kind is K.TIMEOUT


def test_bearer_token_and_ca_bundle_session() -> None:
    s = prom.session(bearer_token="t0k", ca_bundle="/etc/ssl/certs/ca-certificates.crt")
    assert s.headers["Authorization"] == "Bearer t0k" and s.verify == "/etc/ssl/certs/ca-certificates.crt"
    assert "Authorization" not in prom.session().headers
