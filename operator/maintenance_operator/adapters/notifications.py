"""Deliver notifications to one webhook with aiohttp: filtered, retried with back-off, never blocking.

The webhook URL is a secret (a Slack URL is its own credential): it is never logged, never put in an
exception message, and delivery errors are reported by type and HTTP status only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiohttp

from maintenance_operator import metrics
from maintenance_operator.domain import notification

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Delivery:
    """How one delivery ended."""

    delivered: bool
    attempts: int
    status: int | None = None
    error: str = ""  # exception type or "HTTP <status>", never the URL


class WebhookNotifier:
    """Posts events to one URL. `notify` returns at once; `deliver` waits for the outcome."""

    def __init__(
        self,
        *,
        url: str,
        fmt: notification.PayloadFormat = notification.PayloadFormat.SLACK,
        rule: notification.Filter | None = None,
        timeout_seconds: float = 5.0,
        delays: Sequence[float] | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._url = url
        self._fmt = fmt
        self._rule = rule or notification.Filter()
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._delays = list(notification.retry_delays() if delays is None else delays)
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None
        self._pending: set[asyncio.Task[Delivery]] = set()

    def __repr__(self) -> str:  # the URL stays out of reprs, tracebacks and logs
        return f"WebhookNotifier(fmt={self._fmt.value})"

    async def _post(self, body: dict[str, object]) -> int:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        async with self._session.post(self._url, json=body) as response:
            await response.read()
            return response.status

    async def deliver(self, event: notification.Event) -> Delivery:
        """Post `event` if the filter wants it, retrying per the schedule; never raises."""
        if not notification.wanted(event, self._rule):
            metrics.NOTIFICATIONS.labels(event.type.value, "filtered").inc()
            return Delivery(delivered=False, attempts=0, error="filtered")
        body = notification.payload(event, self._fmt)
        result = Delivery(delivered=False, attempts=0)
        for attempt, delay in enumerate([0.0, *self._delays], start=1):
            if delay:
                await self._sleep(delay)
            try:
                status = await self._post(body)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                result = Delivery(delivered=False, attempts=attempt, error=type(exc).__name__)
            else:
                if 200 <= status < 300:
                    metrics.NOTIFICATIONS.labels(event.type.value, "delivered").inc()
                    return Delivery(delivered=True, attempts=attempt, status=status)
                result = Delivery(delivered=False, attempts=attempt, status=status, error=f"HTTP {status}")
            if not notification.retryable(result.status):
                break
        metrics.NOTIFICATIONS.labels(event.type.value, "failed").inc()
        log.warning(
            "notification %s for %s/%s not delivered after %d attempt(s): %s",
            event.type.value,
            event.namespace,
            event.name,
            result.attempts,
            result.error,
        )
        return result

    def notify(self, event: notification.Event) -> asyncio.Task[Delivery]:
        """Deliver in the background so that reconciliation never waits on a receiver."""
        task = asyncio.get_running_loop().create_task(self.deliver(event), name=f"notify-{event.key}")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def close(self, *, grace_seconds: float = 5.0) -> None:
        """Let pending deliveries finish for up to `grace_seconds`, cancel the rest, close the session."""
        if self._pending:
            _, late = await asyncio.wait(set(self._pending), timeout=grace_seconds)
            for task in late:
                task.cancel()
        if self._session is not None:
            await self._session.close()
