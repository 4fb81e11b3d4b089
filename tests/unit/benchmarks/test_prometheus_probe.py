"""The probe's pure parts (the /proc table, percentiles) and its connection count on real loopback sockets."""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from benchmarks import prometheus_probe as probe

HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"


def row(remote: str, *, state: str = "01", inode: str = "1001") -> str:
    timers = "00000000:00000000 00:00000000 00000000"
    return f"   0: 0100007F:D431 {remote} {state} {timers}  1000        0 {inode} 1\n"


def v4(address: str) -> str:
    """127.0.0.1 -> 0100007F on a little-endian host, as the kernel prints it."""
    return int.from_bytes(ipaddress.IPv4Address(address).packed, "little").to_bytes(4, "big").hex().upper()


PROMETHEUS = {ipaddress.ip_address("127.0.0.1")}


def test_decode_address_reads_ipv4_ipv6_and_mapped_addresses() -> None:
    assert probe.decode_address("0100007F") == ipaddress.ip_address("127.0.0.1")
    assert probe.decode_address("00000000000000000000000001000000") == ipaddress.ip_address("::1")
    assert probe.decode_address("0000000000000000FFFF00000100007F") == ipaddress.ip_address("127.0.0.1")


def test_established_counts_only_the_processs_open_rows_to_the_address_and_port() -> None:
    table = HEADER + "".join(
        [
            row(f"{v4('127.0.0.1')}:1F90"),  # counted
            row(f"{v4('127.0.0.1')}:1F90", inode="1002"),  # counted
            row(f"{v4('127.0.0.1')}:1F90", state="06"),  # TIME_WAIT
            row(f"{v4('127.0.0.1')}:1F91"),  # another port
            row(f"{v4('10.0.0.7')}:1F90"),  # another host
            row(f"{v4('127.0.0.1')}:1F90", inode="9999"),  # another process's socket
        ]
    )
    inodes = {"1001", "1002"}
    assert probe.established(table, inodes=inodes, port=0x1F90, addresses=PROMETHEUS) == 2
    assert probe.established(table, inodes=inodes, port=0x1F90) == 3  # any host
    assert probe.established(HEADER, inodes=inodes, port=0x1F90) == 0


def test_established_matches_an_ipv4_mapped_row_of_tcp6() -> None:
    table = HEADER + row("0000000000000000FFFF00000100007F:1F90")
    assert probe.established(table, inodes={"1001"}, port=0x1F90, addresses=PROMETHEUS) == 1


def test_percentile_is_nearest_rank_and_none_when_empty() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert probe.percentile(values, 0.5) == 51
    assert probe.percentile(values, 0.99) == 100
    assert probe.percentile([3.0, 1.0, 2.0], 0.0) == 1
    assert probe.percentile([], 0.5) is None


def test_latency_summary_counts_failures_and_reports_milliseconds() -> None:
    samples = [(0.010, True), (0.020, True), (5.0, False), (0.030, True)]
    assert probe.latency_summary(samples, prefix="q") == {
        "q_p50_ms": 30.0,
        "q_p99_ms": 5000.0,
        "q_max_ms": 5000.0,
        "q_count": 4,
        "q_failed": 1,
    }
    assert probe.latency_summary([], prefix="q")["q_p50_ms"] is None


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield server
    server.close()


def test_connections_to_counts_this_processs_real_loopback_connections(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
    accepted = [listener.accept()[0] for _ in clients]  # their remote port is not the listener's
    try:
        assert probe.connections_to(os.getpid(), port=port, addresses=probe.resolve("127.0.0.1")) == 5
        assert probe.connections_to("self", port=port) == 5
        assert probe.connections_to(os.getpid(), port=port, addresses=probe.resolve("127.0.0.2")) == 0
        clients.pop().close()
        assert probe.connections_to(os.getpid(), port=port, addresses=probe.resolve("127.0.0.1")) == 4
    finally:
        for sock in clients + accepted:
            sock.close()


CLIENT = """
import socket, sys
held = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(int(sys.argv[2]))]
print("ready", flush=True)
sys.stdin.read()
"""


def test_probe_counts_another_processs_connections_and_a_silent_prometheus_as_timed_out(
    listener: socket.socket,
) -> None:
    port = listener.getsockname()[1]
    child = subprocess.Popen(
        [sys.executable, "-c", CLIENT, str(port), "3"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        # the listener accepts but never answers: every outside query times out; its own connection is
        # this process's, not the child's, so it is not counted
        with probe.Probe(f"http://127.0.0.1:{port}", pids=[child.pid], interval=0.05, timeout=0.3) as seen:
            while len(seen.connections) < 3 or len(seen.queries) < 2:
                time.sleep(0.02)
    finally:
        child.kill()
        child.wait()
    assert seen.connection_summary() == {"max": 3, "median": 3, "samples": len(seen.connections)}
    assert seen.connection_summary(0)["max"] == 3
    assert all(not ok and seconds >= 0.3 for seconds, ok in seen.queries)


def test_ask_counts_a_refused_connection_as_failed() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        seconds, ok = probe.ask(f"http://127.0.0.1:{unused.getsockname()[1]}", timeout=1)
    assert ok is False
    assert seconds < 1


def test_configured_limit_is_the_environments_setting_else_the_operators_default() -> None:
    assert probe.configured_limit({probe.LIMIT_ENV: "3"}) == 3
    assert probe.configured_limit({}) == 8
    assert probe.configured_limit({probe.LIMIT_ENV: ""}) == 8


def test_summary_reports_connections_beside_the_limit_and_the_outside_latency() -> None:
    seen = probe.Probe("http://127.0.0.1:9090", pids=[11, 12])
    seen.connections = [[2, 3], [8, 8], [1, 0]]
    seen.queries = [(0.004, True), (0.006, True), (5.0, False)]
    fields = seen.summary(limit=8)
    assert fields == {
        "prometheus_max_concurrent_queries": 8,
        "prometheus_connections_max": 16,
        "prometheus_connections_median": 5,
        "prometheus_connection_samples": 3,
        "replica_prometheus_connections_max": [8, 8],
        "replica_prometheus_connections_median": [2, 3],
        "outside_query_p50_ms": 6.0,
        "outside_query_p99_ms": 5000.0,
        "outside_query_max_ms": 5000.0,
        "outside_query_count": 3,
        "outside_query_failed": 1,
        "outside_query_timeout_s": 5.0,
        "outside_query_interval_s": 1.0,
    }
    line = probe.describe(fields)
    assert "max 16 median 5 (limit 8 per process)" in line
    assert "p99 5000.0 ms" in line and "1/3 failed or timed out (timeout 5 s)" in line


def test_summary_of_one_process_has_no_per_replica_fields_and_survives_no_samples() -> None:
    fields = probe.Probe("http://localhost:9090", pids=[11]).summary(limit=4)
    assert "replica_prometheus_connections_max" not in fields
    assert fields["prometheus_connections_max"] is None
    assert fields["outside_query_count"] == 0
    assert "limit 4" in probe.describe(fields)
