"""Shard of a policy, fair share, and the Lease rules of a replica (claim, renew, hand over, take over)."""

from __future__ import annotations

import pytest

from maintenance_operator.domain import sharding

NOW = 1_000_000.0
D = 15.0


def lease(
    shard: int,
    holder: str | None,
    *,
    age: float = 1.0,
    wanted_by: str | None = None,
    wanted_age: float = 1.0,
) -> sharding.ShardLease:
    return sharding.ShardLease(
        shard=shard,
        holder=holder,
        renewed=NOW - age,
        duration=D,
        wanted_by=wanted_by,
        wanted_at=NOW - wanted_age if wanted_by else None,
    )


def test_shard_is_stable_and_in_range() -> None:
    shards = [sharding.shard_of(f"ns-{i % 30}", f"p-{i}", shards=3) for i in range(3000)]
    assert shards == [sharding.shard_of(f"ns-{i % 30}", f"p-{i}", shards=3) for i in range(3000)]
    counts = [shards.count(s) for s in range(3)]
    assert min(counts) > 900 and max(counts) < 1100  # 1000 expected per shard
    assert sharding.shard_of("a", "b", shards=1) == 0


def test_shard_depends_on_namespace_and_name() -> None:
    assert {sharding.shard_of("ns", f"p-{i}", shards=16) for i in range(100)} == set(range(16))
    with pytest.raises(ValueError, match="at least 1"):
        sharding.shard_of("ns", "p", shards=0)


@pytest.mark.parametrize(
    ("shards", "members", "share"), [(3, 3, 1), (3, 2, 2), (3, 1, 3), (4, 3, 2), (1, 3, 1), (3, 0, 3)]
)
def test_fair_share(shards: int, members: int, share: int) -> None:
    assert sharding.fair_share(shards=shards, members=members) == share


@pytest.mark.parametrize(
    ("last_renewed_ago", "stale"), [(0.0, False), (D * 0.6, False), (D * 2 / 3, True), (D, True)]
)
def test_a_replica_stops_acting_before_the_lease_expires_for_others(
    last_renewed_ago: float, stale: bool
) -> None:
    assert sharding.stale(last_renewed=NOW - last_renewed_ago, now=NOW, duration=D) is stale


def test_lease_held_and_wanted_expire_after_one_duration() -> None:
    assert lease(0, "a", age=D - 0.1).held(NOW)
    assert not lease(0, "a", age=D).held(NOW)
    assert not lease(0, None).held(NOW)
    assert not lease(0, "", age=0).held(NOW)
    assert lease(0, "a", wanted_by="b", wanted_age=D - 1).wanted(NOW)
    assert not lease(0, "a", wanted_by="b", wanted_age=D).wanted(NOW)


def test_alone_with_no_leases_a_replica_claims_every_shard_from_its_offset() -> None:
    result = sharding.plan({}, me="a", held=set(), shards=3, now=NOW)
    offset = sharding.shard_of("replica", "a", shards=3)
    assert result.acquire == tuple((offset + i) % 3 for i in range(3))
    assert result.share == 3 and result.request is None and not result.renew and not result.lost


@pytest.mark.parametrize(
    ("leases", "held", "renew", "acquire", "release", "ask", "lost"),
    [
        # three replicas, one shard each: renew mine, touch nothing else
        ({0: lease(0, "a"), 1: lease(1, "b"), 2: lease(2, "c")}, {0}, {0}, (), set(), None, set()),
        # c died (its lease expired): a and b each take their share of 2; a takes shard 2 over
        ({0: lease(0, "a"), 1: lease(1, "b"), 2: lease(2, "c", age=D)}, {0}, {0}, (2,), set(), None, set()),
        # a holds 2 of 3 while b and c are alive: c asked for shard 2, a hands it over
        (
            {0: lease(0, "a"), 1: lease(1, "b"), 2: lease(2, "a", wanted_by="c")},
            {0, 2},
            {0},
            (),
            {2},
            None,
            set(),
        ),
        # the same, but the request is old (c gone): a keeps shard 2 (share 2 with a and b alive)
        (
            {0: lease(0, "a"), 1: lease(1, "b"), 2: lease(2, "a", wanted_by="c", wanted_age=D)},
            {0, 2},
            {0, 2},
            (),
            set(),
            None,
            set(),
        ),
        # b took shard 0 (our renewals failed): lost at once; the absent shard 2 is free and claimed
        ({0: lease(0, "b"), 1: lease(1, "b")}, {0}, set(), (2,), set(), None, {0}),
        # a released shard 1 to c: a free shard asked for by another live replica is left to it
        (
            {0: lease(0, "a"), 1: lease(1, None, wanted_by="c"), 2: lease(2, "b")},
            {0},
            {0},
            (),
            set(),
            None,
            set(),
        ),
        # a lease deleted under us is lost and (free, within the share) claimed again
        ({1: lease(1, "b"), 2: lease(2, "c")}, {0}, set(), (0,), set(), None, {0}),
    ],
)
def test_plan_for_replica_a(
    leases: dict[int, sharding.ShardLease | None],
    held: set[int],
    renew: set[int],
    acquire: tuple[int, ...],
    release: set[int],
    ask: int | None,
    lost: set[int],
) -> None:
    result = sharding.plan(leases, me="a", held=held, shards=3, now=NOW)
    assert result.renew == renew
    assert result.acquire == acquire
    assert result.release == release
    assert result.request == ask
    assert result.lost == lost


def test_a_newcomer_asks_the_replica_above_its_share() -> None:
    leases = {0: lease(0, "a"), 1: lease(1, "a"), 2: lease(2, "b")}
    result = sharding.plan(leases, me="c", held=set(), shards=3, now=NOW)
    assert result.share == 1
    assert result.acquire == () and result.request == 0
    # the holder, seeing the request, releases; the newcomer then claims the freed shard
    leases[0] = lease(0, "a", wanted_by="c")
    holder = sharding.plan(leases, me="a", held={0, 1}, shards=3, now=NOW)
    assert holder.release == {0} and holder.renew == {1}
    leases[0] = lease(0, None, wanted_by="c")
    assert sharding.plan(leases, me="c", held=set(), shards=3, now=NOW).acquire == (0,)
    assert sharding.plan(leases, me="b", held={2}, shards=3, now=NOW).acquire == ()


def test_a_shard_already_asked_for_is_not_asked_again() -> None:
    leases = {0: lease(0, "a", wanted_by="c"), 1: lease(1, "a"), 2: lease(2, "a")}
    assert sharding.plan(leases, me="d", held=set(), shards=3, now=NOW).request == 1


@pytest.mark.parametrize("replicas", [1, 2, 3, 5])
def test_replicas_converge_to_a_partition(replicas: int) -> None:
    """Rounds of every replica's plan, applied in turn, end with each shard held once and fair shares."""
    shards = 6
    names = [f"r{i}" for i in range(replicas)]
    leases: dict[int, sharding.ShardLease | None] = {}
    held: dict[str, set[int]] = {n: set() for n in names}
    for _ in range(10):
        for me in names:
            step = sharding.plan(leases, me=me, held=held[me], shards=shards, now=NOW)
            held[me] -= step.lost
            for s in step.release:
                leases[s] = sharding.ShardLease(s, None, NOW, D, wanted_by=leases[s].wanted_by, wanted_at=NOW)  # type: ignore[union-attr]
                held[me].discard(s)
            for s in step.acquire:
                leases[s] = sharding.ShardLease(s, me, NOW, D)
                held[me].add(s)
            if step.request is not None:
                old = leases[step.request]
                assert old is not None
                leases[step.request] = sharding.ShardLease(
                    step.request, old.holder, old.renewed, D, wanted_by=me, wanted_at=NOW
                )
    owners = [lease.holder for lease in leases.values() if lease is not None]
    assert len(owners) == shards and set(owners) == set(names)
    share = sharding.fair_share(shards=shards, members=replicas)
    assert all(len(held[n]) <= share for n in names)
    assert sorted(s for n in names for s in held[n]) == list(range(shards))
