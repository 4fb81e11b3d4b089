#!/usr/bin/env python3
"""Chat App simulator: produces per-pod Chat App metrics for pods that kwok runs without containers.

Usage (the cluster scripts start it exactly like this):

    python hack/chatapp_simulator.py --kubeconfig PATH --port PORT \
        --selector app.kubernetes.io/name=chatapp [--namespace NS] [--seed 1]

Serves on 127.0.0.1:PORT: ``/metrics`` (Prometheus text format), ``/healthz`` and the JSON fault API
(``GET/POST/DELETE /faults``, ``GET/DELETE /faults/<id>``). The metric model is pure and lives in
``chatapp_sim.model``; this file is the I/O shell around it: Kubernetes polling, ConfigMap access,
HTTP. See docs/simulator.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

# The pure model lives next to this file in chatapp_sim/; hack/ is deliberately not a package.
_HACK_DIR = str(Path(__file__).resolve().parent)
if _HACK_DIR not in sys.path:
    sys.path.insert(0, _HACK_DIR)

from prometheus_client import CollectorRegistry, generate_latest  # noqa: E402
from prometheus_client.exposition import CONTENT_TYPE_LATEST  # noqa: E402
from prometheus_client.metrics_core import (  # noqa: E402
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from chatapp_sim.faults import DEFAULT_MEMORY_LIMIT_BYTES, ConfigCorruptionSpec, parse_fault_spec  # noqa: E402
from chatapp_sim.model import (  # noqa: E402
    BUILD_INFO,
    COUNTERS,
    GAUGES,
    HISTOGRAMS,
    ChatAppModel,
    ConfigRef,
    Fault,
    PodInfo,
    PodSample,
    config_ref,
)

log = logging.getLogger("chatapp-simulator")
POD_LABELS = ["namespace", "pod", "deployment"]
ERROR_LOG_INTERVAL = 30.0  # s; a dead apiserver must not flood the log once per poll


# ---- seams ------------------------------------------------------------------------------------------
class PodSource(Protocol):
    def list_pods(self) -> list[PodInfo]:
        """Running, not-terminating Chat App pods. May raise; the caller keeps the last good list."""
        ...


class ConfigSource(Protocol):
    def read(self, ref: ConfigRef) -> str | None:
        """Value of the key (None if the key is absent). Raises LookupError if the ConfigMap is missing."""
        ...

    def write(self, ref: ConfigRef, value: str | None) -> None:
        """Set the key (None removes it)."""
        ...


class StaticPodSource:
    """Fixed pod list for tests and offline demos; ``pods`` may be reassigned to simulate rollouts."""

    def __init__(self, pods: Iterable[PodInfo] = ()) -> None:
        self.pods = list(pods)

    def list_pods(self) -> list[PodInfo]:
        return list(self.pods)


class MemoryConfigSource:
    """In-memory ConfigMaps: {(namespace, name): {key: value}}."""

    def __init__(self, config_maps: dict[tuple[str, str], dict[str, str]] | None = None) -> None:
        self.config_maps = config_maps if config_maps is not None else {}

    def read(self, ref: ConfigRef) -> str | None:
        data = self.config_maps.get((ref.namespace, ref.name))
        if data is None:
            raise LookupError(f"configmap {ref.namespace}/{ref.name} not found")
        return data.get(ref.key)

    def write(self, ref: ConfigRef, value: str | None) -> None:
        data = self.config_maps.setdefault((ref.namespace, ref.name), {})
        if value is None:
            data.pop(ref.key, None)
        else:
            data[ref.key] = value


# ---- Kubernetes -------------------------------------------------------------------------------------
REQUEST_TIMEOUT = (3.0, 5.0)  # (connect, read) seconds; a hung apiserver must not stall the poll loop


def deployment_name(pod: Any) -> str:
    """Owning ReplicaSet name minus "-<pod-template-hash>"; falls back to the owner or pod name."""
    meta = pod.metadata
    owners = [o for o in (meta.owner_references or []) if o.kind == "ReplicaSet"]
    if not owners:
        other = meta.owner_references or []
        return str(other[0].name) if other else str(meta.name)
    rs_name = str(owners[0].name)
    template_hash = (meta.labels or {}).get("pod-template-hash")
    if template_hash and rs_name.endswith("-" + template_hash):
        return rs_name[: -len(template_hash) - 1]
    return rs_name.rsplit("-", 1)[0]


def memory_limit(pod: Any) -> float:
    from kubernetes.utils.quantity import parse_quantity  # lazy: tests without kubernetes still import us

    containers = pod.spec.containers or []
    limits = (containers[0].resources.limits if containers and containers[0].resources else None) or {}
    raw = limits.get("memory")
    if not raw:
        return DEFAULT_MEMORY_LIMIT_BYTES
    try:
        return float(parse_quantity(raw))  # type: ignore[no-untyped-call]
    except ValueError:
        log.warning("pod %s: unparseable memory limit %r, using default", pod.metadata.name, raw)
        return DEFAULT_MEMORY_LIMIT_BYTES


def pod_info_from_k8s(pod: Any) -> PodInfo | None:
    """Map a V1Pod to PodInfo; None for pods that would not be serving (not Running, or terminating)."""
    if pod.metadata.deletion_timestamp is not None or (pod.status.phase if pod.status else None) != "Running":
        return None
    containers = pod.spec.containers or []
    start = pod.status.start_time or pod.metadata.creation_timestamp
    return PodInfo(
        uid=str(pod.metadata.uid),
        namespace=str(pod.metadata.namespace),
        name=str(pod.metadata.name),
        deployment=deployment_name(pod),
        image=str(containers[0].image) if containers else "",
        memory_limit_bytes=memory_limit(pod),
        start_time=start.timestamp() if start is not None else None,
    )


class KubePodSource:
    def __init__(self, core_v1: Any, selector: str, namespace: str | None) -> None:
        self.core_v1 = core_v1
        self.selector = selector
        self.namespace = namespace

    def list_pods(self) -> list[PodInfo]:
        kwargs = {"label_selector": self.selector, "_request_timeout": REQUEST_TIMEOUT}
        if self.namespace:
            pods = self.core_v1.list_namespaced_pod(self.namespace, **kwargs)
        else:
            pods = self.core_v1.list_pod_for_all_namespaces(**kwargs)
        infos = (pod_info_from_k8s(p) for p in pods.items)
        return [i for i in infos if i is not None]


class KubeConfigSource:
    def __init__(self, core_v1: Any) -> None:
        self.core_v1 = core_v1

    def read(self, ref: ConfigRef) -> str | None:
        from kubernetes.client.exceptions import ApiException

        try:
            cm = self.core_v1.read_namespaced_config_map(
                ref.name, ref.namespace, _request_timeout=REQUEST_TIMEOUT
            )
        except ApiException as exc:
            if exc.status == HTTPStatus.NOT_FOUND:
                raise LookupError(f"configmap {ref.namespace}/{ref.name} not found") from exc
            raise
        value = (cm.data or {}).get(ref.key)
        return None if value is None else str(value)

    def write(self, ref: ConfigRef, value: str | None) -> None:
        # Merge patch: touches only this key, and a null value deletes it.
        body = {"data": {ref.key: value}}
        self.core_v1.patch_namespaced_config_map(
            ref.name, ref.namespace, body, _request_timeout=REQUEST_TIMEOUT
        )


def kube_sources(
    kubeconfig: str, selector: str, namespace: str | None
) -> tuple[KubePodSource, KubeConfigSource]:
    from kubernetes import client, config

    configuration = client.Configuration()
    config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)  # type: ignore[no-untyped-call]
    # No urllib3 retries: the next poll is a second away anyway, and retries only spam the log.
    configuration.retries = 0
    core_v1 = client.CoreV1Api(client.ApiClient(configuration))
    return KubePodSource(core_v1, selector, namespace), KubeConfigSource(core_v1)


# ---- simulator core ---------------------------------------------------------------------------------
class FaultError(Exception):
    def __init__(self, status: HTTPStatus, message: str, details: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.details = details


class _ThrottledErrors:
    """Log a failing operation at most every ERROR_LOG_INTERVAL seconds, and log when it recovers."""

    def __init__(self, what: str, clock: Callable[[], float]) -> None:
        self.what = what
        self.clock = clock
        self.failing_since: float | None = None
        self.last_logged = float("-inf")

    def failed(self, exc: BaseException) -> None:
        now = self.clock()
        self.failing_since = self.failing_since if self.failing_since is not None else now
        if now - self.last_logged >= ERROR_LOG_INTERVAL:
            log.warning("%s failed (keeping last known state): %s", self.what, exc)
            self.last_logged = now

    def succeeded(self) -> None:
        if self.failing_since is not None:
            log.info("%s recovered after %.0fs", self.what, self.clock() - self.failing_since)
            self.failing_since = None
            self.last_logged = float("-inf")


class Simulator:
    """Thread-safe shell around the pure model: I/O happens outside the lock, model calls inside."""

    def __init__(
        self,
        pod_source: PodSource,
        config_source: ConfigSource,
        seed: int = 1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.model = ChatAppModel(seed=seed)
        self.pod_source = pod_source
        self.config_source = config_source
        self.clock = clock
        self.lock = threading.Lock()
        # Serialises whole polls (poller vs. POST /faults): an older pod list landing after a newer one
        # would drop a pod for a moment and reset its counters.
        self._refresh_lock = threading.Lock()
        self.pods: list[PodInfo] = []
        self.last_poll_ok: float | None = None
        self._pod_errors = _ThrottledErrors("listing pods", clock)
        self._config_errors = _ThrottledErrors("reading ConfigMaps", clock)

    def refresh(self) -> None:
        """One poll: list pods and watched ConfigMap keys, then advance the model."""
        with self._refresh_lock:
            pods = self._poll_pods()
            values = self._poll_configs()
            with self.lock:
                if pods is not None:
                    self.pods = pods
                self.model.advance(self.clock(), self.pods, values)

    def _poll_pods(self) -> list[PodInfo] | None:
        try:
            pods = self.pod_source.list_pods()
        except Exception as exc:  # any API/network failure: keep serving the last known pods
            self._pod_errors.failed(exc)
            return None
        self._pod_errors.succeeded()
        self.last_poll_ok = self.clock()
        return pods

    def _poll_configs(self) -> dict[ConfigRef, str | None]:
        with self.lock:
            refs = self.model.config_refs()
        values: dict[ConfigRef, str | None] = {}
        for ref in refs:
            try:
                values[ref] = self.config_source.read(ref)
            except LookupError:
                values[ref] = None  # ConfigMap deleted: certainly not holding the bad value any more
            except Exception as exc:
                self._config_errors.failed(exc)
                continue
            self._config_errors.succeeded()
        return values

    def on_scrape(self) -> bytes:
        """Cheap catch-up (no API calls) so counters reflect the scrape instant, then render."""
        with self.lock:
            self.model.advance(self.clock(), self.pods)
            samples = self.model.samples()
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_SamplesCollector(samples))
        return generate_latest(registry)

    # ---- faults -------------------------------------------------------------------------------------
    def inject(self, body: object) -> dict[str, object]:
        try:
            spec = parse_fault_spec(body)
        except ValidationError as exc:
            details = json.loads(exc.json(include_url=False))
            raise FaultError(HTTPStatus.BAD_REQUEST, "invalid fault", details) from exc
        self.refresh()  # a pod created a moment ago should count as "existing at injection"
        previous = self._corrupt_config(spec) if isinstance(spec, ConfigCorruptionSpec) else None
        with self.lock:
            now = self.clock()
            self.model.advance(now, self.pods)  # close the pre-fault interval with pre-fault behaviour
            fault = self.model.add_fault(spec, now, self.pods, previous_value=previous)
            view = self.model.describe(fault)
        log.info("injected fault %s: %s", fault.id, json.dumps(view["spec"]))
        return view

    def _corrupt_config(self, spec: ConfigCorruptionSpec) -> str | None:
        ref = config_ref(spec)
        try:
            previous = self.config_source.read(ref)
            self.config_source.write(ref, spec.bad_value)
        except LookupError as exc:
            raise FaultError(HTTPStatus.NOT_FOUND, str(exc)) from exc
        except Exception as exc:
            raise FaultError(HTTPStatus.BAD_GATEWAY, f"could not patch configmap: {exc}") from exc
        return previous

    def list_faults(self) -> list[dict[str, object]]:
        with self.lock:
            return [self.model.describe(f) for f in self.model.faults()]

    def get_fault(self, fault_id: str) -> dict[str, object] | None:
        with self.lock:
            fault = next((f for f in self.model.faults() if f.id == fault_id), None)
            return self.model.describe(fault) if fault else None

    def delete_fault(self, fault_id: str) -> dict[str, object] | None:
        with self.lock:
            fault = self.model.remove_fault(fault_id)
            view = self.model.describe(fault) if fault else None
        if fault is None or view is None:
            return None
        view.update(self._undo(fault))
        log.info("removed fault %s", fault_id)
        return view

    def clear_faults(self) -> list[dict[str, object]]:
        with self.lock:
            removed = self.model.clear_faults()
            views = [self.model.describe(f) for f in removed]
        for fault, view in zip(removed, views, strict=True):
            view.update(self._undo(fault))
        log.info("removed all faults (%d)", len(removed))
        return views

    def _undo(self, fault: Fault) -> dict[str, object]:
        """Removing a config fault puts the old value back, unless someone already changed the key."""
        spec = fault.spec
        if not isinstance(spec, ConfigCorruptionSpec):
            return {}
        ref = config_ref(spec)
        try:
            if self.config_source.read(ref) != spec.bad_value:
                return {"restored": False}
            self.config_source.write(ref, fault.previous_value)
        except Exception as exc:
            log.warning(
                "fault %s: could not restore configmap %s/%s: %s", fault.id, ref.namespace, ref.name, exc
            )
            return {"restored": False, "restoreError": str(exc)}
        return {"restored": True}

    def health(self) -> dict[str, object]:
        with self.lock:
            pods = len(self.pods)
        return {"status": "ok", "pods": pods, "lastPodPollOk": self.last_poll_ok}


class _SamplesCollector(Collector):
    def __init__(self, samples: Sequence[PodSample]) -> None:
        self.samples = samples

    def collect(self) -> Iterator[Metric]:
        yield from self._gauges()
        yield from self._counters()
        yield from self._histograms()

    def _gauges(self) -> Iterator[Metric]:
        for name, doc in GAUGES.items():
            extra = ["image"] if name == BUILD_INFO else []
            family = GaugeMetricFamily(name, doc, labels=POD_LABELS + extra)
            for s in self.samples:
                values = [s.namespace, s.pod, s.deployment] + ([s.image] if extra else [])
                family.add_metric(values, s.gauges[name])
            yield family

    def _counters(self) -> Iterator[Metric]:
        for name, doc in COUNTERS.items():
            family = CounterMetricFamily(name, doc, labels=POD_LABELS)
            for s in self.samples:
                family.add_metric([s.namespace, s.pod, s.deployment], s.counters[name])
            yield family

    def _histograms(self) -> Iterator[Metric]:
        for name, (doc, _) in HISTOGRAMS.items():
            family = HistogramMetricFamily(name, doc, labels=POD_LABELS)
            for s in self.samples:
                h = s.histograms[name]
                buckets = [(_le(le), value) for le, value in h.buckets]
                family.add_metric([s.namespace, s.pod, s.deployment], buckets, h.sum)
            yield family


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


# ---- HTTP -------------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    server: SimulatorHTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive: Prometheus scrapes every second

    def do_GET(self) -> None:
        sim = self.server.simulator
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/metrics":
            self._send(HTTPStatus.OK, sim.on_scrape(), CONTENT_TYPE_LATEST)
        elif path == "/healthz":
            self._json(HTTPStatus.OK, sim.health())
        elif path == "/faults":
            self._json(HTTPStatus.OK, {"faults": sim.list_faults()})
        elif (fault_id := _fault_id(path)) is not None:
            view = sim.get_fault(fault_id)
            self._json(HTTPStatus.OK, view) if view else self._error(HTTPStatus.NOT_FOUND, "no such fault")
        else:
            self._error(HTTPStatus.NOT_FOUND, "not found")

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0].rstrip("/") != "/faults":
            self._error(HTTPStatus.NOT_FOUND, "not found")
            return
        try:
            body = json.loads(self._body() or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            self._error(HTTPStatus.BAD_REQUEST, f"body is not JSON: {exc}")
            return
        try:
            view = self.server.simulator.inject(body)
        except FaultError as exc:
            self._error(exc.status, str(exc), exc.details)
            return
        self._json(HTTPStatus.CREATED, view, headers={"Location": f"/faults/{view['id']}"})

    def do_DELETE(self) -> None:
        sim = self.server.simulator
        path = self.path.split("?", 1)[0].rstrip("/")
        self._body()  # drain any body so keep-alive stays in sync
        if path == "/faults":
            self._json(HTTPStatus.OK, {"removed": sim.clear_faults()})
        elif (fault_id := _fault_id(path)) is not None:
            view = sim.delete_fault(fault_id)
            self._json(HTTPStatus.OK, view) if view else self._error(HTTPStatus.NOT_FOUND, "no such fault")
        else:
            self._error(HTTPStatus.NOT_FOUND, "not found")

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _json(self, status: HTTPStatus, payload: object, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload, indent=2).encode() + b"\n", "application/json", headers)

    def _error(self, status: HTTPStatus, message: str, details: object = None) -> None:
        payload: dict[str, object] = {"error": message}
        if details is not None:
            payload["details"] = details
        self._json(status, payload)

    def _send(
        self, status: HTTPStatus, body: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


def _fault_id(path: str) -> str | None:
    prefix = "/faults/"
    return path[len(prefix) :] if path.startswith(prefix) and len(path) > len(prefix) else None


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        super().__init__(address, _Handler)
        self.simulator = simulator


@dataclass
class Running:
    """A started server plus poller, for tests and for main()."""

    server: SimulatorHTTPServer
    stop: threading.Event
    threads: list[threading.Thread]

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def shutdown(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
        for thread in self.threads:
            thread.join(timeout=5)


def poll_forever(simulator: Simulator, stop: threading.Event, interval: float) -> None:
    while not stop.is_set():
        try:
            simulator.refresh()
        except Exception:  # the poller is the simulator's heartbeat: never let it die
            log.exception("poll failed")
        stop.wait(interval)


def start(simulator: Simulator, host: str = "127.0.0.1", port: int = 0, interval: float = 1.0) -> Running:
    server = SimulatorHTTPServer((host, port), simulator)
    stop = threading.Event()
    threads = [
        # Short poll interval: shutdown() waits up to one interval.
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="http", daemon=True
        ),
        threading.Thread(target=poll_forever, args=(simulator, stop, interval), name="poll", daemon=True),
    ]
    for thread in threads:
        thread.start()
    return Running(server, stop, threads)


# ---- CLI --------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--kubeconfig", required=True, help="kubeconfig of the cluster to watch")
    parser.add_argument("--port", type=int, required=True, help="port to listen on (127.0.0.1)")
    parser.add_argument("--selector", required=True, help="label selector of Chat App pods")
    parser.add_argument("--namespace", default=None, help="namespace to watch (default: all)")
    parser.add_argument("--seed", type=int, default=1, help="seed for the deterministic noise")
    parser.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    parser.add_argument("--interval", type=float, default=1.0, help="pod poll interval in seconds")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    log_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=args.log_level.upper(), format=log_format)
    logging.getLogger("urllib3").setLevel(logging.ERROR)  # our own throttled warning says it once
    pod_source, config_source = kube_sources(args.kubeconfig, args.selector, args.namespace)
    simulator = Simulator(pod_source, config_source, seed=args.seed)
    running = start(simulator, args.host, args.port, args.interval)
    log.info("serving on %s (selector %s, namespace %s)", running.url, args.selector, args.namespace or "*")

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: shutting down", signum)
        running.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    running.stop.wait()
    running.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
