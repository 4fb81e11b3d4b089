"""The client-side limit on the operator's own Kubernetes API calls (QPS and burst, like client-go).

Every call of ``adapters/crs`` and ``adapters/kube`` goes through ``call``: it waits for a token, runs the
blocking client on the API's own threads and counts calls held and in flight. kopf's own watches and
patches use kopf's client and are not counted here.

The API calls have their own thread pool (``max_in_flight`` threads, as many pooled connections, see
``crs.new_api_client``): asyncio's default executor, shared with any other blocking work, has cpu + 4
threads (6 on 2 cores), and at 0.5 s per call on a loaded API server 6 threads carry at most 12 calls/s,
below the QPS limit and below what 1,000 policies need (docs/decisions.md)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import time
from collections.abc import Callable
from typing import Any

from maintenance_operator import metrics
from maintenance_operator.domain import ratelimit

#: API calls in flight at once (threads) until configured (OperatorConfig.api_max_in_flight, same default).
DEFAULT_MAX_IN_FLIGHT = 16

_bucket = ratelimit.TokenBucket(qps=50.0, burst=100)
_max_in_flight = DEFAULT_MAX_IN_FLIGHT
_executor = concurrent.futures.ThreadPoolExecutor(DEFAULT_MAX_IN_FLIGHT, thread_name_prefix="kube-api")


def configure(*, qps: float, burst: int, max_in_flight: int = DEFAULT_MAX_IN_FLIGHT) -> None:
    """Set the process-wide limit and the number of API calls in flight (at startup, from the settings)."""
    global _bucket, _executor, _max_in_flight
    if max_in_flight < 1:
        raise ValueError("max_in_flight must be at least 1")
    _bucket = ratelimit.TokenBucket(qps=qps, burst=burst)
    if max_in_flight != _max_in_flight:
        old = _executor
        _executor = concurrent.futures.ThreadPoolExecutor(max_in_flight, thread_name_prefix="kube-api")
        _max_in_flight = max_in_flight
        old.shutdown(wait=False)


def max_in_flight() -> int:
    """How many API calls run at once (the size of the API's thread pool)."""
    return _max_in_flight


async def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a blocking API call on the API's threads once the QPS/burst limit allows it."""
    wait = _bucket.reserve(time.monotonic())
    if wait > 0:
        queued = metrics.API_REQUESTS_IN_FLIGHT.labels(state="queued")
        queued.inc()
        try:
            await asyncio.sleep(wait)
        finally:
            queued.dec()
    metrics.API_THROTTLE_SECONDS.observe(wait)
    metrics.API_REQUESTS.inc()
    running = metrics.API_REQUESTS_IN_FLIGHT.labels(state="running")
    running.inc()
    try:
        bound = functools.partial(contextvars.copy_context().run, function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(_executor, bound)
    finally:
        running.dec()
