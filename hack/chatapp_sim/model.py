"""Pure Chat App metric model: how per-pod metrics at time t follow from the running pods and faults.

No I/O and no wall clock: callers pass ``now`` (epoch seconds), the current pod list and the ConfigMap
values the config faults care about. State (counters, histograms, backlog) lives per pod uid, so a new
pod (restart, rollback, scale-up) starts from zero exactly like a fresh container would.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from chatapp_sim.faults import (
    DEFAULT_MEMORY_LIMIT_BYTES,
    HEALTHY_MEMORY_BYTES,
    MIB,
    BadReleaseSpec,
    ConfigCorruptionSpec,
    FaultSpec,
    FlappingSpec,
    LlmSlowdownSpec,
    LoadSurgeSpec,
    MemoryLeakSpec,
    spec_to_json,
)

# ---- capacity / load --------------------------------------------------------------------------------
POD_CAPACITY = 100.0  # msg/s one pod can process
HEALTHY_TOTAL_LOAD = 100.0  # msg/s offered to a Deployment when no load_surge is active
MAX_BACKLOG = 5000.0  # messages; the app sheds beyond this, so the gauge saturates instead of exploding
BACKLOG_DRAIN_TAU = 5.0  # s; spare capacity plus shedding clears a backlog within ~half a minute
HEALTHY_QUEUE_AT_FULL_UTILISATION = 50.0
SESSIONS_PER_MSG_PER_S = 10.0  # each active session sends one message every 10 s
LLM_SHARE = 0.1  # fraction of messages that call the external LLM API
RENDERS_PER_MESSAGE = 1.0

# ---- healthy levels ---------------------------------------------------------------------------------
HEALTHY_ERROR_RATIO = 0.002
HEALTHY_LLM_ERROR_RATIO = 0.003
MEMORY_WOBBLE_BYTES = 8 * MIB
RATE_NOISE = 0.05  # +-5% smooth deterministic wobble on rates

# Log-normal latency shapes: p95 = median * exp(1.645 * sigma).
MESSAGE_LATENCY_MEDIAN = 0.08  # p95 ~0.21 s
MESSAGE_LATENCY_SIGMA = 0.6
LLM_LATENCY_MEDIAN = 0.6  # p95 ~1.4 s (histogram_quantile with these buckets: ~1.7 s)
LLM_LATENCY_SIGMA = 0.5
RENDER_LATENCY_MEDIAN = 0.008  # p95 ~0.02 s
RENDER_LATENCY_SIGMA = 0.55

# ---- fault effects ----------------------------------------------------------------------------------
BAD_RELEASE_ERROR_RATIO = 0.30
BAD_RELEASE_PLUGIN_FAILURES_PER_S = 0.5
BAD_RELEASE_LATENCY_FACTOR = 3.0
CONFIG_ERROR_RATIO = 0.10
CONFIG_PLUGIN_FAILURES_PER_S = 0.3
CONFIG_RELOAD_FAILURES_PER_S = 0.2  # the app retries its reload every 5 s
FLAP_ERROR_RATIO = 0.15
LLM_SLOW_LATENCY_MEDIAN = 9.0  # p95 ~20 s
LLM_SLOW_ERROR_RATIO = 0.40
LLM_SLOW_USER_LATENCY_ADD = 0.15  # s added to the message latency median: "up a bit"
SESSION_DROP_FRACTION_PER_S = 0.01  # of active sessions, at full backlog pressure
SESSION_DROP_BACKLOG_SCALE = 500.0

# ---- metric names (fixed: the operator's policy queries exactly these) -------------------------------
BUILD_INFO = "chatapp_build_info"
EVENTBUS_MESSAGES = "chatapp_eventbus_messages_total"
EVENTBUS_QUEUE_DEPTH = "chatapp_eventbus_queue_depth"
REQUESTS = "chatapp_requests_total"
REQUEST_ERRORS = "chatapp_request_errors_total"
MESSAGE_LATENCY = "chatapp_message_latency_seconds"
MEMORY = "chatapp_memory_bytes"
MEMORY_LIMIT = "chatapp_memory_limit_bytes"
PLUGIN_FAILURES = "chatapp_plugin_failures_total"
LLM_REQUESTS = "chatapp_llm_api_requests_total"
LLM_ERRORS = "chatapp_llm_api_errors_total"
LLM_LATENCY = "chatapp_llm_api_latency_seconds"
CONFIG_RELOAD_FAILURES = "chatapp_config_reload_failures_total"
RENDER_LATENCY = "chatapp_terminal_render_latency_seconds"
SESSIONS_ACTIVE = "chatapp_sessions_active"
SESSION_DROPS = "chatapp_session_drops_total"
LOG_WRITE_ERRORS = "chatapp_log_write_errors_total"
PROCESS_START_TIME = "chatapp_process_start_time_seconds"

COUNTERS: dict[str, str] = {
    EVENTBUS_MESSAGES: "Messages processed by the event bus.",
    REQUESTS: "Chat requests handled.",
    REQUEST_ERRORS: "Chat requests that failed.",
    PLUGIN_FAILURES: "Plugin invocations that raised.",
    LLM_REQUESTS: "Calls to the external LLM API.",
    LLM_ERRORS: "Failed calls to the external LLM API.",
    CONFIG_RELOAD_FAILURES: "Config reload attempts that failed to parse or apply.",
    SESSION_DROPS: "Chat sessions dropped by the server.",
    LOG_WRITE_ERRORS: "Failed log writes.",
}
GAUGES: dict[str, str] = {
    BUILD_INFO: "Build information; value is always 1.",
    EVENTBUS_QUEUE_DEPTH: "Messages waiting in the event bus queue.",
    MEMORY: "Resident memory of the chat process.",
    MEMORY_LIMIT: "Memory limit of the chat container.",
    SESSIONS_ACTIVE: "Currently open chat sessions.",
    PROCESS_START_TIME: "Start time of the process since the Unix epoch.",
}
LATENCY_BUCKETS: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LLM_BUCKETS: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)
RENDER_BUCKETS: tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
HISTOGRAMS: dict[str, tuple[str, tuple[float, ...]]] = {
    MESSAGE_LATENCY: ("End-to-end message delivery latency.", LATENCY_BUCKETS),
    LLM_LATENCY: ("Latency of calls to the external LLM API.", LLM_BUCKETS),
    RENDER_LATENCY: ("Terminal UI render latency.", RENDER_BUCKETS),
}


@dataclass(frozen=True)
class PodInfo:
    """What the simulator knows about one Running Chat App pod."""

    uid: str
    namespace: str
    name: str
    deployment: str
    image: str
    memory_limit_bytes: float = DEFAULT_MEMORY_LIMIT_BYTES
    start_time: float | None = None


@dataclass(frozen=True)
class ConfigRef:
    namespace: str
    name: str
    key: str


@dataclass
class Fault:
    id: str
    spec: FaultSpec
    injected_at: float
    # memory_leak only: pods that existed at injection. Pods created later (restart) are not leaking.
    affected_pod_uids: frozenset[str] = frozenset()
    # config_corruption only: value of the key before the simulator corrupted it (None = key absent).
    previous_value: str | None = None


@dataclass
class Histogram:
    """Cumulative histogram fed with fractional observation counts from a log-normal shape."""

    bounds: tuple[float, ...]
    cumulative: list[float]
    count: float = 0.0
    total: float = 0.0

    @classmethod
    def empty(cls, bounds: tuple[float, ...]) -> Histogram:
        return cls(bounds=bounds, cumulative=[0.0] * len(bounds))

    def observe(self, n: float, median: float, sigma: float) -> None:
        if n <= 0:
            return
        for i, bound in enumerate(self.bounds):
            self.cumulative[i] += n * lognormal_cdf(bound, median, sigma)
        self.count += n
        self.total += n * median * math.exp(sigma * sigma / 2)  # log-normal mean


@dataclass(frozen=True)
class HistogramSample:
    buckets: tuple[tuple[float, float], ...]  # (le, cumulative count), last le is +Inf
    sum: float
    count: float


@dataclass(frozen=True)
class PodSample:
    namespace: str
    pod: str
    deployment: str
    image: str
    counters: dict[str, float]
    gauges: dict[str, float]
    histograms: dict[str, HistogramSample]

    @property
    def labels(self) -> dict[str, str]:
        return {"namespace": self.namespace, "pod": self.pod, "deployment": self.deployment}


@dataclass(frozen=True)
class Conditions:
    """Instantaneous behaviour of one pod, derived from load and active faults."""

    load: float
    error_ratio: float
    plugin_failures_per_s: float
    config_reload_failures_per_s: float
    latency_median: float
    llm_error_ratio: float
    llm_latency_median: float


@dataclass
class PodState:
    info: PodInfo
    first_seen: float
    last_update: float
    counters: dict[str, float] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0.0))
    histograms: dict[str, Histogram] = field(
        default_factory=lambda: {name: Histogram.empty(bounds) for name, (_, bounds) in HISTOGRAMS.items()}
    )
    backlog: float = 0.0
    load: float = 0.0


def lognormal_cdf(x: float, median: float, sigma: float) -> float:
    if x <= 0:
        return 0.0
    return 0.5 * (1.0 + math.erf(math.log(x / median) / (sigma * math.sqrt(2.0))))


def combine_ratios(ratios: Iterable[float]) -> float:
    """Probability a request fails when independent causes each fail it with the given ratio."""
    ok = 1.0
    for ratio in ratios:
        ok *= 1.0 - ratio
    return 1.0 - ok


def targets(spec: FaultSpec, pod: PodInfo) -> bool:
    return pod.deployment == spec.deployment and spec.namespace in (None, pod.namespace)


def config_ref(spec: ConfigCorruptionSpec) -> ConfigRef:
    return ConfigRef(spec.config_namespace, spec.config_map, spec.key)


class ChatAppModel:
    def __init__(self, seed: int = 1) -> None:
        self.seed = seed
        self._pods: dict[str, PodState] = {}
        self._faults: dict[str, Fault] = {}
        self._config_values: dict[ConfigRef, str | None] = {}
        self._next_fault = 1
        self._now = 0.0

    # ---- faults -------------------------------------------------------------------------------------
    def add_fault(
        self, spec: FaultSpec, now: float, pods: Sequence[PodInfo], previous_value: str | None = None
    ) -> Fault:
        fault_id = f"{spec.type}-{self._next_fault}"
        self._next_fault += 1
        leaking = isinstance(spec, MemoryLeakSpec)
        affected = frozenset(p.uid for p in pods if leaking and targets(spec, p))
        fault = Fault(fault_id, spec, now, affected, previous_value)
        if isinstance(spec, ConfigCorruptionSpec):
            # The caller has just written the bad value; don't wait for the next ConfigMap read.
            self._config_values[config_ref(spec)] = spec.bad_value
        self._faults[fault_id] = fault
        return fault

    def remove_fault(self, fault_id: str) -> Fault | None:
        return self._faults.pop(fault_id, None)

    def clear_faults(self) -> list[Fault]:
        removed = list(self._faults.values())
        self._faults.clear()
        return removed

    def faults(self) -> list[Fault]:
        return list(self._faults.values())

    def config_refs(self) -> list[ConfigRef]:
        """ConfigMap keys the I/O layer must keep reading for us."""
        return sorted(
            {config_ref(f.spec) for f in self._faults.values() if isinstance(f.spec, ConfigCorruptionSpec)},
            key=lambda r: (r.namespace, r.name, r.key),
        )

    def is_active(self, fault: Fault) -> bool:
        """Whether the fault currently affects anything (shown as "active" by GET /faults)."""
        spec = fault.spec
        if isinstance(spec, ConfigCorruptionSpec):
            return self._config_values.get(config_ref(spec)) == spec.bad_value
        if isinstance(spec, MemoryLeakSpec):
            return any(uid in self._pods for uid in fault.affected_pod_uids)
        if isinstance(spec, BadReleaseSpec):
            return any(targets(spec, s.info) and s.info.image == spec.image for s in self._pods.values())
        return True

    def describe(self, fault: Fault) -> dict[str, object]:
        view: dict[str, object] = {
            "id": fault.id,
            "type": fault.spec.type,
            "active": self.is_active(fault),
            "injectedAt": fault.injected_at,
            "spec": spec_to_json(fault.spec),
        }
        if isinstance(fault.spec, MemoryLeakSpec):
            view["affectedPods"] = sorted(
                s.info.name for uid, s in self._pods.items() if uid in fault.affected_pod_uids
            )
        if isinstance(fault.spec, ConfigCorruptionSpec):
            view["previousValue"] = fault.previous_value
            view["currentValue"] = self._config_values.get(config_ref(fault.spec))
        return view

    # ---- time ---------------------------------------------------------------------------------------
    def advance(
        self, now: float, pods: Sequence[PodInfo], config_values: Mapping[ConfigRef, str | None] | None = None
    ) -> None:
        """Integrate every pod's counters from its last update to ``now`` and adopt the new pod list."""
        if config_values:
            self._config_values.update(config_values)
        live = {p.uid for p in pods}
        for uid in [uid for uid in self._pods if uid not in live]:
            del self._pods[uid]  # a deleted pod's series vanish, like a scrape target going away
        replicas = Counter((p.namespace, p.deployment) for p in pods)
        for pod in pods:
            state = self._pods.get(pod.uid)
            if state is None:
                self._pods[pod.uid] = PodState(info=pod, first_seen=now, last_update=now, load=0.0)
                state = self._pods[pod.uid]
            state.info = pod
            dt = now - state.last_update
            cond = self.conditions(pod, now, replicas[(pod.namespace, pod.deployment)], state.backlog)
            state.load = cond.load
            if dt > 0:  # clock going backwards must never make a counter decrease
                self._integrate(state, cond, now, dt)
                state.last_update = now
        self._now = max(self._now, now)

    def conditions(self, pod: PodInfo, now: float, replicas: int, backlog: float) -> Conditions:
        active = [f for f in self._faults.values() if targets(f.spec, pod) and self._affects(f, pod, now)]
        specs = [f.spec for f in active]
        surge = [s.total_load for s in specs if isinstance(s, LoadSurgeSpec)]
        total_load = max(surge) if surge else HEALTHY_TOTAL_LOAD
        bad_release = any(isinstance(s, BadReleaseSpec) for s in specs)
        config_bad = any(isinstance(s, ConfigCorruptionSpec) for s in specs)
        flapping_bad = any(isinstance(s, FlappingSpec) for s in specs)
        llm_slow = any(isinstance(s, LlmSlowdownSpec) for s in specs)
        errors = [HEALTHY_ERROR_RATIO * (1 + 0.25 * self._wobble(pod.uid + "/err", now, 71.0))]
        errors += [BAD_RELEASE_ERROR_RATIO] * bad_release + [CONFIG_ERROR_RATIO] * config_bad
        errors += [FLAP_ERROR_RATIO] * flapping_bad
        latency = MESSAGE_LATENCY_MEDIAN * (BAD_RELEASE_LATENCY_FACTOR if bad_release else 1.0)
        latency += LLM_SLOW_USER_LATENCY_ADD * llm_slow + backlog / POD_CAPACITY  # Little's law wait
        return Conditions(
            load=total_load / max(replicas, 1),
            error_ratio=combine_ratios(errors),
            plugin_failures_per_s=BAD_RELEASE_PLUGIN_FAILURES_PER_S * bad_release
            + CONFIG_PLUGIN_FAILURES_PER_S * config_bad,
            config_reload_failures_per_s=CONFIG_RELOAD_FAILURES_PER_S * config_bad,
            latency_median=latency,
            llm_error_ratio=LLM_SLOW_ERROR_RATIO if llm_slow else HEALTHY_LLM_ERROR_RATIO,
            llm_latency_median=LLM_SLOW_LATENCY_MEDIAN if llm_slow else LLM_LATENCY_MEDIAN,
        )

    def _affects(self, fault: Fault, pod: PodInfo, now: float) -> bool:
        """Per-pod gate on top of the Deployment match (memory_leak is handled in memory_bytes)."""
        spec = fault.spec
        if isinstance(spec, BadReleaseSpec):
            return pod.image == spec.image
        if isinstance(spec, ConfigCorruptionSpec):
            return self._config_values.get(config_ref(spec)) == spec.bad_value
        if isinstance(spec, FlappingSpec):
            return (now - fault.injected_at) % spec.period_seconds < spec.period_seconds / 2
        return not isinstance(spec, MemoryLeakSpec)

    def _integrate(self, state: PodState, cond: Conditions, now: float, dt: float) -> None:
        noise = 1.0 + RATE_NOISE * self._wobble(state.info.uid + "/rate", now, 47.0)
        offered = cond.load * dt * noise
        processed = min(cond.load, POD_CAPACITY) * dt * noise
        llm_calls = processed * LLM_SHARE
        c = state.counters
        c[REQUESTS] += offered
        c[REQUEST_ERRORS] += offered * cond.error_ratio
        c[EVENTBUS_MESSAGES] += processed
        c[PLUGIN_FAILURES] += cond.plugin_failures_per_s * dt
        c[CONFIG_RELOAD_FAILURES] += cond.config_reload_failures_per_s * dt
        c[LLM_REQUESTS] += llm_calls
        c[LLM_ERRORS] += llm_calls * cond.llm_error_ratio
        c[SESSION_DROPS] += self._session_drop_rate(state) * dt
        state.histograms[MESSAGE_LATENCY].observe(processed, cond.latency_median, MESSAGE_LATENCY_SIGMA)
        state.histograms[LLM_LATENCY].observe(llm_calls, cond.llm_latency_median, LLM_LATENCY_SIGMA)
        state.histograms[RENDER_LATENCY].observe(
            processed * RENDERS_PER_MESSAGE, RENDER_LATENCY_MEDIAN, RENDER_LATENCY_SIGMA
        )
        state.backlog = next_backlog(state.backlog, cond.load, dt)

    def _session_drop_rate(self, state: PodState) -> float:
        pressure = min(1.0, state.backlog / SESSION_DROP_BACKLOG_SCALE)
        return SESSION_DROP_FRACTION_PER_S * self._sessions(state) * pressure

    def _sessions(self, state: PodState) -> float:
        return SESSIONS_PER_MSG_PER_S * state.load

    def _wobble(self, key: str, now: float, period: float) -> float:
        """Smooth, seeded, stateless noise in [-1, 1]: reproducible for a given seed, pod and time."""
        phase = zlib.crc32(f"{self.seed}:{key}".encode()) / 2**32 * 2 * math.pi
        return math.sin(2 * math.pi * now / period + phase)

    # ---- observation --------------------------------------------------------------------------------
    def memory_bytes(self, state: PodState, now: float) -> float:
        wobble = self._wobble(state.info.uid + "/mem", now, 600.0)
        healthy = HEALTHY_MEMORY_BYTES + MEMORY_WOBBLE_BYTES * wobble
        leaked = 0.0
        for fault in self._faults.values():
            if isinstance(fault.spec, MemoryLeakSpec) and state.info.uid in fault.affected_pod_uids:
                leaked += fault.spec.bytes_per_second * max(0.0, now - fault.injected_at)
        return min(healthy + leaked, state.info.memory_limit_bytes)

    def samples(self) -> list[PodSample]:
        """Current value of every series, as of the last ``advance``."""
        return [self._sample(state) for state in sorted(self._pods.values(), key=_pod_sort_key)]

    def _sample(self, state: PodState) -> PodSample:
        now = state.last_update
        info = state.info
        utilisation = min(state.load / POD_CAPACITY, 1.0)
        queue_noise = 1.0 + 0.2 * self._wobble(info.uid + "/queue", now, 13.0)
        healthy_queue = HEALTHY_QUEUE_AT_FULL_UTILISATION * utilisation * queue_noise
        gauges = {
            BUILD_INFO: 1.0,
            EVENTBUS_QUEUE_DEPTH: round(healthy_queue + state.backlog),
            MEMORY: round(self.memory_bytes(state, now)),
            MEMORY_LIMIT: info.memory_limit_bytes,
            SESSIONS_ACTIVE: round(self._sessions(state)),
            PROCESS_START_TIME: info.start_time if info.start_time is not None else state.first_seen,
        }
        # Whole numbers for counters and buckets, like a real client; floor keeps them monotonic and
        # keeps buckets cumulative (floor preserves <=).
        counters = {name: float(math.floor(v)) for name, v in state.counters.items()}
        histograms = {name: _histogram_sample(h) for name, h in state.histograms.items()}
        return PodSample(info.namespace, info.name, info.deployment, info.image, counters, gauges, histograms)


def next_backlog(backlog: float, load: float, dt: float) -> float:
    """Backlog grows by the overload; otherwise spare capacity and timeouts drain it quickly."""
    if load > POD_CAPACITY:
        return min(MAX_BACKLOG, backlog + (load - POD_CAPACITY) * dt)
    drained = backlog * math.exp(-dt / BACKLOG_DRAIN_TAU) - (POD_CAPACITY - load) * dt
    return max(0.0, drained)


def _histogram_sample(h: Histogram) -> HistogramSample:
    count = float(math.floor(h.count))
    # min(): float rounding must never push a finite bucket above +Inf.
    pairs = zip(h.bounds, h.cumulative, strict=True)
    buckets = [(bound, min(float(math.floor(v)), count)) for bound, v in pairs]
    buckets.append((math.inf, count))
    return HistogramSample(tuple(buckets), h.total, count)


def _pod_sort_key(state: PodState) -> tuple[str, str]:
    return (state.info.namespace, state.info.name)
