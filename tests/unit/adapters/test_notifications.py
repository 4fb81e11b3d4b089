"""The webhook notifier against a real HTTP receiver on loopback: delivered, retried, given up, never
blocking, and never logging the URL."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from maintenance_operator import metrics
from maintenance_operator.adapters import notifications
from maintenance_operator.api.v1alpha1 import Severity
from maintenance_operator.domain import notification as n

SECRET_PATH = "/services/T0001/B0001/s3cr3tT0kenValue"
EVENT = n.Event(
    type=n.EventType.APPROVAL_NEEDED,
    namespace="chatapp",
    name="chatapp-memory-1",
    title="Restart chatapp",
    at=datetime(2030, 1, 1, tzinfo=UTC),
    severity=Severity.HIGH,
)


@dataclass
class Receiver:
    base: str
    bodies: list[dict[str, Any]] = field(default_factory=list)
    fail_first: int = 0
    status: int = 200
    delay: float = 0.0


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver(base="")

    async def hook(request: web.Request) -> web.Response:
        body = await request.json()
        if state.delay:
            await asyncio.sleep(state.delay)
        if state.fail_first > 0:
            state.fail_first -= 1
            return web.Response(status=503)
        state.bodies.append(body)
        return web.Response(status=state.status, text="ok")

    app = web.Application()
    app.router.add_post(SECRET_PATH, hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    state.base = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


class Sleeps:
    def __init__(self) -> None:
        self.waited: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waited.append(seconds)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_slack_payload_is_delivered(receiver: Receiver) -> None:
    notifier = notifications.WebhookNotifier(url=receiver.base + SECRET_PATH)
    result = await notifier.deliver(EVENT)
    await notifier.close()
    assert result == notifications.Delivery(delivered=True, attempts=1, status=200)
    [body] = receiver.bodies
    assert body["text"].startswith(":raised_hand: [high] ApprovalNeeded: Restart chatapp")


async def test_generic_payload_is_delivered(receiver: Receiver) -> None:
    notifier = notifications.WebhookNotifier(url=receiver.base + SECRET_PATH, fmt=n.PayloadFormat.GENERIC)
    assert (await notifier.deliver(EVENT)).delivered
    await notifier.close()
    assert receiver.bodies[0]["type"] == "ApprovalNeeded" and receiver.bodies[0]["name"] == "chatapp-memory-1"


async def test_5xx_is_retried_with_back_off(receiver: Receiver) -> None:
    receiver.fail_first = 2
    sleeps = Sleeps()
    notifier = notifications.WebhookNotifier(url=receiver.base + SECRET_PATH, sleep=sleeps)
    result = await notifier.deliver(EVENT)
    await notifier.close()
    assert (result.delivered, result.attempts) == (True, 3)
    assert sleeps.waited == [1.0, 2.0]
    assert len(receiver.bodies) == 1


async def test_4xx_is_not_retried(receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    receiver.status = 400
    sleeps = Sleeps()
    notifier = notifications.WebhookNotifier(url=receiver.base + SECRET_PATH, sleep=sleeps)
    with caplog.at_level(logging.WARNING):
        result = await notifier.deliver(EVENT)
    await notifier.close()
    assert (result.delivered, result.attempts, result.error) == (False, 1, "HTTP 400")
    assert sleeps.waited == []
    assert "not delivered after 1 attempt(s): HTTP 400" in caplog.text


async def test_receiver_down_gives_up_after_the_schedule_without_logging_the_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sleeps = Sleeps()
    url = f"http://127.0.0.1:{closed_port()}{SECRET_PATH}"
    notifier = notifications.WebhookNotifier(url=url, delays=[0.5, 1.0, 2.0], sleep=sleeps)
    with caplog.at_level(logging.DEBUG):
        result = await notifier.deliver(EVENT)
    await notifier.close()
    assert (result.delivered, result.attempts, result.status) == (False, 4, None)
    assert result.error == "ClientConnectorError"
    assert sleeps.waited == [0.5, 1.0, 2.0]
    assert "s3cr3tT0kenValue" not in caplog.text and "s3cr3tT0kenValue" not in repr(notifier)
    assert "s3cr3tT0kenValue" not in repr(result)


async def test_slow_receiver_times_out_and_notify_does_not_block(receiver: Receiver) -> None:
    receiver.delay = 2.0
    notifier = notifications.WebhookNotifier(
        url=receiver.base + SECRET_PATH, timeout_seconds=0.2, delays=[0.0], sleep=Sleeps()
    )
    loop = asyncio.get_running_loop()
    began = loop.time()
    task = notifier.notify(EVENT)
    returned_after = loop.time() - began
    result = await task
    await notifier.close()
    assert not task.cancelled()
    assert (result.delivered, result.attempts, result.error) == (False, 2, "TimeoutError")
    assert returned_after < 0.2  # notify hands back before the first attempt's timeout could pass


async def test_filtered_events_are_not_sent(receiver: Receiver) -> None:
    rule = n.Filter(types=frozenset({n.EventType.REPORT}))
    notifier = notifications.WebhookNotifier(url=receiver.base + SECRET_PATH, rule=rule)
    result = await notifier.deliver(EVENT)
    await notifier.close()
    assert (result.delivered, result.attempts, result.error) == (False, 0, "filtered")
    assert receiver.bodies == []


async def test_close_cancels_deliveries_past_the_grace(receiver: Receiver) -> None:
    receiver.delay = 5.0
    notifier = notifications.WebhookNotifier(url=receiver.base + SECRET_PATH, timeout_seconds=10)
    task = notifier.notify(EVENT)
    await asyncio.sleep(0.05)
    await notifier.close(grace_seconds=0.1)
    await asyncio.sleep(0)
    assert task.cancelled()
    assert receiver.bodies == []


async def test_outcomes_are_counted(receiver: Receiver) -> None:
    counter = metrics.NOTIFICATIONS.labels("ApprovalNeeded", "delivered")
    before = counter._value.get()
    notifier = notifications.WebhookNotifier(url=receiver.base + SECRET_PATH)
    await notifier.deliver(EVENT)
    await notifier.close()
    assert counter._value.get() == before + 1
