"""The heap scheduler and the fair concurrency limit, on a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from maintenance_operator.reconcilers import scheduler


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def _noop(key: str, due: float) -> None:
    return None


def test_pop_due_in_order_and_skips_stale_entries() -> None:
    clock = Clock()
    heap: scheduler.Scheduler[str] = scheduler.Scheduler(_noop, clock=clock)
    heap.upsert("a", 105.0)
    heap.upsert("b", 101.0)
    heap.upsert("c", 103.0)
    heap.upsert("a", 102.0)  # rescheduled: the 105 entry is stale
    heap.remove("c")
    heap.upsert("d", 200.0)
    assert heap.next_wake() == pytest.approx(1.0)
    clock.now = 150.0
    assert heap.pop_due() == [("b", 101.0), ("a", 102.0)]
    assert heap.pop_due() == []
    assert len(heap) == 1 and heap.due("d") == 200.0
    assert heap.next_wake() == pytest.approx(50.0)
    heap.remove("d")
    assert heap.next_wake() is None


async def test_run_fires_due_keys_and_wakes_on_upsert() -> None:
    fired: list[tuple[str, float]] = []

    async def fire(key: str, due: float) -> None:
        fired.append((key, due))
        if key == "boom":
            raise RuntimeError("one policy fails")

    clock = Clock()
    heap: scheduler.Scheduler[str] = scheduler.Scheduler(fire, clock=clock)
    task = asyncio.create_task(heap.run())
    heap.upsert("boom", 99.0)
    heap.upsert("later", 10_000.0)  # would sleep for hours: an upsert must wake the loop
    await asyncio.sleep(0.05)
    heap.upsert("now", 100.0)
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert fired == [("boom", 99.0), ("now", 100.0)]  # the failure did not stop the schedule
    assert heap.due("later") == 10_000.0


async def test_fair_limiter_bounds_and_serves_tenants_round_robin() -> None:
    counts: list[tuple[int, int]] = []
    limiter = scheduler.FairLimiter(2, on_change=lambda active, queued: counts.append((active, queued)))
    order: list[str] = []
    gate = asyncio.Event()
    peak = 0

    async def job(tenant: str, name: str) -> None:
        nonlocal peak
        async with limiter.slot(tenant):
            peak = max(peak, limiter.active)
            order.append(name)
            await gate.wait()

    tasks = [asyncio.create_task(job("busy", f"busy-{i}")) for i in range(6)]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(job("quiet", "quiet-0")))
    await asyncio.sleep(0.01)
    assert order == ["busy-0", "busy-1"] and limiter.queued == 5
    gate.set()
    await asyncio.gather(*tasks)
    assert peak == 2
    assert order.index("quiet-0") <= 3  # not behind the busy tenant's whole backlog
    assert limiter.active == 0 and limiter.queued == 0
    assert max(q for _, q in counts) == 5


async def test_fair_limiter_cancelled_waiter_gives_up_its_place() -> None:
    limiter = scheduler.FairLimiter(1)
    gate = asyncio.Event()

    async def hold() -> None:
        async with limiter.slot("a"):
            await gate.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(hold())
    await asyncio.sleep(0)
    assert limiter.queued == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert limiter.queued == 0
    gate.set()
    await holder
    assert limiter.active == 0


def test_fair_limiter_needs_a_slot() -> None:
    with pytest.raises(ValueError):
        scheduler.FairLimiter(0)
