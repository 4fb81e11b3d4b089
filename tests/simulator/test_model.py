"""Unit tests of the pure Chat App metric model: baselines, each fault, and the remediation semantics."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from chatapp_sim import model as m
from chatapp_sim.faults import (
    DEFAULT_LEAK_BYTES_PER_SECOND,
    BadReleaseSpec,
    ConfigCorruptionSpec,
    FaultSpec,
    FlappingSpec,
    LlmSlowdownSpec,
    LoadSurgeSpec,
    MemoryLeakSpec,
    parse_fault_spec,
)
from chatapp_sim.model import ChatAppModel, ConfigRef, PodSample

from .simhelpers import MIB, T0, by_pod, counter_delta, pod, quantile, ratio, run, window_p95

TWO_PODS = [pod("chatapp-abc-1"), pod("chatapp-abc-2")]
CM_REF = ConfigRef("default", "chatapp-config", "config.yaml")


def warmed(pods: list[m.PodInfo] = TWO_PODS, seconds: float = 60) -> tuple[ChatAppModel, float]:
    model = ChatAppModel(seed=1)
    return model, run(model, pods, T0, T0 + seconds)


def window(
    model: ChatAppModel, pods: list[m.PodInfo], start: float, seconds: float
) -> tuple[dict[str, PodSample], dict[str, PodSample], float]:
    """Samples at start and after `seconds` more of simulated time (like rate(x[window]))."""
    before = by_pod(model)
    end = run(model, pods, start + 1, start + seconds)
    return before, by_pod(model), end


# ---- healthy baseline --------------------------------------------------------------------------------
def test_healthy_baseline_is_within_documented_ranges() -> None:
    model, t = warmed()
    before, after, _ = window(model, TWO_PODS, t, 120)
    for name, s in after.items():
        b = before[name]
        assert 0 < ratio(b, s, m.REQUEST_ERRORS, m.REQUESTS) < 0.005
        assert 45 <= counter_delta(b, s, m.EVENTBUS_MESSAGES) / 120 <= 55  # 100 msg/s over 2 pods
        assert 0.1 <= window_p95(b, s, m.MESSAGE_LATENCY) <= 0.3
        assert 1.0 <= window_p95(b, s, m.LLM_LATENCY) <= 2.0
        assert 0.01 <= window_p95(b, s, m.RENDER_LATENCY) <= 0.03
        assert ratio(b, s, m.LLM_ERRORS, m.LLM_REQUESTS) < 0.01
        assert 150 * MIB <= s.gauges[m.MEMORY] <= 200 * MIB
        assert s.gauges[m.MEMORY_LIMIT] == 512 * MIB
        assert 0 <= s.gauges[m.EVENTBUS_QUEUE_DEPTH] <= 50
        assert s.gauges[m.SESSIONS_ACTIVE] > 0
        assert s.gauges[m.BUILD_INFO] == 1 and s.image == "chatapp:1.0"
        assert s.gauges[m.PROCESS_START_TIME] == T0 - 100
        for counter in (m.PLUGIN_FAILURES, m.CONFIG_RELOAD_FAILURES, m.SESSION_DROPS, m.LOG_WRITE_ERRORS):
            assert s.counters[counter] == 0


def test_healthy_memory_is_stable_over_time() -> None:
    model, t = warmed()
    values = []
    for _ in range(20):
        t = run(model, TWO_PODS, t + 1, t + 60)
        values.append(by_pod(model)["chatapp-abc-1"].gauges[m.MEMORY])
    assert max(values) - min(values) <= 20 * MIB
    assert all(150 * MIB <= v <= 200 * MIB for v in values)


def test_new_pod_starts_from_zero_and_start_time_falls_back_to_first_seen() -> None:
    model = ChatAppModel()
    fresh = m.PodInfo(uid="u", namespace="ns", name="p", deployment="chatapp", image="chatapp:1.0")
    model.advance(T0, [fresh])
    s = by_pod(model)["p"]
    assert all(v == 0 for v in s.counters.values())
    assert s.histograms[m.MESSAGE_LATENCY].count == 0
    assert s.gauges[m.PROCESS_START_TIME] == T0


# ---- memory_leak -------------------------------------------------------------------------------------
def test_memory_leak_reaches_limit_in_about_five_minutes_and_is_capped() -> None:
    model, t = warmed()
    model.add_fault(MemoryLeakSpec(), t, TWO_PODS)
    t = run(model, TWO_PODS, t + 1, t + 120)
    mid = by_pod(model)["chatapp-abc-1"].gauges[m.MEMORY]
    assert 250 * MIB < mid < 450 * MIB
    t = run(model, TWO_PODS, t + 1, t + 200)
    for s in model.samples():
        assert s.gauges[m.MEMORY] >= 0.95 * s.gauges[m.MEMORY_LIMIT]
        assert s.gauges[m.MEMORY] <= s.gauges[m.MEMORY_LIMIT]


def test_memory_leak_default_rate_matches_five_minutes() -> None:
    assert pytest.approx((512 - 180) * MIB) == DEFAULT_LEAK_BYTES_PER_SECOND * 300


def test_restart_clears_memory_leak_for_new_pods() -> None:
    model, t = warmed()
    fault = model.add_fault(MemoryLeakSpec(bytes_per_second=2 * MIB), t, TWO_PODS)
    t = run(model, TWO_PODS, t + 1, t + 60)
    assert model.is_active(fault)
    restarted = [pod("chatapp-def-1"), pod("chatapp-def-2")]
    t = run(model, restarted, t + 1, t + 120)
    samples = by_pod(model)
    assert set(samples) == {"chatapp-def-1", "chatapp-def-2"}  # old pods' series are gone
    assert all(150 * MIB <= s.gauges[m.MEMORY] <= 200 * MIB for s in samples.values())
    assert not model.is_active(fault)
    assert model.describe(fault)["active"] is False


def test_memory_leak_respects_pod_limit_and_scope() -> None:
    big = pod("chatapp-abc-1", limit=1024 * MIB)
    other = pod("search-xyz-1", deployment="search")
    model, t = warmed([big, other])
    model.add_fault(MemoryLeakSpec(bytes_per_second=5 * MIB), t, [big, other])
    run(model, [big, other], t + 1, t + 400)
    samples = by_pod(model)
    assert samples["chatapp-abc-1"].gauges[m.MEMORY] == 1024 * MIB
    assert samples["chatapp-abc-1"].gauges[m.MEMORY_LIMIT] == 1024 * MIB
    assert samples["search-xyz-1"].gauges[m.MEMORY] < 200 * MIB


def test_memory_leak_in_other_namespace_does_not_apply() -> None:
    model, t = warmed()
    model.add_fault(MemoryLeakSpec(namespace="prod"), t, TWO_PODS)
    run(model, TWO_PODS, t + 1, t + 300)
    assert all(s.gauges[m.MEMORY] < 200 * MIB for s in model.samples())


# ---- bad_release -------------------------------------------------------------------------------------
def test_bad_release_hits_only_pods_running_the_bad_image() -> None:
    mixed = [pod("chatapp-new-1", image="chatapp:1.1"), pod("chatapp-old-1", image="chatapp:1.0")]
    model, t = warmed(mixed)
    model.add_fault(BadReleaseSpec(), t, mixed)
    before, after, _ = window(model, mixed, t, 120)
    bad, good = ("chatapp-new-1", "chatapp-old-1")
    assert 0.25 <= ratio(before[bad], after[bad], m.REQUEST_ERRORS, m.REQUESTS) <= 0.35
    assert counter_delta(before[bad], after[bad], m.PLUGIN_FAILURES) > 10
    assert window_p95(before[bad], after[bad], m.MESSAGE_LATENCY) > 0.4
    assert ratio(before[good], after[good], m.REQUEST_ERRORS, m.REQUESTS) < 0.01
    assert counter_delta(before[good], after[good], m.PLUGIN_FAILURES) == 0


def test_rollback_to_another_image_clears_bad_release() -> None:
    bad_pods = [pod("chatapp-new-1", image="chatapp:1.1"), pod("chatapp-new-2", image="chatapp:1.1")]
    model, t = warmed(bad_pods)
    fault = model.add_fault(BadReleaseSpec(image="chatapp:1.1"), t, bad_pods)
    t = run(model, bad_pods, t + 1, t + 30)
    assert model.is_active(fault)
    rolled_back = [pod("chatapp-old-1", image="chatapp:1.0"), pod("chatapp-old-2", image="chatapp:1.0")]
    t = run(model, rolled_back, t + 1, t + 5)
    before, after, _ = window(model, rolled_back, t, 120)
    for name in after:
        assert ratio(before[name], after[name], m.REQUEST_ERRORS, m.REQUESTS) < 0.01
        assert counter_delta(before[name], after[name], m.PLUGIN_FAILURES) == 0
    assert not model.is_active(fault)


def test_restart_does_not_fix_bad_release() -> None:
    bad_pods = [pod("chatapp-new-1", image="chatapp:1.1")]
    model, t = warmed(bad_pods)
    model.add_fault(BadReleaseSpec(), t, bad_pods)
    restarted = [pod("chatapp-new2-1", image="chatapp:1.1")]
    t = run(model, restarted, t + 1, t + 5)
    before, after, _ = window(model, restarted, t, 60)
    s = "chatapp-new2-1"
    assert ratio(before[s], after[s], m.REQUEST_ERRORS, m.REQUESTS) > 0.2


def test_removing_a_fault_removes_its_effect() -> None:
    model, t = warmed()
    fault = model.add_fault(BadReleaseSpec(image="chatapp:1.0"), t, TWO_PODS)
    t = run(model, TWO_PODS, t + 1, t + 30)
    assert model.remove_fault(fault.id) is fault
    before, after, _ = window(model, TWO_PODS, t, 60)
    assert all(ratio(before[p], after[p], m.REQUEST_ERRORS, m.REQUESTS) < 0.01 for p in after)
    assert model.remove_fault(fault.id) is None


# ---- load_surge --------------------------------------------------------------------------------------
def test_load_surge_overloads_pods_and_scale_up_drains_the_queue() -> None:
    model, t = warmed()
    model.add_fault(LoadSurgeSpec(total_load=300), t, TWO_PODS)
    before, after, t = window(model, TWO_PODS, t, 60)
    for name, s in after.items():
        assert s.gauges[m.EVENTBUS_QUEUE_DEPTH] >= 2000  # ~50 msg/s overload for a minute
        assert window_p95(before[name], s, m.MESSAGE_LATENCY) > 3.0
        assert counter_delta(before[name], s, m.SESSION_DROPS) > 0
        assert counter_delta(before[name], s, m.EVENTBUS_MESSAGES) / 60 == pytest.approx(100, rel=0.06)

    scaled = [*TWO_PODS, pod("chatapp-abc-3"), pod("chatapp-abc-4")]
    t = run(model, scaled, t + 1, t + 30)
    before, after, _ = window(model, scaled, t, 30)
    for name, s in after.items():
        assert s.gauges[m.EVENTBUS_QUEUE_DEPTH] <= 50
        assert window_p95(before[name], s, m.MESSAGE_LATENCY) < 0.3
        assert counter_delta(before[name], s, m.SESSION_DROPS) == 0
        assert counter_delta(before[name], s, m.EVENTBUS_MESSAGES) / 30 == pytest.approx(75, rel=0.06)


def test_queue_grows_at_the_overload_rate_and_saturates() -> None:
    one = [pod("chatapp-abc-1")]
    model, t = warmed(one)
    model.add_fault(LoadSurgeSpec(total_load=150), t, one)
    run(model, one, t + 1, t + 20)
    depth = by_pod(model)["chatapp-abc-1"].gauges[m.EVENTBUS_QUEUE_DEPTH]
    assert 1000 <= depth <= 1100  # 50 msg/s * 20 s plus the healthy baseline
    run(model, one, t + 21, t + 400)
    assert by_pod(model)["chatapp-abc-1"].gauges[m.EVENTBUS_QUEUE_DEPTH] <= m.MAX_BACKLOG + 50


def test_restart_alone_does_not_fix_a_surge() -> None:
    model, t = warmed()
    model.add_fault(LoadSurgeSpec(), t, TWO_PODS)
    restarted = [pod("chatapp-def-1"), pod("chatapp-def-2")]
    run(model, restarted, t + 1, t + 30)
    assert all(s.gauges[m.EVENTBUS_QUEUE_DEPTH] > 1000 for s in model.samples())


# ---- config_corruption -------------------------------------------------------------------------------
def test_config_corruption_active_only_while_value_is_bad() -> None:
    model, t = warmed()
    spec = ConfigCorruptionSpec(config_map="chatapp-config", key="config.yaml", bad_value="broken")
    fault = model.add_fault(spec, t, TWO_PODS, previous_value="good: 1")
    assert model.config_refs() == [CM_REF]
    before, after, t = window(model, TWO_PODS, t, 60)
    for name, s in after.items():
        b = before[name]
        assert counter_delta(b, s, m.CONFIG_RELOAD_FAILURES) >= 10
        assert 0.08 <= ratio(b, s, m.REQUEST_ERRORS, m.REQUESTS) <= 0.12
        assert counter_delta(b, s, m.PLUGIN_FAILURES) > 0
    view = model.describe(fault)
    assert view["active"] is True and view["previousValue"] == "good: 1"

    model.advance(t + 1, TWO_PODS, {CM_REF: "good: 2"})  # someone patched it back (any other value)
    before, after, _ = window(model, TWO_PODS, t + 1, 60)
    for name, s in after.items():
        assert counter_delta(before[name], s, m.CONFIG_RELOAD_FAILURES) == 0
        assert ratio(before[name], s, m.REQUEST_ERRORS, m.REQUESTS) < 0.01
    assert model.describe(fault)["active"] is False
    assert [f.id for f in model.faults()] == [fault.id]  # still listed, just inactive


def test_config_corruption_survives_restart_while_value_is_bad() -> None:
    model, t = warmed()
    model.add_fault(ConfigCorruptionSpec(bad_value="x"), t, TWO_PODS)
    restarted = [pod("chatapp-def-1")]
    t = run(model, restarted, t + 1, t + 5)
    before, after, _ = window(model, restarted, t, 60)
    assert counter_delta(before["chatapp-def-1"], after["chatapp-def-1"], m.CONFIG_RELOAD_FAILURES) > 0


def test_config_corruption_only_targets_its_namespace() -> None:
    elsewhere = [pod("chatapp-abc-1", namespace="prod")]
    model, t = warmed(elsewhere)
    model.add_fault(ConfigCorruptionSpec(bad_value="x"), t, elsewhere)  # namespace defaults to "default"
    run(model, elsewhere, t + 1, t + 60)
    assert by_pod(model)["chatapp-abc-1"].counters[m.CONFIG_RELOAD_FAILURES] == 0


# ---- llm_slowdown ------------------------------------------------------------------------------------
def test_llm_slowdown_is_not_fixed_by_restart_or_scale() -> None:
    model, t = warmed()
    model.add_fault(LlmSlowdownSpec(), t, TWO_PODS)
    scenarios = [
        TWO_PODS,
        [pod("chatapp-def-1"), pod("chatapp-def-2")],
        [pod(f"chatapp-def-{i}") for i in range(5)],
    ]
    for pods in scenarios:
        t = run(model, pods, t + 1, t + 5)
        before, after, t = window(model, pods, t, 120)
        for name, s in after.items():
            b = before[name]
            assert 15 <= window_p95(b, s, m.LLM_LATENCY) <= 25
            assert 0.35 <= ratio(b, s, m.LLM_ERRORS, m.LLM_REQUESTS) <= 0.45
            assert 0.3 < window_p95(b, s, m.MESSAGE_LATENCY) < 1.0  # up a bit, not a surge
            assert ratio(b, s, m.REQUEST_ERRORS, m.REQUESTS) < 0.01


# ---- flapping ----------------------------------------------------------------------------------------
def test_flapping_alternates_every_half_period() -> None:
    model, t = warmed()
    model.add_fault(FlappingSpec(period_seconds=30), t, TWO_PODS)
    ratios = []
    for _ in range(6):  # three periods, one sample per half
        before, after, t = window(model, TWO_PODS, t, 15)
        s, b = after["chatapp-abc-1"], before["chatapp-abc-1"]
        ratios.append(ratio(b, s, m.REQUEST_ERRORS, m.REQUESTS))
    bad, good = ratios[0::2], ratios[1::2]
    assert all(0.10 <= r <= 0.20 for r in bad), ratios
    assert all(r < 0.02 for r in good), ratios


# ---- invariants --------------------------------------------------------------------------------------
def test_counters_monotonic_and_histograms_cumulative_through_a_chaotic_scenario() -> None:
    model = ChatAppModel(seed=7)
    pods = list(TWO_PODS)
    previous: dict[str, PodSample] = {}
    faults: list[FaultSpec] = [
        MemoryLeakSpec(),
        BadReleaseSpec(image="chatapp:1.0"),
        LoadSurgeSpec(total_load=500),
        LlmSlowdownSpec(),
        FlappingSpec(period_seconds=10),
        ConfigCorruptionSpec(bad_value="x"),
    ]
    t = T0
    for step in range(400):
        t += 0.37 + (step % 5) * 0.3  # irregular scrape/poll spacing
        if step % 50 == 10:
            model.add_fault(faults[(step // 50) % len(faults)], t, pods)
        if step == 200:
            pods = [*pods, pod("chatapp-abc-3")]
        if step == 300:
            model.clear_faults()
        model.advance(t, pods)
        for s in model.samples():
            _assert_histograms_consistent(s)
            if s.pod in previous:
                for name, value in s.counters.items():
                    assert value >= previous[s.pod].counters[name], (name, step)
                for name, h in s.histograms.items():
                    old = previous[s.pod].histograms[name]
                    assert h.sum >= old.sum
                    assert all(a >= b for (_, a), (_, b) in zip(h.buckets, old.buckets, strict=True))
            previous[s.pod] = s


def _assert_histograms_consistent(s: PodSample) -> None:
    for h in s.histograms.values():
        counts = [c for _, c in h.buckets]
        assert counts == sorted(counts)
        assert math.isinf(h.buckets[-1][0]) and h.buckets[-1][1] == h.count
        assert all(float(c).is_integer() for c in counts)


def test_clock_going_backwards_never_decreases_counters() -> None:
    model, t = warmed()
    before = by_pod(model)
    model.advance(t - 30, TWO_PODS)
    after = by_pod(model)
    assert all(after[p].counters == before[p].counters for p in after)


def test_same_seed_is_deterministic_and_seed_matters() -> None:
    def final(seed: int) -> dict[str, float]:
        model = ChatAppModel(seed=seed)
        run(model, TWO_PODS, T0, T0 + 100)
        return by_pod(model)["chatapp-abc-1"].counters

    assert final(3) == final(3)
    assert final(3) != final(4)


def test_quantile_helper_matches_promql_interpolation() -> None:
    assert quantile(0.5, [(1.0, 0.0), (2.0, 10.0), (math.inf, 10.0)]) == pytest.approx(1.5)
    assert quantile(0.99, [(1.0, 0.0), (2.0, 1.0), (math.inf, 10.0)]) == 2.0


# ---- fault specs -------------------------------------------------------------------------------------
def test_fault_spec_defaults_and_aliases() -> None:
    spec = parse_fault_spec({"type": "load_surge", "deployment": "chat", "totalLoad": 900})
    assert isinstance(spec, LoadSurgeSpec) and spec.total_load == 900 and spec.deployment == "chat"
    leak = parse_fault_spec({"type": "memory_leak"})
    assert isinstance(leak, MemoryLeakSpec) and leak.deployment == "chatapp"
    cfg = parse_fault_spec({"type": "config_corruption", "namespace": "ns", "configMap": "c", "key": "k"})
    assert isinstance(cfg, ConfigCorruptionSpec) and cfg.config_namespace == "ns" and cfg.bad_value


@pytest.mark.parametrize(
    "body",
    [
        {"type": "nope"},
        {"type": "memory_leak", "bytesPerSecond": -1},
        {"type": "flapping", "periodSeconds": 0},
        {"type": "bad_release", "imag": "typo"},
        {"deployment": "chatapp"},
        ["not", "an", "object"],
    ],
)
def test_fault_spec_rejects_bad_bodies(body: object) -> None:
    with pytest.raises(ValidationError):
        parse_fault_spec(body)
