"""The client-side API limit holds calls back and counts them (no API server needed: the call is a stub)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from maintenance_operator import metrics
from maintenance_operator.adapters import throttle


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    yield
    throttle.configure(qps=50.0, burst=100)


def _value(name: str, labels: dict[str, str] | None = None) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels or {}) or 0.0


async def test_calls_beyond_the_burst_wait_for_tokens() -> None:
    throttle.configure(qps=20.0, burst=2)
    started: list[float] = []
    lock = threading.Lock()
    peak_queued = 0.0

    def stub(i: int) -> int:
        with lock:
            started.append(time.monotonic())
        return i

    async def watch_queue() -> None:
        nonlocal peak_queued
        for _ in range(50):
            peak_queued = max(
                peak_queued, _value("maintenance_operator_api_requests_in_flight", {"state": "queued"})
            )
            await asyncio.sleep(0.005)

    before = _value("maintenance_operator_api_requests_total")
    t0 = time.monotonic()
    results, _ = await asyncio.gather(
        asyncio.gather(*(throttle.call(stub, i) for i in range(6))), watch_queue()
    )
    assert results == list(range(6))
    assert max(started) - t0 >= 4 / 20.0 * 0.9  # 4 calls beyond the burst at 20/s
    assert peak_queued >= 1
    assert _value("maintenance_operator_api_requests_total") - before == 6
    assert _value("maintenance_operator_api_requests_in_flight", {"state": "running"}) == 0
    assert _value("maintenance_operator_api_requests_in_flight", {"state": "queued"}) == 0


async def test_errors_pass_through_and_release_the_gauge() -> None:
    def boom() -> None:
        raise RuntimeError("api down")

    with pytest.raises(RuntimeError, match="api down"):
        await throttle.call(boom)
    assert _value("maintenance_operator_api_requests_in_flight", {"state": "running"}) == 0


async def test_calls_run_on_their_own_threads_at_most_max_in_flight_at_once() -> None:
    throttle.configure(qps=1000.0, burst=1000, max_in_flight=3)
    assert throttle.max_in_flight() == 3
    lock = threading.Lock()
    running = 0
    peak = 0
    names: set[str] = set()

    def stub() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            names.add(threading.current_thread().name)
        time.sleep(0.05)
        with lock:
            running -= 1

    # the default executor is busy with other blocking work: API calls do not wait behind it
    blockers = [asyncio.create_task(asyncio.to_thread(time.sleep, 0.3)) for _ in range(16)]
    await asyncio.sleep(0.01)
    t0 = time.monotonic()
    await asyncio.gather(*(throttle.call(stub) for _ in range(9)))
    assert time.monotonic() - t0 < 0.3
    assert peak == 3
    assert all(name.startswith("kube-api") for name in names)
    await asyncio.gather(*blockers)


def test_max_in_flight_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_in_flight"):
        throttle.configure(qps=1.0, burst=1, max_in_flight=0)
