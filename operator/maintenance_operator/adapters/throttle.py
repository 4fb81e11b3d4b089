"""The client-side limit on the operator's own Kubernetes API calls (QPS and burst, like client-go).

Every call of ``adapters/crs`` and ``adapters/kube`` goes through ``call``: it waits for a token, runs the
blocking client off the event loop and counts calls held and in flight. kopf's own watches and patches use
kopf's client and are not counted here."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from maintenance_operator import metrics
from maintenance_operator.domain import ratelimit

_bucket = ratelimit.TokenBucket(qps=50.0, burst=100)


def configure(*, qps: float, burst: int) -> None:
    """Set the process-wide limit (at startup, from the operator's settings)."""
    global _bucket
    _bucket = ratelimit.TokenBucket(qps=qps, burst=burst)


async def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a blocking API call off the event loop once the QPS/burst limit allows it."""
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
        return await asyncio.to_thread(function, *args, **kwargs)
    finally:
        running.dec()
