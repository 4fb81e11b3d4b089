"""Prometheus on aiohttp through bounded pools: the operator never opens more sockets than its limit.

- ``QueryPool`` (one per process, held by ``Runtime``): a global limit on queries in flight (default 8),
  shared by every endpoint; per endpoint (URL + bearer token + CA) one aiohttp session whose connector
  holds at most that many sockets, and a queries-per-second limit. A query waits for a slot; it never
  opens a socket beyond the limit.
- ``AsyncPrometheus``: instant and range queries on one endpoint of the pool. Answers and error kinds are
  those of ``prometheus.HttpPrometheus`` (the same parsers); it never raises for network or Prometheus
  errors.
- The CA is built in memory with ``ssl.create_default_context(cadata=...)``: no file is ever written.
  An unusable CA makes every query of that endpoint answer "unavailable" with the reason.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import ssl
import time
from collections.abc import Mapping

import aiohttp

from maintenance_operator import metrics
from maintenance_operator.adapters import prometheus as prom

DEFAULT_MAX_CONCURRENT = 8
DEFAULT_QPS = 100.0


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """What makes two queriers share a pool: the URL and the credentials (the secrets only as digests)."""

    url: str
    token_digest: str = ""
    ca_digest: str = ""


def _digest(text: str | None) -> str:
    return hashlib.sha256(text.encode()).hexdigest() if text else ""


class RateLimit:
    """A token bucket: at most ``qps`` starts per second on average, bursts of ``burst``."""

    def __init__(self, qps: float, *, burst: int = 1) -> None:
        self.qps = qps
        self.burst = max(1, burst)
        self.tokens = float(self.burst)
        self.updated = time.monotonic()
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return when one more query may start (waiters are served in arrival order)."""
        if self.qps <= 0:
            return
        async with self.lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.qps)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.qps)


@dataclasses.dataclass
class _Channel:
    session: aiohttp.ClientSession | None
    rate: RateLimit
    error: str | None = None


class QueryPool:
    """Every Prometheus query of the process goes through here: one global gate, one session per endpoint."""

    def __init__(self, *, max_concurrent: int = DEFAULT_MAX_CONCURRENT, qps: float = DEFAULT_QPS) -> None:
        self.max_concurrent = max(1, max_concurrent)
        self.qps = qps
        self._gate: asyncio.Semaphore | None = None
        self._channels: dict[Endpoint, _Channel] = {}
        self.in_flight = 0
        self.queued = 0

    def querier(
        self,
        url: str,
        *,
        timeout: float,
        bearer_token: str | None = None,
        ca_pem: str | None = None,
    ) -> AsyncPrometheus:
        """A querier on the shared pool of this URL and these credentials (created on first use)."""
        url = url.rstrip("/")
        endpoint = Endpoint(url, _digest(bearer_token), _digest(ca_pem))
        if endpoint not in self._channels:
            self._channels[endpoint] = self._channel(bearer_token=bearer_token, ca_pem=ca_pem)
        return AsyncPrometheus(url, timeout=timeout, pool=self, endpoint=endpoint)

    def _channel(self, *, bearer_token: str | None, ca_pem: str | None) -> _Channel:
        rate = RateLimit(self.qps, burst=self.max_concurrent)
        tls: ssl.SSLContext | bool = True
        if ca_pem:
            try:
                tls = ssl.create_default_context(cadata=ca_pem)
            except (ssl.SSLError, ValueError) as exc:
                return _Channel(None, rate, f"the CA bundle is not usable: {exc}")
        headers = {"Authorization": f"Bearer {bearer_token}"} if bearer_token else {}
        connector = aiohttp.TCPConnector(limit=self.max_concurrent, ssl=tls)
        return _Channel(aiohttp.ClientSession(connector=connector, headers=headers), rate)

    @property
    def endpoints(self) -> int:
        return len(self._channels)

    async def get(
        self, endpoint: Endpoint, path: str, *, params: Mapping[str, str], seconds: float
    ) -> tuple[int, bytes] | prom.QueryError:
        """GET ``path`` on the endpoint once a slot is free: the status and body, or why there is none."""
        channel = self._channels[endpoint]
        if channel.session is None:
            return prom.QueryError(prom.ErrorKind.UNAVAILABLE, channel.error or "no session")
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.max_concurrent)
        self.queued += 1
        metrics.PROM_QUERIES_QUEUED.inc()
        try:
            await channel.rate.wait()
            await self._gate.acquire()
        finally:
            self.queued -= 1
            metrics.PROM_QUERIES_QUEUED.dec()
        self.in_flight += 1
        metrics.PROM_QUERIES_IN_FLIGHT.inc()
        try:
            # Server-side timeout first; the client gives it one more second to answer.
            client_timeout = aiohttp.ClientTimeout(total=seconds + 1.0, sock_connect=min(seconds, 5.0))
            async with channel.session.get(
                f"{endpoint.url}{path}", params=dict(params), timeout=client_timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            return prom.QueryError(prom.ErrorKind.TIMEOUT, f"no answer within {seconds:g}s: {exc!r}")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return prom.QueryError(prom.ErrorKind.UNAVAILABLE, f"unreachable: {exc}")
        finally:
            self.in_flight -= 1
            metrics.PROM_QUERIES_IN_FLIGHT.dec()
            self._gate.release()

    async def aclose(self) -> None:
        """Close every session (at operator cleanup)."""
        channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            if channel.session is not None:
                await channel.session.close()


class AsyncPrometheus:
    """PrometheusQuerier and RangeQuerier on a ``QueryPool`` endpoint (closing it keeps the shared pool)."""

    def __init__(self, url: str, *, timeout: float, pool: QueryPool, endpoint: Endpoint) -> None:
        self.url = url
        self.timeout = timeout
        self.pool = pool
        self.endpoint = endpoint

    async def query(self, promql: str) -> prom.QueryResult:
        """Instant query; never raises for network or Prometheus errors."""
        started = time.monotonic()
        params = {"query": promql, "timeout": prom.duration(self.timeout)}
        answer = await self.pool.get(self.endpoint, "/api/v1/query", params=params, seconds=self.timeout)
        if isinstance(answer, prom.QueryError):
            return prom.QueryResult(promql, error=answer)
        status, body = answer
        return prom.parse_response(promql, status, body, seconds=time.monotonic() - started)

    async def query_range(self, promql: str, *, start: float, end: float, step: float) -> prom.RangeResult:
        """Range query; never raises for network or Prometheus errors."""
        started = time.monotonic()
        params = {
            "query": promql,
            "start": f"{start:.3f}",
            "end": f"{end:.3f}",
            "step": f"{max(step, 0.001):g}",
            "timeout": prom.duration(self.timeout),
        }
        answer = await self.pool.get(
            self.endpoint, "/api/v1/query_range", params=params, seconds=self.timeout
        )
        if isinstance(answer, prom.QueryError):
            return prom.RangeResult(promql, error=answer)
        status, body = answer
        return prom.parse_range_response(promql, status, body, seconds=time.monotonic() - started)

    async def aclose(self) -> None:
        """Nothing to release: the sockets belong to the pool."""
