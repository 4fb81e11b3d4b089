"""The client-side token bucket."""

from __future__ import annotations

import pytest

from maintenance_operator.domain import ratelimit


def test_burst_then_qps() -> None:
    bucket = ratelimit.TokenBucket(qps=10.0, burst=3)
    waits = [bucket.reserve(0.0) for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.2])  # burst of 3, then one per 100 ms, in order


def test_refills_up_to_burst_only() -> None:
    bucket = ratelimit.TokenBucket(qps=10.0, burst=2)
    bucket.reserve(0.0)
    bucket.reserve(0.0)
    assert bucket.reserve(100.0) == 0.0  # refilled, but only to 2
    assert bucket.reserve(100.0) == 0.0
    assert bucket.reserve(100.0) == pytest.approx(0.1)


@pytest.mark.parametrize("calls", [10, 100, 1000])
def test_long_run_rate_never_exceeds_qps(calls: int) -> None:
    bucket = ratelimit.TokenBucket(qps=50.0, burst=5)
    last_start = max(bucket.reserve(0.0) for _ in range(calls))
    assert last_start == pytest.approx(max(0.0, (calls - 5) / 50.0))


@pytest.mark.parametrize(("qps", "burst"), [(0.0, 1), (-1.0, 1), (1.0, 0)])
def test_rejects_nonsense(qps: float, burst: int) -> None:
    with pytest.raises(ValueError):
        ratelimit.TokenBucket(qps=qps, burst=burst)
