#!/usr/bin/env python3
"""The Chat App as a real process per Pod (the kind e2e stage): the simulator's model, for this process alone.

    python -m chatapp_pod serve      the app: POST /chat (its request path), GET /metrics, GET /healthz
    python -m chatapp_pod loadgen    traffic to the app's Service through POST /chat (LOAD_RATE messages/s)
    python -m chatapp_pod llm-stub   the external LLM API the app depends on (POST /v1/messages)
    python -m chatapp_pod leak [--bytes-per-second N] [--limit-fraction F]
                                     ask the app on this Pod (localhost) to start leaking memory

What happens to the process is real, and the model (hack/chatapp_sim) turns it into the Chat App's metrics:
- load: messages that arrive on POST /chat, averaged over LOAD_WINDOW seconds, are the model's offered load;
- memory: chatapp_memory_bytes is the process's resident memory; a leak allocates and touches real memory
  up to the container's limit (an OOM kill there is what users see); a new process starts clean;
- bad release: the version the process reads at start (CHATAPP_VERSION, 1.1 in the chatapp:1.1 image);
- config: the mounted ConfigMap directory is re-read every CONFIG_POLL seconds; a value that fails
  validation fails the reload, and the previous config stays in force;
- external LLM: the app calls LLM_URL; while it fails, the model sees the LLM dependency degraded.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections import deque
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

_HACK_DIR = str(Path(__file__).resolve().parent)
if _HACK_DIR not in sys.path:
    sys.path.insert(0, _HACK_DIR)

from prometheus_client import CollectorRegistry, generate_latest  # noqa: E402
from prometheus_client.exposition import CONTENT_TYPE_LATEST  # noqa: E402

import chatapp_simulator  # noqa: E402
from chatapp_sim.faults import (  # noqa: E402
    DEFAULT_MEMORY_LIMIT_BYTES,
    MIB,
    BadReleaseSpec,
    ConfigCorruptionSpec,
    LlmSlowdownSpec,
    LoadSurgeSpec,
)
from chatapp_sim.model import MEMORY, MEMORY_LIMIT, ChatAppModel, PodInfo, PodSample  # noqa: E402

log = logging.getLogger("chatapp")
BAD_VERSIONS = frozenset({"1.1"})
LOAD_WINDOW = 10.0  # s over which arriving messages make the offered load
CONFIG_POLL = 2.0  # s
LLM_PROBE_INTERVAL = 2.0  # s
LLM_TIMEOUT = 2.0  # s
LEAK_CHUNK = 1 * MIB
# Validation of the ConfigMap's keys: a reload that sees an invalid value fails and keeps the old config.
CONFIG_RULES: dict[str, tuple[str, Any]] = {
    "eventbus.maxQueue": ("a positive integer", lambda v: v.isdigit() and int(v) > 0),
    "plugins.enabled": ("true or false", lambda v: v in ("true", "false")),
    "llm.timeoutSeconds": ("a positive integer", lambda v: v.isdigit() and int(v) > 0),
}


def env(name: str, default: str) -> str:
    return os.environ.get(name) or default


# ---- what is real about this process --------------------------------------------------------------------
def resident_bytes() -> float:
    """RSS of this process, from /proc."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return float(pages * os.sysconf("SC_PAGE_SIZE"))


def memory_limit_bytes() -> float:
    """The container's memory limit: MEMORY_LIMIT (downward API), else the cgroup's, else the default."""
    raw = os.environ.get("MEMORY_LIMIT", "")
    if raw.isdigit() and int(raw) > 0:
        return float(raw)
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            value = Path(path).read_text().strip()
        except OSError:
            continue
        if value.isdigit() and int(value) < 1 << 60:
            return float(value)
    return DEFAULT_MEMORY_LIMIT_BYTES


def read_config(directory: Path) -> dict[str, str]:
    """The mounted ConfigMap: one file per key (kubelet's ..data symlinks are skipped)."""
    if not directory.is_dir():
        return {}
    return {p.name: p.read_text() for p in sorted(directory.iterdir()) if not p.name.startswith(".")}


def config_errors(values: dict[str, str]) -> list[str]:
    errors = []
    for key, (expected, valid) in CONFIG_RULES.items():
        if key in values and not valid(values[key].strip()):
            errors.append(f"{key}={values[key].strip()!r} is not {expected}")
    return errors


class Leak:
    """A real leak: allocate and touch memory at a fixed rate, never free it."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.started: float | None = None

    def start(self, bytes_per_second: float, ceiling: float | None) -> None:
        if self.started is not None:
            return
        self.started = time.time()
        threading.Thread(
            target=self._grow, args=(bytes_per_second, ceiling), name="leak", daemon=True
        ).start()

    def _grow(self, bytes_per_second: float, ceiling: float | None) -> None:
        """Up to `ceiling` bytes resident; without one, until the kernel's OOM killer ends the process."""
        interval = LEAK_CHUNK / bytes_per_second
        while ceiling is None or resident_bytes() + LEAK_CHUNK <= ceiling:
            self.chunks.append(
                os.urandom(16) * (LEAK_CHUNK // 16)
            )  # written pages: resident, not just mapped
            time.sleep(interval)
        log.info("leak stopped at its ceiling (%.0f MiB resident)", resident_bytes() / MIB)


# ---- the app ----------------------------------------------------------------------------------------
class ChatApp:
    """The model for this one Pod, fed with what really happens to the process."""

    def __init__(
        self, *, pod: PodInfo, version: str, config_dir: Path, config_map: str, llm_url: str
    ) -> None:
        self.pod = pod
        self.version = version
        self.config_dir = config_dir
        self.config_map = config_map
        self.llm_url = llm_url
        self.model = ChatAppModel(seed=zlib.crc32(pod.name.encode()))
        self.lock = threading.Lock()
        self.arrivals: deque[tuple[float, int]] = deque()
        self.leak = Leak()
        self.config: dict[str, str] = {}
        self.config_seen: dict[str, str] | None = None
        self.reload_failures = 0
        self._load_fault: str | None = None
        self._config_fault: str | None = None
        self._llm_fault: str | None = None
        self.llm_ok: bool | None = None
        self.draining = threading.Event()
        now = time.time()
        self.model.advance(now, [pod])
        if version in BAD_VERSIONS:
            bad = BadReleaseSpec(deployment=pod.deployment, namespace=pod.namespace, image=pod.image)
            self.model.add_fault(bad, now, [pod])
            log.warning("version %s: this release is known bad", version)

    # ---- request path -------------------------------------------------------------------------------
    def receive(self, messages: int) -> None:
        with self.lock:
            self.arrivals.append((time.time(), messages))

    def offered_load(self, now: float) -> float:
        while self.arrivals and self.arrivals[0][0] < now - LOAD_WINDOW:
            self.arrivals.popleft()
        window = min(LOAD_WINDOW, max(1.0, now - (self.pod.start_time or now)))
        return sum(n for _, n in self.arrivals) / window

    # ---- the heartbeat ------------------------------------------------------------------------------
    def tick(self) -> None:
        """Close the last interval with the old conditions, then adopt the new load."""
        with self.lock:
            now = time.time()
            self.model.advance(now, [self.pod])
            if self._load_fault:
                self.model.remove_fault(self._load_fault)
            spec = LoadSurgeSpec(
                deployment=self.pod.deployment,
                namespace=self.pod.namespace,
                total_load=self.offered_load(now),
            )
            self._load_fault = self.model.add_fault(spec, now, [self.pod]).id

    def reload_config(self) -> None:
        values = read_config(self.config_dir)
        if values == self.config_seen:
            return
        self.config_seen = values
        errors = config_errors(values)
        with self.lock:
            now = time.time()
            self.model.advance(now, [self.pod])
            if self._config_fault:
                self.model.remove_fault(self._config_fault)
                self._config_fault = None
            if errors:
                self.reload_failures += 1
                log.error("config reload failed, keeping the previous config: %s", "; ".join(errors))
                key = errors[0].split("=", 1)[0]
                spec = ConfigCorruptionSpec(
                    deployment=self.pod.deployment,
                    namespace=self.pod.namespace,
                    config_map=self.config_map,
                    key=key,
                    bad_value=values[key],
                )
                self._config_fault = self.model.add_fault(spec, now, [self.pod]).id
                return
        self.config = values
        log.info("config loaded: %s", json.dumps(values, sort_keys=True))

    def probe_llm(self) -> None:
        timeout = float(self.config.get("llm.timeoutSeconds", "30").strip() or 30)
        ok = call_llm(self.llm_url, min(timeout, LLM_TIMEOUT))
        if ok == self.llm_ok:
            return
        self.llm_ok = ok
        with self.lock:
            now = time.time()
            self.model.advance(now, [self.pod])
            if ok and self._llm_fault:
                self.model.remove_fault(self._llm_fault)
                self._llm_fault = None
            elif not ok:
                spec = LlmSlowdownSpec(deployment=self.pod.deployment, namespace=self.pod.namespace)
                self._llm_fault = self.model.add_fault(spec, now, [self.pod]).id
        log.warning("external LLM %s: %s", self.llm_url, "answering" if ok else "failing")

    # ---- observation --------------------------------------------------------------------------------
    def scrape(self) -> bytes:
        with self.lock:
            self.model.advance(time.time(), [self.pod])
            samples = [self._real(s) for s in self.model.samples()]
        registry = CollectorRegistry(auto_describe=False)
        registry.register(chatapp_simulator._SamplesCollector(samples))
        return generate_latest(registry)

    def _real(self, sample: PodSample) -> PodSample:
        gauges = dict(sample.gauges)
        gauges[MEMORY] = resident_bytes()
        gauges[MEMORY_LIMIT] = self.pod.memory_limit_bytes
        return dataclasses.replace(sample, gauges=gauges)

    def health(self) -> dict[str, object]:
        return {
            "status": "ok",
            "version": self.version,
            "pod": self.pod.name,
            "residentBytes": resident_bytes(),
            "memoryLimitBytes": self.pod.memory_limit_bytes,
            "leaking": self.leak.started is not None,
            "offeredLoad": self.offered_load(time.time()),
            "config": self.config,
            "configReloadFailures": self.reload_failures,
            "llmOk": self.llm_ok,
        }


def call_llm(url: str, timeout: float) -> bool:
    request = urllib.request.Request(url, data=b'{"prompt": "ping"}', method="POST")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return bool(200 <= response.status < 300)
    except (OSError, urllib.error.URLError):
        return False


# ---- HTTP ---------------------------------------------------------------------------------------------
class _AppHandler(BaseHTTPRequestHandler):
    server: AppServer

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/metrics":
            self._send(HTTPStatus.OK, self.server.app.scrape(), CONTENT_TYPE_LATEST)
        elif path == "/healthz":
            app = self.server.app
            # draining: not ready any more, so Prometheus drops the target before the process is gone
            self._json(
                HTTPStatus.SERVICE_UNAVAILABLE if app.draining.is_set() else HTTPStatus.OK, app.health()
            )
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        body = self._body()
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            self._json(HTTPStatus.BAD_REQUEST, {"error": "body is not JSON"})
            return
        if path == "/chat":
            messages = int(payload.get("messages", 1))
            self.server.app.receive(max(0, messages))
            self._json(HTTPStatus.OK, {"accepted": messages, "pod": self.server.app.pod.name})
        elif path == "/faults/memory-leak":
            app = self.server.app
            rate = float(payload.get("bytesPerSecond", 2 * MIB))
            fraction = float(payload.get("limitFraction", 1.0))  # 1.0: up to the limit, and the OOM kill
            ceiling = fraction * app.pod.memory_limit_bytes if fraction < 1.0 else None
            app.leak.start(rate, ceiling)
            until = f"{ceiling / MIB:.0f} MiB" if ceiling else "the OOM kill"
            log.warning("memory leak started: %.0f bytes/s until %s", rate, until)
            self._json(HTTPStatus.CREATED, app.health())
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _json(self, status: HTTPStatus, payload: object) -> None:
        self._send(status, json.dumps(payload).encode() + b"\n", "application/json")

    def _send(self, status: HTTPStatus, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class AppServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: ChatApp) -> None:
        super().__init__(address, _AppHandler)
        self.app = app


class _LlmHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = b'{"content": [{"type": "text", "text": "pong"}]}\n'
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


# ---- commands -----------------------------------------------------------------------------------------
def every(stop: threading.Event, interval: float, job: Any) -> None:
    while not stop.is_set():
        try:
            job()
        except Exception:  # a heartbeat never dies
            log.exception("%s failed", getattr(job, "__name__", job))
        stop.wait(interval)


def pod_info() -> PodInfo:
    name = env("POD_NAME", os.uname().nodename)
    deployment = env("CHATAPP_DEPLOYMENT", name.rsplit("-", 2)[0])
    version = env("CHATAPP_VERSION", "1.0")
    return PodInfo(
        uid=env("POD_UID", f"{name}-{os.getpid()}-{time.time()}"),
        namespace=env("POD_NAMESPACE", "default"),
        name=name,
        deployment=deployment,
        image=f"chatapp:{version}",
        memory_limit_bytes=memory_limit_bytes(),
        start_time=time.time(),
    )


def serve(args: argparse.Namespace) -> int:
    pod = pod_info()
    app = ChatApp(
        pod=pod,
        version=env("CHATAPP_VERSION", "1.0"),
        config_dir=Path(env("CONFIG_DIR", "/etc/chatapp")),
        config_map=env("CONFIG_MAP", "chatapp-config"),
        llm_url=env("LLM_URL", "http://chatapp-llm/v1/messages"),
    )
    stop = threading.Event()
    server = AppServer(("0.0.0.0", args.port), app)
    for target, interval in (
        (app.tick, 1.0),
        (app.reload_config, CONFIG_POLL),
        (app.probe_llm, LLM_PROBE_INTERVAL),
    ):
        threading.Thread(
            target=every, args=(stop, interval, target), name=target.__name__, daemon=True
        ).start()
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    log.info(
        "chatapp %s serving on :%d as %s/%s (limit %.0f MiB)",
        app.version,
        args.port,
        pod.namespace,
        pod.name,
        pod.memory_limit_bytes / MIB,
    )
    return wait_for_signal(stop, server, app.draining)


def loadgen(args: argparse.Namespace) -> int:
    """LOAD_RATE messages/s to TARGET_URL in REQUESTS_PER_SECOND new connections (kube-proxy spreads them)."""
    rate = float(env("LOAD_RATE", "100"))
    per_second = max(1, int(env("REQUESTS_PER_SECOND", "10")))
    url = env("TARGET_URL", "http://chatapp/chat")
    messages = max(1, round(rate / per_second))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log.info("sending %d messages/s to %s (%d requests/s)", messages * per_second, url, per_second)
    body = json.dumps({"messages": messages}).encode()
    sent = failed = 0
    next_at = time.monotonic()
    while not stop.is_set():
        request = urllib.request.Request(url, data=body, method="POST")
        request.add_header("Connection", "close")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                response.read()
            sent += 1
        except (OSError, urllib.error.URLError):
            failed += 1
        if (sent + failed) % (per_second * 60) == 0:
            log.info("requests: %d sent, %d failed", sent, failed)
        next_at += 1.0 / per_second
        stop.wait(max(0.0, next_at - time.monotonic()))
    return 0


def llm_stub(args: argparse.Namespace) -> int:
    stop = threading.Event()
    server = ThreadingHTTPServer(("0.0.0.0", args.port), _LlmHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    log.info("LLM stub serving on :%d", args.port)
    return wait_for_signal(stop, server)


def leak(args: argparse.Namespace) -> int:
    body = json.dumps(
        {"bytesPerSecond": args.bytes_per_second, "limitFraction": args.limit_fraction}
    ).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{args.port}/faults/memory-leak", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        sys.stdout.write(response.read().decode())
    return 0


def wait_for_signal(
    stop: threading.Event, server: ThreadingHTTPServer, draining: threading.Event | None = None
) -> int:
    """Serve until SIGTERM; with `draining`, report not-ready and serve SHUTDOWN_DELAY more seconds first."""

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: shutting down", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    stop.wait()
    if draining is not None:
        draining.set()
        time.sleep(float(env("SHUTDOWN_DELAY", "0")))
    server.shutdown()
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chatapp_pod", description=(__doc__ or "").split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, port in (("serve", 8080), ("llm-stub", 8080), ("leak", 8080)):
        cmd = sub.add_parser(name)
        cmd.add_argument("--port", type=int, default=port)
    sub.add_parser("loadgen")
    leak_cmd = sub.choices["leak"]
    leak_cmd.add_argument("--bytes-per-second", type=float, default=2 * MIB)
    leak_cmd.add_argument("--limit-fraction", type=float, default=1.0)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=env("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    commands = {"serve": serve, "loadgen": loadgen, "llm-stub": llm_stub, "leak": leak}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
