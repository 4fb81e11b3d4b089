"""The shards this replica holds, kept by renewing their Leases every renew period.

``Shards.owns(namespace, name)`` answers for a policy (or anything named after one) from memory; listeners
hear of gained and lost shards at once, so the scheduler drops a lost shard's policies before another
replica may take it over. Without sharding (``Shards.single()``) this replica owns everything."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

from maintenance_operator.domain import sharding

log = logging.getLogger(__name__)
Listener = Callable[[frozenset[int], frozenset[int]], None]


class LeaseStore(Protocol):
    """The shard Leases (adapters.shard_leases.ShardLeases)."""

    identity: str

    async def read_all(self, shards: int) -> dict[int, sharding.ShardLease | None]: ...
    async def acquire(self, shard: int) -> bool: ...
    async def renew(self, shard: int) -> bool: ...
    async def release(self, shard: int) -> bool: ...
    async def ask(self, shard: int) -> bool: ...


class Shards:
    """This replica's shards among `count`; `store` None means sharding is off (one shard, always held)."""

    def __init__(
        self,
        *,
        count: int,
        store: LeaseStore | None,
        duration: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.count = count
        self.store = store
        self.duration = duration
        self.clock = clock
        self.held: set[int] = set() if store is not None else set(range(count))
        self.renewed: dict[int, float] = {}
        self.listeners: list[Listener] = []

    @classmethod
    def single(cls) -> Shards:
        return cls(count=1, store=None, duration=0.0)

    @property
    def enabled(self) -> bool:
        return self.store is not None

    def shard_of(self, namespace: str, name: str) -> int:
        return sharding.shard_of(namespace, name, shards=self.count)

    def owns(self, namespace: str, name: str) -> bool:
        """Whether this replica acts on the policy `namespace/name` now."""
        return not self.enabled or self.shard_of(namespace, name) in self.held

    def _changed(self, gained: set[int], lost: set[int]) -> None:
        gained, lost = gained - self.held, lost & self.held
        if not gained and not lost:
            return
        self.held = (self.held - lost) | gained
        for shard in lost:
            self.renewed.pop(shard, None)
        log.info("shards: gained %s, lost %s, holding %s", sorted(gained), sorted(lost), sorted(self.held))
        for listener in self.listeners:
            listener(frozenset(gained), frozenset(lost))

    async def round(self) -> sharding.Plan | None:
        """One round: read the Leases, then renew, release, acquire and ask as `sharding.plan` says. When
        the API server cannot be reached, shards not renewed for a while are dropped locally."""
        if self.store is None:
            return None
        now = self.clock()
        try:
            leases = await self.store.read_all(self.count)
        except Exception as exc:  # API down: keep acting only while our Leases surely still hold
            log.warning("shard leases unreadable: %s", exc)
            self._drop_stale(now)
            return None
        step = sharding.plan(leases, me=self.store.identity, held=self.held, shards=self.count, now=now)
        gained: set[int] = set()
        lost: set[int] = set(step.lost)
        for shard in step.release:
            lost.add(shard)  # stop acting before the holder field is cleared
        self._changed(set(), lost)
        lost.clear()
        for shard in step.release:
            await self._attempt(self.store.release, shard)
        for shard in step.renew:
            if await self._attempt(self.store.renew, shard):
                self.renewed[shard] = now
                if shard not in self.held:
                    gained.add(shard)
            elif shard in self.held:
                lost.add(shard)
        for shard in step.acquire:
            if await self._attempt(self.store.acquire, shard):
                self.renewed[shard] = now
                gained.add(shard)
        if step.request is not None:
            await self._attempt(self.store.ask, step.request)
        self._changed(gained, lost)
        ended = self.clock()
        if ended - now > sharding.renew_period(self.duration):
            log.warning("shard lease round took %.1f s (renew period %.1f s)", ended - now, self.duration / 3)
        self._drop_stale(ended)
        return step

    def _drop_stale(self, now: float) -> None:
        stale = {
            s
            for s in self.held
            if sharding.stale(last_renewed=self.renewed.get(s, 0.0), now=now, duration=self.duration)
        }
        self._changed(set(), stale)

    @staticmethod
    async def _attempt(write: Callable[[int], object], shard: int) -> bool:
        try:
            result = write(shard)
            return bool(await result) if asyncio.iscoroutine(result) else bool(result)
        except Exception as exc:  # one failed write never stops the round
            log.warning("shard %s lease write failed: %s", shard, exc)
            return False

    async def run(self) -> None:
        """A round every renew period from the start of the last one (a slow round does not push the
        next renewal later), forever (cancel to stop)."""
        while True:
            started = self.clock()
            await self.round()
            await asyncio.sleep(max(0.0, sharding.renew_period(self.duration) - (self.clock() - started)))

    async def release_all(self) -> None:
        """At shutdown: hand every shard over at once, so nobody waits a Lease duration."""
        if self.store is None:
            return
        held = set(self.held)
        self._changed(set(), held)
        for shard in held:
            await self._attempt(self.store.release, shard)
