"""One scheduler for every policy: a heap of due times, and a fair limit on concurrent assessments.

``Scheduler`` holds one due time per key (a policy) and calls ``fire(key, due)`` when it comes; whoever
feeds it (the policy watch) upserts and removes keys. ``FairLimiter`` bounds how many assessments run at
once; the rest wait in a per-namespace round-robin queue."""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager, suppress
from typing import Generic, TypeVar

from maintenance_operator.domain import scheduling

log = logging.getLogger(__name__)
K = TypeVar("K", bound=Hashable)


class Scheduler(Generic[K]):
    """Due times in a heap; stale heap entries (rescheduled or removed keys) are skipped lazily."""

    def __init__(
        self,
        fire: Callable[[K, float], Awaitable[None]],
        *,
        clock: Callable[[], float] = time.time,
        max_concurrent_fires: int = 4,
    ) -> None:
        self._fire = fire
        self._clock = clock
        self._heap: list[tuple[float, int, K]] = []
        self._due: dict[K, float] = {}
        self._seq = 0
        self._changed = asyncio.Event()
        self.max_concurrent_fires = max_concurrent_fires
        self._slots = asyncio.Semaphore(max_concurrent_fires)
        self._tasks: set[asyncio.Task[None]] = set()

    def upsert(self, key: K, due: float) -> None:
        """(Re)schedule `key` at `due`; a key has at most one due time."""
        if self._due.get(key) == due:
            return
        self._due[key] = due
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, key))
        self._changed.set()

    def remove(self, key: K) -> None:
        if self._due.pop(key, None) is not None:
            self._changed.set()

    def due(self, key: K) -> float | None:
        return self._due.get(key)

    def __len__(self) -> int:
        return len(self._due)

    def pop_due(self) -> list[tuple[K, float]]:
        """Remove and return every key due by now, earliest first."""
        now = self._clock()
        ready = []
        while self._heap and self._heap[0][0] <= now:
            due, _, key = heapq.heappop(self._heap)
            if self._due.get(key) == due:
                del self._due[key]
                ready.append((key, due))
        return ready

    def next_wake(self) -> float | None:
        """Seconds until the earliest live due time (None when nothing is scheduled)."""
        while self._heap and self._due.get(self._heap[0][2]) != self._heap[0][0]:
            heapq.heappop(self._heap)
        if not self._heap:
            return None
        return max(0.0, self._heap[0][0] - self._clock())

    async def run(self) -> None:
        """Fire due keys forever (cancel to stop)."""
        try:
            while True:
                for key, due in self.pop_due():
                    await self._slots.acquire()
                    task = asyncio.create_task(self._one(key, due))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                self._changed.clear()
                wait = self.next_wake()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=wait)
        finally:
            for task in list(self._tasks):
                task.cancel()

    async def _one(self, key: K, due: float) -> None:
        try:
            await self._fire(key, due)
        except Exception:  # one policy's failure never stops the others' schedule
            log.exception("scheduled run of %s failed", key)
        finally:
            self._slots.release()


class FairLimiter:
    """At most `limit` holders at once; waiters are served round-robin by tenant, FIFO within one."""

    def __init__(self, limit: int, *, on_change: Callable[[int, int], None] | None = None) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.active = 0
        self._waiting: scheduling.FairQueue[asyncio.Future[None]] = scheduling.FairQueue()
        self._on_change = on_change or (lambda active, queued: None)

    @property
    def queued(self) -> int:
        return len(self._waiting)

    @asynccontextmanager
    async def slot(self, tenant: Hashable) -> AsyncIterator[None]:
        await self._acquire(tenant)
        self._on_change(self.active, self.queued)
        try:
            yield
        finally:
            self._release()
            self._on_change(self.active, self.queued)

    async def _acquire(self, tenant: Hashable) -> None:
        if self.active < self.limit and not len(self._waiting):
            self.active += 1
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.push(tenant, granted)
        self._on_change(self.active, self.queued)
        try:
            await granted  # the releaser counted us in `active` already
        except asyncio.CancelledError:
            if not self._waiting.remove(tenant, granted):
                self._release()  # granted while being cancelled: pass the slot on
            raise

    def _release(self) -> None:
        while len(self._waiting):
            waiter = self._waiting.pop()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.active -= 1
