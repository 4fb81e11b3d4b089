"""Replicas keeping shard Leases: claim, hand over, take over a dead replica's shards, drop stale ones."""

from __future__ import annotations

from maintenance_operator.domain import sharding
from maintenance_operator.reconcilers import shards as shards_lib

D = 15.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Leases:
    """Shared Lease state of the fake cluster; every replica's store writes into it."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.state: dict[int, sharding.ShardLease] = {}
        self.down = False


class Store:
    """One replica's view (the contract of adapters.shard_leases.ShardLeases)."""

    def __init__(self, leases: Leases, identity: str) -> None:
        self.leases = leases
        self.identity = identity

    async def read_all(self, shards: int) -> dict[int, sharding.ShardLease | None]:
        if self.leases.down:
            raise ConnectionError("api server unreachable")
        return {s: self.leases.state.get(s) for s in range(shards)}

    async def acquire(self, shard: int) -> bool:
        lease = self.leases.state.get(shard)
        if lease is not None and lease.held(self.leases.clock()):
            return False
        self.leases.state[shard] = sharding.ShardLease(shard, self.identity, self.leases.clock(), D)
        return True

    async def renew(self, shard: int) -> bool:
        lease = self.leases.state.get(shard)
        if lease is None or lease.holder != self.identity:
            return False
        self.leases.state[shard] = sharding.ShardLease(
            shard, self.identity, self.leases.clock(), D, lease.wanted_by, lease.wanted_at
        )
        return True

    async def release(self, shard: int) -> bool:
        lease = self.leases.state[shard]
        self.leases.state[shard] = sharding.ShardLease(
            shard, None, lease.renewed, D, lease.wanted_by, lease.wanted_at
        )
        return True

    async def ask(self, shard: int) -> bool:
        lease = self.leases.state[shard]
        self.leases.state[shard] = sharding.ShardLease(
            shard, lease.holder, lease.renewed, D, self.identity, self.leases.clock()
        )
        return True


def replicas(names: list[str], *, count: int = 3) -> tuple[Clock, Leases, dict[str, shards_lib.Shards]]:
    clock = Clock()
    leases = Leases(clock)
    found = {
        n: shards_lib.Shards(count=count, store=Store(leases, n), duration=D, clock=clock) for n in names
    }
    return clock, leases, found


async def rounds(clock: Clock, replicas: dict[str, shards_lib.Shards], n: int) -> None:
    for _ in range(n):
        for replica in replicas.values():
            await replica.round()
        clock.now += sharding.renew_period(D)


def owners(replicas: dict[str, shards_lib.Shards]) -> list[int]:
    return sorted(s for r in replicas.values() for s in r.held)


async def test_three_replicas_end_with_one_shard_each_and_every_policy_owned_once() -> None:
    clock, _, group = replicas(["a", "b", "c"])
    await rounds(clock, group, 6)
    assert owners(group) == [0, 1, 2]
    assert all(len(r.held) == 1 for r in group.values())
    for i in range(300):
        assert sum(r.owns(f"ns-{i % 30}", f"p-{i}") for r in group.values()) == 1


async def test_a_dead_replicas_shard_is_taken_over_within_one_lease_duration() -> None:
    clock, _, group = replicas(["a", "b", "c"])
    await rounds(clock, group, 6)
    dead = group.pop("c")
    orphan = next(iter(dead.held))
    died = clock.now
    taken_at = None
    while taken_at is None and clock.now < died + 3 * D:
        await rounds(clock, group, 1)
        if orphan in owners(group):
            taken_at = clock.now
    assert taken_at is not None and taken_at - died <= D + sharding.renew_period(D)
    assert owners(group) == [0, 1, 2]


async def test_listeners_hear_gains_and_losses_and_a_handover_reaches_the_asker() -> None:
    clock, leases, group = replicas(["a"])
    heard: list[tuple[frozenset[int], frozenset[int]]] = []
    group["a"].listeners.append(lambda gained, lost: heard.append((gained, lost)))
    await rounds(clock, group, 1)
    assert group["a"].held == {0, 1, 2} and heard == [(frozenset({0, 1, 2}), frozenset())]
    group["b"] = shards_lib.Shards(count=3, store=Store(leases, "b"), duration=D, clock=clock)
    await rounds(clock, group, 4)
    assert len(group["a"].held) == 2 and len(group["b"].held) == 1
    assert owners(group) == [0, 1, 2]
    assert any(lost for _, lost in heard)


async def test_a_replica_that_cannot_reach_the_api_stops_acting_before_others_may_take_over() -> None:
    clock, leases, group = replicas(["a"])
    await rounds(clock, group, 1)
    leases.down = True
    renewed = clock.now - sharding.renew_period(D)
    while group["a"].held:
        await group["a"].round()
        clock.now += 1.0
    assert clock.now - renewed <= D * sharding.LOCAL_EXPIRY_FRACTION + 1.0 < D


async def test_release_all_hands_every_shard_over_and_single_owns_everything() -> None:
    clock, leases, group = replicas(["a"])
    await rounds(clock, group, 1)
    await group["a"].release_all()
    assert group["a"].held == set() and all(not lease.holder for lease in leases.state.values())
    single = shards_lib.Shards.single()
    assert not single.enabled and single.owns("any", "policy")
    assert await single.round() is None
