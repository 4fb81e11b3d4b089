"""Capacity planning from range data (domain/capacity.py)."""

from __future__ import annotations

import math

import pytest

from maintenance_operator.domain import capacity as cap

HOUR = 3600.0
DAY = cap.DAY
RULES = cap.DataRules(step_seconds=HOUR, window_seconds=2 * DAY, min_samples=12, min_span_seconds=DAY)
POD = cap.PodResources(cpu_cores=0.5, memory_bytes=512 * 1024**2)


def hourly(values: list[float], start: float = 0.0) -> list[cap.Sample]:
    return [(start + i * HOUR, v) for i, v in enumerate(values)]


FLAT_100 = hourly([100.0] * 48)


@pytest.mark.parametrize(
    ("samples", "sufficient", "reason"),
    [
        (FLAT_100, True, ""),
        (hourly([100.0] * 5), False, "5 samples < 12"),
        (hourly([100.0] * 20), False, "span 19.0h < 24.0h"),
        # Gaps: every fourth hour over two days gives 13 samples, 27 % coverage.
        ([(i * 4 * HOUR, 100.0) for i in range(13)], False, "coverage 27% < 50%"),
        (hourly([math.nan] * 48), False, "0 samples < 12"),
    ],
)
def test_quality(samples: list[cap.Sample], sufficient: bool, reason: str) -> None:
    q = cap.quality(samples, rules=RULES)
    assert q.sufficient is sufficient
    assert reason in q.reason and (q.reason == "") is sufficient


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        ([(0, 0), (10, 100), (20, 300)], [(10, 10.0), (20, 20.0)]),
        # A reset (300 -> 50) counts the new value as the increase, like PromQL's rate().
        ([(0, 0), (10, 300), (20, 50), (30, 150)], [(10, 30.0), (20, 5.0), (30, 10.0)]),
        ([(0, 5), (10, math.nan), (20, 25)], [(20, 1.0)]),
        ([(0, 5)], []),
    ],
)
def test_counter_rates(samples: list[cap.Sample], expected: list[cap.Sample]) -> None:
    got = cap.counter_rates(samples)
    assert [t for t, _ in got] == [t for t, _ in expected]
    assert [v for _, v in got] == pytest.approx([v for _, v in expected])


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1, 2, 3, 4, 5], 50, 3),
        ([1, 2, 3, 4, 5], 95, 4.8),
        ([7], 99, 7),
        ([], 95, None),
        ([math.nan, 2], 50, 2),
    ],
)
def test_percentile(values: list[float], q: float, expected: float | None) -> None:
    assert cap.percentile(values, q) == (pytest.approx(expected) if expected is not None else None)


def test_growth_per_day() -> None:
    # 100 -> 147 over 47 hours: 1 req/s per hour = 24 req/s/day on a mean of 123.5.
    growing = hourly([100.0 + i for i in range(48)])
    assert cap.growth_per_day(growing) == pytest.approx(24 / 123.5)
    assert cap.growth_per_day(FLAT_100) == pytest.approx(0.0)
    assert cap.growth_per_day([(0, 1.0)]) is None


def test_healthy_throughput_only_counts_healthy_samples_and_joins_on_time() -> None:
    load = hourly([100, 200, 300, 400])
    replicas = hourly([2, 2, 2, 2])
    healthy = hourly([1, 1, 1, 0])  # 400 req/s on 2 pods was not healthy
    assert cap.healthy_throughput(load, replicas, healthy, q=100) == 150
    assert cap.healthy_throughput(load, replicas, hourly([0, 0, 0, 0])) is None
    # A single replica (no division by anything else) and a missing replicas sample.
    assert cap.healthy_throughput(hourly([80, 90]), [(0.0, 1.0)], hourly([1, 1]), q=100) == 80


@pytest.mark.parametrize(
    ("load", "throughput", "headroom", "expected"),
    [
        (100, 50, 0.0, 2),
        (100, 50, 0.2, 3),
        (1, 50, 0.2, 1),
        (0, 50, 0.2, 1),
        (120, 50, 0.2, 3),
        (121, 50, 0.2, 4),
    ],
)
def test_replicas_for(load: float, throughput: float, headroom: float, expected: int) -> None:
    assert cap.replicas_for(load, throughput=throughput, headroom=headroom) == expected


def test_replicas_for_rejects_zero_throughput() -> None:
    with pytest.raises(ValueError, match="throughput"):
        cap.replicas_for(10, throughput=0, headroom=0.2)


@pytest.mark.parametrize(
    ("load", "capacity", "expected"),
    [
        (hourly([100.0 + i for i in range(48)]), 200.0, (200 - 147) * HOUR),  # 1 req/s per hour
        (FLAT_100, 200.0, None),
        (hourly([300.0 - i for i in range(48)]), 400.0, None),
        (FLAT_100, 90.0, 0.0),
        ([], 90.0, None),
    ],
)
def test_exhaustion(load: list[cap.Sample], capacity: float, expected: float | None) -> None:
    got = cap.exhaustion_seconds(load, capacity=capacity)
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_plan_scenario_table() -> None:
    p = cap.plan(
        load=FLAT_100,
        throughput_per_pod=50.0,
        current_replicas=3,
        pod=POD,
        limits=cap.Limits(scale_max=6, hpa_max=5),
        rules=RULES,
        headroom=0.2,
    )
    table = {r.name: (r.replicas, r.allowed, r.blocked_by) for r in p.scenarios}
    assert table == {
        "+25%": (4, True, ""),  # 125 / 40
        "+50%": (4, True, ""),  # 150 / 40 = 3.75
        "+100%": (5, True, ""),
        "3x peak": (8, False, "actions.scale.max=6"),
        "in 3 months": (3, True, ""),  # flat load: no growth
        "in 12 months": (3, True, ""),
        "in 36 months": (3, True, ""),
    }
    row = p.scenarios[2]
    assert row.cpu_cores == pytest.approx(2.5) and row.memory_gib == pytest.approx(2.5)
    assert p.exhaustion_seconds is None and p.current_headroom == pytest.approx(1 - 100 / 150)


def test_plan_blocked_by_hpa_and_growth_horizons() -> None:
    growing = hourly([100.0 + i * 0.5 for i in range(48)])
    p = cap.plan(
        load=growing,
        throughput_per_pod=50.0,
        current_replicas=4,
        pod=POD,
        limits=cap.Limits(scale_max=100, hpa_max=4),
        rules=RULES,
    )
    rows = {r.name: r for r in p.scenarios}
    assert rows["+25%"].allowed and rows["+50%"].blocked_by == "HPA maxReplicas=4"
    assert rows["in 36 months"].replicas > rows["in 12 months"].replicas > rows["in 3 months"].replicas
    assert p.growth_per_day is not None and p.growth_per_day > 0
    assert p.exhaustion_seconds is not None and p.exhaustion_seconds > 0


@pytest.mark.parametrize(
    ("load", "throughput", "reason"),
    [(hourly([100.0] * 3), 50.0, "3 samples"), (FLAT_100, None, "per-pod throughput")],
)
def test_plan_recommends_nothing_without_data(
    load: list[cap.Sample], throughput: float | None, reason: str
) -> None:
    p = cap.plan(
        load=load,
        throughput_per_pod=throughput,
        current_replicas=1,
        pod=POD,
        limits=cap.Limits(scale_max=5),
        rules=RULES,
    )
    assert p.scenarios == () and reason in p.reason


def test_right_size_cpu_percentile_memory_peak_plus_buffer() -> None:
    cpu = hourly([0.1] * 40 + [0.5] * 8)
    memory = hourly([200e6] * 47 + [400e6])
    r = cap.right_size(container="app", cpu_cores=cpu, memory_bytes=memory, rules=RULES, memory_buffer=0.15)
    assert r.cpu_request_cores == pytest.approx(0.5)
    assert r.memory_request_bytes == pytest.approx(460e6) == r.memory_limit_bytes
    assert "p95 of 48 samples" in r.assumptions and "peak of 48 samples + 15%" in r.assumptions


def test_right_size_thin_data_says_so() -> None:
    r = cap.right_size(
        container="app", cpu_cores=hourly([0.1] * 48), memory_bytes=hourly([1e6] * 4), rules=RULES
    )
    assert r.cpu_request_cores is None and r.memory_request_bytes is None
    assert r.assumptions.startswith("insufficient data") and "4 samples" in r.assumptions


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100m", 0.1),
        ("2", 2.0),
        ("1.5", 1.5),
        ("128Mi", 128 * 1024**2),
        ("1G", 1e9),
        ("1Gi", 1024**3),
        (3, 3.0),
    ],
)
def test_parse_quantity(text: str | int, value: float) -> None:
    assert cap.parse_quantity(text) == pytest.approx(value)


@pytest.mark.parametrize("text", [None, "", "abc", "12Qi"])
def test_parse_quantity_unreadable(text: str | None) -> None:
    assert cap.parse_quantity(text) is None


def test_pod_requests_sum_containers() -> None:
    pod = cap.pod_requests(
        [
            {"name": "a", "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}},
            {"name": "b", "resources": {"requests": {"cpu": "750m"}}},
            {"name": "c"},
        ]
    )
    assert pod == cap.PodResources(1.0, 256 * 1024**2)
