"""Capacity planning: growth scenarios, time to exhaustion and right-sizing, from range data.

Rules (all inputs are ``(unix seconds, value)`` samples from Prometheus range queries):

- **Data**: non-finite samples are dropped; gaps are allowed. ``coverage`` is samples x step / window.
  Fewer than ``min_samples`` samples, a span shorter than ``min_span_seconds`` or a coverage below
  ``min_coverage`` is *insufficient*: the analysis says so and recommends nothing.
- **Counters**: ``counter_rates`` turns a cumulative counter into per-second rates between samples; a
  drop is a reset, so the increase over that interval is the new value (Prometheus' ``rate`` rule).
- **Offered load** is the p95 of the load samples (requests/s), the **peak** its maximum.
- **Per-pod throughput** is measured, never assumed: the p95 of load / replicas over the samples where
  the target was healthy (latency and queue within objectives). No healthy sample: unknown.
- **Growth** is the least-squares slope of load over time, as a fraction of the mean load per day.
- **Replicas needed** for a load L: ceil(L / (throughput x (1 - headroom))), at least 1; a scenario
  is allowed when that is <= ``actions.scale.max`` and <= the HPA's ``maxReplicas`` (when one exists).
- **Scenarios** multiply the offered load (+25 % = 1.25) or, with ``of_peak``, the peak (3x peak).
  **Horizons** project the load at the observed growth to 3, 12 and 36 months.
- **Cost proxy**: requested cores x replicas and requested GiB x replicas.
- **Exhaustion**: the current replicas x throughput x (1 - headroom) is the capacity; with a positive
  growth the load reaches it after (capacity - load) / slope seconds (0 if already above).
- **Right-sizing** (KRR's way): CPU request = the ``cpu_percentile`` of CPU cores used (no CPU
  limit: throttling hurts latency), memory request = limit = peak bytes x (1 + ``memory_buffer``).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence

Sample = tuple[float, float]
DAY = 86400.0
GIB = 1024.0**3


@dataclasses.dataclass(frozen=True)
class DataRules:
    """When range data is enough to plan with."""

    step_seconds: float = 300.0
    window_seconds: float = 14 * DAY
    min_samples: int = 12
    min_span_seconds: float = DAY
    min_coverage: float = 0.5


@dataclasses.dataclass(frozen=True)
class DataQuality:
    """How much data an analysis used, and whether it is enough."""

    samples: int
    span_seconds: float
    coverage: float
    sufficient: bool
    reason: str = ""


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A growth scenario: ``factor`` x offered load, or x peak load when ``of_peak``."""

    name: str
    factor: float
    of_peak: bool = False


DEFAULT_SCENARIOS = (
    Scenario("+25%", 1.25),
    Scenario("+50%", 1.5),
    Scenario("+100%", 2.0),
    Scenario("3x peak", 3.0, of_peak=True),
)
DEFAULT_HORIZONS = (("3 months", 91 * DAY), ("12 months", 365 * DAY), ("36 months", 1095 * DAY))


@dataclasses.dataclass(frozen=True)
class PodResources:
    """Requests of one pod (sum over its containers)."""

    cpu_cores: float
    memory_bytes: float


@dataclasses.dataclass(frozen=True)
class Limits:
    """Replica ceilings: the policy's ``actions.scale.max`` and the HPA's ``maxReplicas``."""

    scale_max: int
    hpa_max: int | None = None


@dataclasses.dataclass(frozen=True)
class ScenarioResult:
    """What one scenario needs."""

    name: str
    load: float
    replicas: int
    allowed: bool
    blocked_by: str
    cpu_cores: float
    memory_gib: float


@dataclasses.dataclass(frozen=True)
class CapacityPlan:
    """The capacity table of one target; ``scenarios`` is empty when the data is insufficient."""

    quality: DataQuality
    offered_load: float | None = None
    peak_load: float | None = None
    throughput_per_pod: float | None = None
    growth_per_day: float | None = None
    current_replicas: int = 0
    headroom: float = 0.0
    exhaustion_seconds: float | None = None
    scenarios: tuple[ScenarioResult, ...] = ()
    reason: str = ""

    @property
    def current_headroom(self) -> float | None:
        """Spare fraction of the current capacity at the offered load (negative: over capacity)."""
        if self.throughput_per_pod is None or self.offered_load is None or self.current_replicas < 1:
            return None
        capacity = self.current_replicas * self.throughput_per_pod
        return 1.0 - self.offered_load / capacity if capacity > 0 else None


@dataclasses.dataclass(frozen=True)
class RightSizing:
    """A KRR-style recommendation for one container; requests are None when data is insufficient."""

    container: str
    quality: DataQuality
    cpu_request_cores: float | None = None
    memory_request_bytes: float | None = None
    memory_limit_bytes: float | None = None
    assumptions: str = ""


def finite(samples: Sequence[Sample]) -> list[Sample]:
    """Samples with a finite time and value, sorted by time."""
    return sorted((t, v) for t, v in samples if math.isfinite(t) and math.isfinite(v))


def quality(samples: Sequence[Sample], *, rules: DataRules) -> DataQuality:
    """Whether the samples are enough to plan with (see module rules)."""
    clean = finite(samples)
    count = len(clean)
    span = clean[-1][0] - clean[0][0] if count > 1 else 0.0
    coverage = min(1.0, count * rules.step_seconds / rules.window_seconds) if rules.window_seconds > 0 else 0
    reasons = []
    if count < rules.min_samples:
        reasons.append(f"{count} samples < {rules.min_samples}")
    if span < rules.min_span_seconds:
        reasons.append(f"span {span / 3600:.1f}h < {rules.min_span_seconds / 3600:.1f}h")
    if coverage < rules.min_coverage:
        reasons.append(f"coverage {coverage:.0%} < {rules.min_coverage:.0%}")
    return DataQuality(count, span, coverage, not reasons, "; ".join(reasons))


def counter_rates(samples: Sequence[Sample]) -> list[Sample]:
    """Per-second rates between consecutive counter samples; a drop counts as a reset to zero."""
    clean = finite(samples)
    rates: list[Sample] = []
    for (t0, v0), (t1, v1) in itertools.pairwise(clean):
        if t1 <= t0:
            continue
        increase = v1 - v0 if v1 >= v0 else v1
        rates.append((t1, increase / (t1 - t0)))
    return rates


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100, linear interpolation) of finite values; None when there are none."""
    data = sorted(v for v in values if math.isfinite(v))
    if not data:
        return None
    rank = (len(data) - 1) * min(max(q, 0.0), 100.0) / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (rank - low)


def growth_per_day(samples: Sequence[Sample]) -> float | None:
    """Least-squares slope of the samples, as a fraction of their mean per day; None if undefined."""
    clean = finite(samples)
    if len(clean) < 2:
        return None
    slope = _slope(clean)
    mean = sum(v for _, v in clean) / len(clean)
    if slope is None or mean <= 0:
        return None
    return slope * DAY / mean


def _slope(clean: Sequence[Sample]) -> float | None:
    n = len(clean)
    mt = sum(t for t, _ in clean) / n
    mv = sum(v for _, v in clean) / n
    var = sum((t - mt) ** 2 for t, _ in clean)
    if var == 0:
        return None
    return sum((t - mt) * (v - mv) for t, v in clean) / var


def healthy_throughput(
    load: Sequence[Sample], replicas: Sequence[Sample], healthy: Sequence[Sample], *, q: float = 95.0
) -> float | None:
    """p``q`` of load per replica at the timestamps where ``healthy`` is 1 (samples joined on time)."""
    by_time_replicas = {t: v for t, v in finite(replicas)}
    by_time_healthy = {t: v for t, v in finite(healthy)}
    per_pod = [
        value / by_time_replicas[t]
        for t, value in finite(load)
        if by_time_replicas.get(t, 0) >= 1 and by_time_healthy.get(t, 0) >= 1
    ]
    return percentile(per_pod, q)


def replicas_for(load: float, *, throughput: float, headroom: float) -> int:
    """Replicas that serve ``load`` while keeping ``headroom`` (0-0.9) spare; at least 1."""
    usable = throughput * (1.0 - min(max(headroom, 0.0), 0.9))
    if usable <= 0 or not math.isfinite(load):
        raise ValueError("throughput must be positive and load finite")
    return max(1, math.ceil(load / usable - 1e-9))


def exhaustion_seconds(
    load: Sequence[Sample], *, capacity: float, now_load: float | None = None
) -> float | None:
    """Seconds until the load's linear trend reaches ``capacity``; 0 if at or above, None if not growing."""
    clean = finite(load)
    current = now_load if now_load is not None else (clean[-1][1] if clean else None)
    if current is None:
        return None
    if current >= capacity:
        return 0.0
    slope = _slope(clean) if len(clean) >= 2 else None
    if slope is None or slope <= 0:
        return None
    return (capacity - current) / slope


def _ceiling(replicas: int, limits: Limits) -> str:
    if replicas > limits.scale_max:
        return f"actions.scale.max={limits.scale_max}"
    if limits.hpa_max is not None and replicas > limits.hpa_max:
        return f"HPA maxReplicas={limits.hpa_max}"
    return ""


def plan(
    *,
    load: Sequence[Sample],
    throughput_per_pod: float | None,
    current_replicas: int,
    pod: PodResources,
    limits: Limits,
    rules: DataRules,
    headroom: float = 0.2,
    scenarios: Sequence[Scenario] = DEFAULT_SCENARIOS,
    horizons: Sequence[tuple[str, float]] = DEFAULT_HORIZONS,
) -> CapacityPlan:
    """The scenario table, or an empty plan that says why (insufficient data, unknown throughput)."""
    q = quality(load, rules=rules)
    if not q.sufficient:
        return CapacityPlan(q, current_replicas=current_replicas, headroom=headroom, reason=q.reason)
    if throughput_per_pod is None or throughput_per_pod <= 0:
        return CapacityPlan(
            q,
            current_replicas=current_replicas,
            headroom=headroom,
            reason="no healthy sample to measure per-pod throughput",
        )
    values = [v for _, v in finite(load)]
    offered = percentile(values, 95.0) or 0.0
    peak = max(values)
    growth = growth_per_day(load)
    rows: list[ScenarioResult] = []
    for s in scenarios:
        rows.append(
            _row(
                s.name, (peak if s.of_peak else offered) * s.factor, throughput_per_pod, headroom, pod, limits
            )
        )
    for name, seconds in horizons:
        factor = max(1.0, 1.0 + (growth or 0.0) * seconds / DAY)
        rows.append(_row(f"in {name}", offered * factor, throughput_per_pod, headroom, pod, limits))
    capacity = max(current_replicas, 0) * throughput_per_pod * (1.0 - headroom)
    return CapacityPlan(
        q,
        offered_load=offered,
        peak_load=peak,
        throughput_per_pod=throughput_per_pod,
        growth_per_day=growth,
        current_replicas=current_replicas,
        headroom=headroom,
        exhaustion_seconds=exhaustion_seconds(load, capacity=capacity, now_load=offered),
        scenarios=tuple(rows),
    )


def _row(
    name: str, load: float, throughput: float, headroom: float, pod: PodResources, limits: Limits
) -> ScenarioResult:
    replicas = replicas_for(load, throughput=throughput, headroom=headroom)
    blocked = _ceiling(replicas, limits)
    return ScenarioResult(
        name=name,
        load=load,
        replicas=replicas,
        allowed=not blocked,
        blocked_by=blocked,
        cpu_cores=pod.cpu_cores * replicas,
        memory_gib=pod.memory_bytes * replicas / GIB,
    )


def right_size(
    *,
    container: str,
    cpu_cores: Sequence[Sample],
    memory_bytes: Sequence[Sample],
    rules: DataRules,
    cpu_percentile: float = 95.0,
    memory_buffer: float = 0.1,
) -> RightSizing:
    """CPU request at a percentile, memory request and limit at peak x (1 + buffer); nothing on thin data."""
    q_cpu = quality(cpu_cores, rules=rules)
    q_mem = quality(memory_bytes, rules=rules)
    worst = q_cpu if not q_cpu.sufficient else q_mem
    assumptions = (
        f"CPU p{cpu_percentile:g} of {q_cpu.samples} samples over {q_cpu.span_seconds / DAY:.1f}d; "
        f"memory peak of {q_mem.samples} samples + {memory_buffer:.0%}"
    )
    if not worst.sufficient:
        return RightSizing(container, worst, assumptions=f"insufficient data: {worst.reason}")
    cpu = percentile([v for _, v in finite(cpu_cores)], cpu_percentile)
    peak = max(v for _, v in finite(memory_bytes))
    memory = peak * (1.0 + memory_buffer)
    return RightSizing(container, worst, cpu, memory, memory, assumptions)


_SUFFIXES = {
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 1024.0,
    "Mi": 1024.0**2,
    "Gi": 1024.0**3,
    "Ti": 1024.0**4,
}


def parse_quantity(text: str | int | float | None) -> float | None:
    """A Kubernetes quantity ("100m", "1.5", "128Mi", "1G") as a float; None if absent or unreadable."""
    if text is None:
        return None
    if isinstance(text, int | float):
        return float(text)
    value = text.strip()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if value.endswith(suffix):
            number = value[: -len(suffix)]
            try:
                return float(number) * _SUFFIXES[suffix]
            except ValueError:
                return None
    try:
        return float(value)
    except ValueError:
        return None


def pod_requests(containers: Sequence[dict[str, object]]) -> PodResources:
    """Requested CPU cores and memory bytes of one pod (containers without a request count 0)."""
    cpu = memory = 0.0
    for c in containers:
        resources = c.get("resources")
        requests = resources.get("requests") if isinstance(resources, dict) else None
        if isinstance(requests, dict):
            cpu += parse_quantity(requests.get("cpu")) or 0.0
            memory += parse_quantity(requests.get("memory")) or 0.0
    return PodResources(cpu, memory)
