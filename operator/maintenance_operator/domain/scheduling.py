"""Scheduler decisions (pure): when a policy is next due, its jitter, and a fair queue of waiting work.

Due times are epoch seconds. A policy's jitter is a stable fraction of the spread, derived from its key, so
every replica and every restart spreads the same fleet the same way: no thundering herd at start."""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


def jitter_fraction(key: str) -> float:
    """A stable number in [0, 1) for `key` (sha256-based; the same on every process and platform)."""
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def due_at(
    key: str,
    *,
    intervals: list[tuple[float | None, float]],
    now: float,
    spread: float,
) -> float:
    """When the next of several periodic jobs is due, given (last run or None, interval) per job.

    A job never run, or overdue (after a restart or a pause), is due within
    ``min(spread, interval)`` from ``now``, at the key's jitter offset; otherwise at last + interval.
    The earliest job wins."""
    if not intervals:
        raise ValueError("no intervals")
    candidates = []
    for last, every in intervals:
        every = max(every, 1.0)
        if last is None or last + every <= now:
            candidates.append(now + jitter_fraction(key) * min(max(spread, 0.0), every))
        else:
            candidates.append(last + every)
    return min(candidates)


@dataclass
class FairQueue(Generic[T]):
    """Waiting items grouped by tenant, served round-robin across tenants and FIFO within one.

    A tenant (a namespace) with 500 due policies cannot starve a tenant with one."""

    _queues: dict[Hashable, deque[T]] = field(default_factory=dict)
    _order: deque[Hashable] = field(default_factory=deque)

    def push(self, tenant: Hashable, item: T) -> None:
        queue = self._queues.get(tenant)
        if queue is None:
            queue = self._queues[tenant] = deque()
            self._order.append(tenant)
        queue.append(item)

    def pop(self) -> T:
        """The next item; IndexError when empty."""
        if not self._order:
            raise IndexError("pop from an empty FairQueue")
        tenant = self._order.popleft()
        queue = self._queues[tenant]
        item = queue.popleft()
        if queue:
            self._order.append(tenant)
        else:
            del self._queues[tenant]
        return item

    def remove(self, tenant: Hashable, item: T) -> bool:
        """Withdraw a waiting item (its waiter gave up); False if it was not waiting."""
        queue = self._queues.get(tenant)
        if queue is None or item not in queue:
            return False
        queue.remove(item)
        if not queue:
            del self._queues[tenant]
            self._order.remove(tenant)
        return True

    def __len__(self) -> int:
        return sum(len(q) for q in self._queues.values())
