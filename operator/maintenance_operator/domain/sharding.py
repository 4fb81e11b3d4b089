"""Sharding decisions (pure): which shard a policy is in, and which shard Leases a replica claims.

Like Argo CD's application-controller sharding, a stable hash of ``namespace/name`` picks the shard; unlike
it, shards are not tied to StatefulSet ordinals but claimed through Leases, so any live replica can hold
any shard. A replica holds its fair share (shards / live replicas, rounded up); a Lease not renewed within
its duration is free, so a dead replica's shards are taken over within one Lease duration (plus at most one
renew period). A replica short of its share asks a holder above its share to hand one shard over.
Times are epoch seconds."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Set
from dataclasses import dataclass, field

#: Renew this many times per Lease duration (client-go's leader election renews well inside the duration).
RENEWS_PER_DURATION = 3
#: A replica that could not renew for this fraction of the duration stops acting on the shard, before any
#: other replica may take it over (at the full duration).
LOCAL_EXPIRY_FRACTION = 2 / 3


def shard_of(namespace: str, name: str, *, shards: int) -> int:
    """The shard of ``namespace/name`` in [0, shards): sha256-based, the same on every process."""
    if shards < 1:
        raise ValueError("shards must be at least 1")
    digest = hashlib.sha256(f"{namespace}/{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


def fair_share(*, shards: int, members: int) -> int:
    """Shards one replica holds when `members` replicas share `shards` (rounded up)."""
    return math.ceil(shards / max(members, 1))


def renew_period(duration: float) -> float:
    """Seconds between two renewals of a replica's Leases."""
    return duration / RENEWS_PER_DURATION


def stale(*, last_renewed: float, now: float, duration: float) -> bool:
    """Whether a replica that last renewed at `last_renewed` must stop acting on the shard (it could not
    reach the API server): true strictly before the Lease expires for the other replicas."""
    return now >= last_renewed + duration * LOCAL_EXPIRY_FRACTION


@dataclass(frozen=True)
class ShardLease:
    """What one shard's Lease says: who holds it until when, and who asked for it."""

    shard: int
    holder: str | None
    renewed: float | None
    duration: float
    wanted_by: str | None = None
    wanted_at: float | None = None

    def held(self, now: float) -> bool:
        """Held by someone whose renewal has not expired."""
        return bool(self.holder) and self.renewed is not None and now < self.renewed + self.duration

    def wanted(self, now: float) -> bool:
        """Someone asked for this shard within the last Lease duration."""
        return bool(self.wanted_by) and self.wanted_at is not None and now < self.wanted_at + self.duration


@dataclass(frozen=True)
class Plan:
    """One round of a replica's Lease work."""

    renew: frozenset[int] = field(default_factory=frozenset)
    acquire: tuple[int, ...] = ()
    release: frozenset[int] = field(default_factory=frozenset)
    request: int | None = None
    lost: frozenset[int] = field(default_factory=frozenset)
    share: int = 0


def members(leases: Mapping[int, ShardLease | None], *, me: str, now: float) -> frozenset[str]:
    """The live replicas: me, every live holder and every replica that asked for a shard recently."""
    found = {me}
    for lease in leases.values():
        if lease is None:
            continue
        if lease.held(now) and lease.holder:
            found.add(lease.holder)
        if lease.wanted(now) and lease.wanted_by:
            found.add(lease.wanted_by)
    return frozenset(found)


def plan(
    leases: Mapping[int, ShardLease | None],
    *,
    me: str,
    held: Set[int],
    shards: int,
    now: float,
) -> Plan:
    """What `me` does this round, given every shard's Lease (None: absent) and the shards it believes it
    holds. Rules:

    - a shard I believed mine whose Lease names someone else (or nobody) is lost, at once;
    - shards whose Lease names me are renewed (even if just expired: the write is conditional);
    - beyond my fair share, a shard another live replica asked for is released;
    - below my share, free shards (absent, no holder, expired) are acquired, starting at an offset of my
      identity so replicas starting together spread out; a free shard asked for by another live replica
      is left to it;
    - still below my share with nothing free: ask one shard of the replica holding the most above its share.
    """
    live = members(leases, me=me, now=now)
    share = fair_share(shards=shards, members=len(live))
    lease_of = {s: leases.get(s) for s in range(shards)}
    mine = {s for s, lease in lease_of.items() if lease is not None and lease.holder == me}
    lost = frozenset(s for s in held if s not in mine)
    excess = len(mine) - share
    release: set[int] = set()
    for s in sorted(mine):
        lease = lease_of[s]
        if excess <= 0:
            break
        if lease is not None and lease.wanted(now) and lease.wanted_by not in (None, me):
            release.add(s)
            excess -= 1
    keep = mine - release
    offset = shard_of("replica", me, shards=shards)
    order = [(offset + i) % shards for i in range(shards)]
    acquire: list[int] = []
    for s in order:
        if len(keep) + len(acquire) >= share:
            break
        lease = lease_of[s]
        if s in mine or (lease is not None and lease.held(now)):
            continue
        if lease is not None and lease.wanted(now) and lease.wanted_by != me:
            continue
        acquire.append(s)
    request = None
    if len(keep) + len(acquire) < share:
        request = _shard_to_ask(lease_of, me=me, share=share, now=now)
    return Plan(
        renew=frozenset(keep),
        acquire=tuple(acquire),
        release=frozenset(release),
        request=request,
        lost=lost,
        share=share,
    )


def _shard_to_ask(
    lease_of: Mapping[int, ShardLease | None], *, me: str, share: int, now: float
) -> int | None:
    counts: dict[str, list[int]] = {}
    for s, lease in lease_of.items():
        if lease is not None and lease.held(now) and lease.holder and lease.holder != me:
            counts.setdefault(lease.holder, []).append(s)
    over = [(len(owned), holder) for holder, owned in counts.items() if len(owned) > share]
    if not over:
        return None
    _, holder = max(over)
    for s in sorted(counts[holder]):
        lease = lease_of[s]
        if lease is not None and not (lease.wanted(now) and lease.wanted_by != me):
            return s
    return None
