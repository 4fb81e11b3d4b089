"""Due times, jitter and the fair queue of the scheduler."""

from __future__ import annotations

import pytest

from maintenance_operator.domain import scheduling

NOW = 1_000_000.0


def test_jitter_is_stable_and_in_range() -> None:
    values = [scheduling.jitter_fraction(f"ns-{i}/policy") for i in range(1000)]
    assert values == [scheduling.jitter_fraction(f"ns-{i}/policy") for i in range(1000)]
    assert all(0.0 <= v < 1.0 for v in values)


def test_jitter_spreads_a_fleet_evenly() -> None:
    buckets = [0] * 10
    for i in range(1000):
        buckets[int(scheduling.jitter_fraction(f"ns-{i % 100}/p-{i}") * 10)] += 1
    assert min(buckets) > 60 and max(buckets) < 140  # 100 expected per tenth


J = scheduling.jitter_fraction("ns/p")


@pytest.mark.parametrize(
    ("intervals", "spread", "expected"),
    [
        ([(None, 300.0)], 10.0, NOW + J * 10.0),  # never run: within the spread
        ([(None, 5.0)], 10.0, NOW + J * 5.0),  # the spread never exceeds the interval
        ([(NOW - 100.0, 300.0)], 10.0, NOW + 200.0),  # run recently: last + interval
        ([(NOW - 400.0, 300.0)], 10.0, NOW + J * 10.0),  # overdue (restart): spread again
        ([(NOW - 100.0, 300.0), (NOW - 100.0, 900.0)], 10.0, NOW + 200.0),  # the earliest job wins
        ([(NOW - 100.0, 300.0), (None, 900.0)], 10.0, NOW + J * 10.0),
        ([(None, 300.0)], 0.0, NOW),  # no spread: at once
    ],
)
def test_due_at(intervals: list[tuple[float | None, float]], spread: float, expected: float) -> None:
    assert scheduling.due_at("ns/p", intervals=intervals, now=NOW, spread=spread) == pytest.approx(expected)


def test_due_at_needs_a_job() -> None:
    with pytest.raises(ValueError):
        scheduling.due_at("ns/p", intervals=[], now=NOW, spread=1.0)


@pytest.mark.parametrize(
    ("pushes", "expected"),
    [
        ([], []),
        ([("a", 1), ("a", 2), ("a", 3)], [1, 2, 3]),  # FIFO within a tenant
        ([("a", 1), ("a", 2), ("a", 3), ("b", 10)], [1, 10, 2, 3]),  # b is not starved by a's backlog
        ([("a", 1), ("b", 10), ("a", 2), ("c", 20), ("b", 11)], [1, 10, 20, 2, 11]),
    ],
)
def test_fair_queue_round_robin(pushes: list[tuple[str, int]], expected: list[int]) -> None:
    queue: scheduling.FairQueue[int] = scheduling.FairQueue()
    for tenant, item in pushes:
        queue.push(tenant, item)
    assert len(queue) == len(pushes)
    assert [queue.pop() for _ in pushes] == expected
    with pytest.raises(IndexError):
        queue.pop()


def test_fair_queue_remove() -> None:
    queue: scheduling.FairQueue[int] = scheduling.FairQueue()
    queue.push("a", 1)
    queue.push("b", 2)
    assert queue.remove("a", 1) is True
    assert queue.remove("a", 1) is False
    assert queue.remove("z", 1) is False
    assert [queue.pop()] == [2]
    assert len(queue) == 0
