"""Reading a shard Lease as the API server returns it (the writes run against the real API in the e2e)."""

from __future__ import annotations

from maintenance_operator.adapters import shard_leases


def test_a_lease_is_read_with_its_holder_renewal_and_request() -> None:
    raw = {
        "metadata": {
            "name": "mo-shard-2",
            "annotations": {
                shard_leases.WANTED_BY: "replica-1",
                shard_leases.WANTED_AT: "2026-01-01T00:00:05.000000Z",
            },
        },
        "spec": {
            "holderIdentity": "replica-0",
            "leaseDurationSeconds": 15,
            "renewTime": "2026-01-01T00:00:00.000000Z",
        },
    }
    lease = shard_leases.parse(2, raw)
    assert lease is not None
    assert (lease.shard, lease.holder, lease.duration) == (2, "replica-0", 15.0)
    assert lease.renewed == 1767225600.0 and lease.wanted_at == 1767225605.0
    assert lease.wanted_by == "replica-1"
    assert lease.held(1767225614.9) and not lease.held(1767225615.0)


def test_an_absent_or_released_lease_is_free() -> None:
    assert shard_leases.parse(0, None) is None
    released = shard_leases.parse(
        0, {"metadata": {}, "spec": {"holderIdentity": None, "leaseDurationSeconds": 15}}
    )
    assert released is not None and released.holder is None and released.renewed is None
    assert not released.held(0.0)
