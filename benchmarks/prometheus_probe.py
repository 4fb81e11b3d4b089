"""What Prometheus sees of a load: a process's established TCP connections to it, and the latency of an
outside query, sampled in the background while a benchmark measures.

- ``established``: count ESTABLISHED rows of a /proc/<pid>/net/tcp(6) text whose socket inode the process
  holds and whose remote end is Prometheus' address and port (pure: given the text and the inodes).
- ``connections_to``: the same on the live /proc of a process (no psutil needed).
- ``ask``: one outside ``up`` query on a fresh plain urllib connection, as a dashboard would.
- ``Probe``: while open, every ``interval`` seconds one outside query (its own thread, so a silent
  Prometheus does not delay the counts) and one count of each process's connections.
- ``percentile`` / ``latency_summary``: nearest-rank percentiles in ms, failures counted apart.

Used by benchmarks/fleet_schedule.py, benchmarks/fleet_sharded.py and tests/fixtures/sockets.py.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Collection, Mapping, Sequence
from types import TracebackType
from typing import Any

from maintenance_operator import config

ESTABLISHED = "01"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def decode_address(hex_address: str) -> IPAddress:
    """An address of /proc/net/tcp(6): 32-bit words printed in host byte order (IPv4-mapped IPv6 as IPv4)."""
    words = [int(hex_address[i : i + 8], 16) for i in range(0, len(hex_address), 8)]
    raw = b"".join(word.to_bytes(4, sys.byteorder) for word in words)
    address = ipaddress.ip_address(raw)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def established(
    table: str, *, inodes: Collection[str], port: int, addresses: Collection[IPAddress] | None = None
) -> int:
    """ESTABLISHED connections in one /proc/<pid>/net/tcp(6) ``table`` held by a socket in ``inodes``, to
    remote ``port`` on one of ``addresses`` (None: any address)."""
    count = 0
    for line in table.splitlines()[1:]:  # the first line is the header
        fields = line.split()
        if len(fields) < 10 or fields[3] != ESTABLISHED or fields[9] not in inodes:
            continue
        remote, remote_port = fields[2].rsplit(":", 1)
        if int(remote_port, 16) != port:
            continue
        if addresses is None or decode_address(remote) in addresses:
            count += 1
    return count


def socket_inodes(pid: int | str) -> set[str]:
    """Inodes of the sockets among process ``pid``'s open files (empty once it has exited)."""
    found: set[str] = set()
    fd_dir = f"/proc/{pid}/fd"
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return found
    for fd in fds:
        try:
            target = os.readlink(f"{fd_dir}/{fd}")
        except OSError:
            continue  # closed since listing
        if target.startswith("socket:["):
            found.add(target[len("socket:[") : -1])
    return found


def resolve(host: str) -> set[IPAddress]:
    """Every address ``host`` names (a literal address names itself)."""
    found: set[IPAddress] = set()
    for *_, sockaddr in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP):
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        found.add(address)
    return found


def connections_to(pid: int | str, *, port: int, addresses: Collection[IPAddress] | None = None) -> int:
    """ESTABLISHED TCP connections process ``pid`` holds to ``addresses``:``port`` (IPv4 and IPv6), seen
    from the process's own network namespace."""
    inodes = socket_inodes(pid)
    count = 0
    for table in (f"/proc/{pid}/net/tcp", f"/proc/{pid}/net/tcp6"):
        try:
            with open(table) as handle:
                text = handle.read()
        except OSError:
            continue  # no IPv6, or the process has exited
        count += established(text, inodes=inodes, port=port, addresses=addresses)
    return count


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of ``values`` (None when there are none)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def latency_summary(samples: Sequence[tuple[float, bool]], *, prefix: str) -> dict[str, float | int | None]:
    """p50/p99/max in ms over every attempt (a failed one counts with the time it took, a timeout with
    the whole timeout), their number, and how many failed or timed out."""
    seconds = [s for s, _ in samples]

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 1)

    return {
        f"{prefix}_p50_ms": ms(percentile(seconds, 0.5)),
        f"{prefix}_p99_ms": ms(percentile(seconds, 0.99)),
        f"{prefix}_max_ms": ms(max(seconds, default=None)),
        f"{prefix}_count": len(samples),
        f"{prefix}_failed": sum(1 for _, ok in samples if not ok),
    }


def ask(url: str, *, timeout: float, query: str = "up") -> tuple[float, bool]:
    """One instant query on a fresh connection: (seconds it took, whether Prometheus answered success)."""
    started = time.perf_counter()
    target = f"{url.rstrip('/')}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
    try:
        with urllib.request.urlopen(target, timeout=timeout) as response:
            ok = json.load(response).get("status") == "success"
    except Exception:  # refused, reset, timed out, not JSON: all a failure to the outside client
        ok = False
    return time.perf_counter() - started, ok


class Probe:
    """Samples, while open, the outside query's latency and each process's connections to Prometheus."""

    def __init__(self, url: str, *, pids: Sequence[int], interval: float = 1.0, timeout: float = 5.0) -> None:
        parts = urllib.parse.urlsplit(url)
        self.url = url
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.addresses = resolve(parts.hostname or "localhost")
        self.pids = list(pids)
        self.interval = interval
        self.timeout = timeout
        self.queries: list[tuple[float, bool]] = []
        self.connections: list[list[int]] = []  # one sample: a count per process, in the order of pids
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._ask_loop, name="outside-query", daemon=True),
            threading.Thread(target=self._count_loop, name="prometheus-connections", daemon=True),
        ]

    def __enter__(self) -> Probe:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + self.interval + 1)

    def _ask_loop(self) -> None:
        while not self._stop.is_set():
            sample = ask(self.url, timeout=self.timeout)
            self.queries.append(sample)
            self._stop.wait(max(0.0, self.interval - sample[0]))

    def _count_loop(self) -> None:
        while not self._stop.is_set():
            self.connections.append(
                [connections_to(pid, port=self.port, addresses=self.addresses) for pid in self.pids]
            )
            self._stop.wait(self.interval)

    def connection_summary(self, column: int | None = None) -> dict[str, float | int | None]:
        """Max and median over samples of one process's connections (``column``), or of all together."""
        counts = [sum(s) if column is None else s[column] for s in self.connections]
        return {
            "max": max(counts, default=None),
            "median": statistics.median(counts) if counts else None,
            "samples": len(counts),
        }

    def summary(self, *, limit: int) -> dict[str, Any]:
        """The benchmark's fields: connections (all processes together, and per process when several)
        beside the configured limit of one process, and the outside query's latency."""
        total = self.connection_summary()
        fields: dict[str, Any] = {
            "prometheus_max_concurrent_queries": limit,
            "prometheus_connections_max": total["max"],
            "prometheus_connections_median": total["median"],
            "prometheus_connection_samples": total["samples"],
        }
        if len(self.pids) > 1:
            each = [self.connection_summary(i) for i in range(len(self.pids))]
            fields["replica_prometheus_connections_max"] = [e["max"] for e in each]
            fields["replica_prometheus_connections_median"] = [e["median"] for e in each]
        fields.update(latency_summary(self.queries, prefix="outside_query"))
        fields["outside_query_timeout_s"] = self.timeout
        fields["outside_query_interval_s"] = self.interval
        return fields


LIMIT_ENV = "MAINTENANCE_OPERATOR_PROMETHEUS_MAX_CONCURRENT_QUERIES"


def configured_limit(environ: Mapping[str, str]) -> int:
    """The operator's Prometheus concurrency limit (its pool's sockets per endpoint): the environment's
    setting, else the operator's default."""
    if environ.get(LIMIT_ENV):
        return int(environ[LIMIT_ENV])
    default = config.OperatorConfig.model_fields["prometheus_max_concurrent_queries"].default
    return int(default)


def describe(fields: Mapping[str, Any]) -> str:
    """One line for the console: connections beside the limit, the outside query's latency."""
    return (
        f"Prometheus: connections from the operator max {fields['prometheus_connections_max']}"
        f" median {fields['prometheus_connections_median']}"
        f" (limit {fields['prometheus_max_concurrent_queries']} per process);"
        f" outside query p50 {fields['outside_query_p50_ms']} ms p99 {fields['outside_query_p99_ms']} ms"
        f" max {fields['outside_query_max_ms']} ms,"
        f" {fields['outside_query_failed']}/{fields['outside_query_count']} failed or timed out"
        f" (timeout {fields['outside_query_timeout_s']:g} s)"
    )
