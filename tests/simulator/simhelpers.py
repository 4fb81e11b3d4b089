"""Shared helpers for the simulator tests: pod factories and PromQL-like arithmetic on samples."""

from __future__ import annotations

import math
from collections.abc import Sequence

from chatapp_sim.model import ChatAppModel, HistogramSample, PodInfo, PodSample

MIB = 1024 * 1024
T0 = 1_700_000_000.0


def pod(
    name: str,
    image: str = "chatapp:1.0",
    deployment: str = "chatapp",
    namespace: str = "default",
    limit: float = 512 * MIB,
) -> PodInfo:
    return PodInfo(
        uid=f"uid-{namespace}-{name}",
        namespace=namespace,
        name=name,
        deployment=deployment,
        image=image,
        memory_limit_bytes=limit,
        start_time=T0 - 100,
    )


def run(model: ChatAppModel, pods: Sequence[PodInfo], start: float, end: float, step: float = 1.0) -> float:
    """Advance like the poller would (one step per second) from start to end inclusive."""
    t = start
    while t <= end + 1e-9:
        model.advance(t, pods)
        t += step
    return end


def by_pod(model: ChatAppModel) -> dict[str, PodSample]:
    return {s.pod: s for s in model.samples()}


def counter_delta(before: PodSample, after: PodSample, name: str) -> float:
    return after.counters[name] - before.counters[name]


def ratio(before: PodSample, after: PodSample, num: str, den: str) -> float:
    return counter_delta(before, after, num) / counter_delta(before, after, den)


def histogram_delta(before: HistogramSample, after: HistogramSample) -> list[tuple[float, float]]:
    return [(le, a - b) for (le, b), (_, a) in zip(before.buckets, after.buckets, strict=True)]


def quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float:
    """Same interpolation as PromQL histogram_quantile on cumulative (le, count) pairs."""
    total = buckets[-1][1]
    rank = q * total
    lower, lower_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if math.isinf(le):
                return lower
            return lower + (le - lower) * (rank - lower_count) / max(count - lower_count, 1e-12)
        lower, lower_count = le, count
    return lower


def window_p95(before: PodSample, after: PodSample, name: str) -> float:
    return quantile(0.95, histogram_delta(before.histograms[name], after.histograms[name]))
