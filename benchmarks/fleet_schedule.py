"""Fleet scheduling: N MaintenancePolicies (10 per namespace) on one operator process, offline planner.

Measures, over a steady window after start: assessments completed per minute, schedule lag p50/p99 (due ->
started, due -> completed, from the operator's histogram), the operator's RSS and CPU, and API requests/s
(the operator's own client calls, and every request the API server served), and what Prometheus sees:
the operator's established connections to it (max and median of a count every second, beside the
configured ``MAINTENANCE_OPERATOR_PROMETHEUS_MAX_CONCURRENT_QUERIES``, default 8, passed on to the
operator) and the latency of an outside ``up`` query every second on a fresh plain HTTP connection from
this process (p50/p99/max ms, and how many failed or timed out after 5 s). Optional: a tracemalloc
profile of the operator at the end of the window (``--tracemalloc``).

Run: ``PYTHONPATH=operator .venv/bin/python -m benchmarks.fleet_schedule 100 [1000] [--tracemalloc]``.
Uses the local cluster in ``$MO_CLUSTER_DIR`` (default .cluster; started if down). Knobs:
MO_BENCH_WINDOW (seconds measured, default 300), MO_BENCH_HEALTH / MO_BENCH_PERFORMANCE (schedule,
default 5m / 15m, the production schedule; the spread at start is the health-check interval),
MO_BENCH_TRACE_FRAMES (frames kept per allocation under --tracemalloc, default 1; 0: object census only),
MO_BENCH_OPERATOR_SRC (with --tracemalloc: the operator package directory to run, default operator/),
MO_BENCH_LABEL (the result's key is "<N>-<label>", its profile fleet_profile_<N>_<label>.txt; default
"tracemalloc" with the flag, none without).
Writes benchmarks/results/fleet_schedule.json (one entry per N, merged with earlier runs).
"""

from __future__ import annotations

import calendar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kubernetes import client

from benchmarks import operator_rss, prometheus_probe

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hack"))
import chatapp_stack as stack_lib  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "fleet_schedule.json"
PROFILES = ROOT / "benchmarks" / "results"
PER_NAMESPACE = 10
WINDOW = float(os.environ.get("MO_BENCH_WINDOW", "300"))
HEALTH = os.environ.get("MO_BENCH_HEALTH", "5m")  # the production schedule of issue 16
PERFORMANCE = os.environ.get("MO_BENCH_PERFORMANCE", "15m")
TICKS = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())


def apiserver_requests(api: client.ApiClient) -> float:
    """Every request the API server has served (apiserver_request_total summed); a busy API server may
    break off its long /metrics answer, so it is asked again."""
    for _attempt in range(4):
        try:
            return _apiserver_requests(api)
        except Exception:  # urllib3 and client errors alike: ask again
            time.sleep(3)
    return _apiserver_requests(api)


def apiserver_metrics(api: client.ApiClient) -> str:
    """The API server's own /metrics, as text."""
    method, url, headers, _, _ = api.param_serialize("GET", "/metrics", auth_settings=["BearerToken"])
    return bytes(api.call_api(method, url, header_params=headers).read()).decode()


def _apiserver_requests(api: client.ApiClient) -> float:
    total = 0.0
    for line in apiserver_metrics(api).splitlines():
        if line.startswith("apiserver_request_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def prometheus_queries(stack: stack_lib.Stack) -> float:
    """Instant and range queries Prometheus has answered (its own counter, every client)."""
    text = scrape(f"{stack.prometheus_url}/metrics")
    return sample(text, "prometheus_http_requests_total", 'handler="/api/v1/query') + sample(
        text, "prometheus_http_requests_total", 'handler="/api/v1/query_range'
    )


def sample(text: str, name: str, labels: str = "") -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and labels in line and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def histogram(text: str, stage: str) -> list[tuple[float, float]]:
    """(upper bound, cumulative count) of maintenance_operator_schedule_lag_seconds for `stage`."""
    found = []
    pattern = re.compile(
        r'le="([^"]+)",stage="' + stage + r'"\} (\S+)|stage="' + stage + r'",le="([^"]+)"\} (\S+)'
    )
    for line in text.splitlines():
        if line.startswith("maintenance_operator_schedule_lag_seconds_bucket"):
            match = pattern.search(line)
            if match:
                le = match.group(1) or match.group(3)
                count = match.group(2) or match.group(4)
                found.append((float("inf") if le == "+Inf" else float(le), float(count)))
    return sorted(found)


def quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """histogram_quantile: linear interpolation inside the bucket holding the q-th observation."""
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if upper == float("inf"):
                return lower
            return round(lower + (upper - lower) * (rank - below) / max(count - below, 1e-9), 3)
        lower, below = upper, count
    return None


def create_fleet(api: client.ApiClient, policies: int, prefix: str) -> list[str]:
    namespaces = [f"{prefix}-{i:03d}" for i in range(max(1, policies // PER_NAMESPACE))]
    core = client.CoreV1Api(api)

    def one_namespace(namespace: str) -> None:
        try:
            core.create_namespace({"metadata": {"name": namespace}})
        except client.ApiException as exc:
            if exc.status != 409:
                raise
        for j in range(PER_NAMESPACE):
            body = stack_lib.demo_policy(
                namespace, schedule={"healthCheck": HEALTH, "performanceAnalysis": PERFORMANCE}
            )
            body["metadata"]["name"] = f"chatapp-{j:02d}"
            stack_lib.create(api, "maintenancepolicies", namespace, body)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one_namespace, namespaces))
    return namespaces


def wait_gone(api: client.ApiClient, prefix: str, *, timeout: float = 900) -> None:
    """An earlier run's namespaces are deleted without waiting: creating in a terminating one is refused."""
    core = client.CoreV1Api(api)
    deadline = time.time() + timeout
    while any(n.metadata.name.startswith(prefix) for n in core.list_namespace().items):
        if time.time() > deadline:
            raise RuntimeError(f"namespaces {prefix}-* still terminating after {timeout:.0f} s")
        time.sleep(5)


def delete_namespaces(kubeconfig: str, namespaces: list[str]) -> None:
    """Start deleting the benchmark's namespaces; do not wait for them."""
    for namespace in namespaces:
        subprocess.run(
            ["kubectl", "--kubeconfig", kubeconfig, "delete", "namespace", namespace, "--wait=false"],
            capture_output=True,
            check=False,
        )


def release_finalizers(api: client.ApiClient, namespaces: list[str]) -> None:
    """The operator is stopped: drop its finalizers, or the namespaces never finish terminating."""
    custom = client.CustomObjectsApi(api)

    def one_namespace(namespace: str) -> None:
        for plural in ("maintenancepolicies", "remediations"):
            for item in stack_lib.items(api, plural, namespace):
                if item["metadata"].get("finalizers"):
                    custom.patch_namespaced_custom_object(
                        stack_lib.GROUP,
                        stack_lib.VERSION,
                        namespace,
                        plural,
                        item["metadata"]["name"],
                        {"metadata": {"finalizers": None}},
                    )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one_namespace, namespaces))


def completed_in(api: client.ApiClient, namespaces: list[str], since: float, until: float) -> int:
    done = 0
    for namespace in namespaces:
        for item in stack_lib.items(api, "healthassessments", namespace):
            status = item.get("status") or {}
            at = status.get("completedAt") or status.get("assessedAt")
            if status.get("phase") in stack_lib.ASSESSMENT_FINISHED and at:
                moment = calendar.timegm(time.strptime(at[:19], "%Y-%m-%dT%H:%M:%S"))
                done += since <= moment <= until
    return done


DUE_ANNOTATION = "maintenance.chatapp.io/due"


def due_backlog(
    api: client.ApiClient, namespaces: list[str], *, until: float, grace: float = 30.0
) -> dict[str, int]:
    """Scheduled assessments due by ``until`` (their due annotation), and those of them still unfinished
    at the end although due more than ``grace`` seconds before it: "every due assessment completes" when
    that is 0."""
    due = late = 0
    for namespace in namespaces:
        for item in stack_lib.items(api, "healthassessments", namespace):
            stamp = (item["metadata"].get("annotations") or {}).get(DUE_ANNOTATION)
            if not stamp:
                continue
            moment = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
            if moment > until:
                continue
            due += 1
            late += (item.get("status") or {}).get(
                "phase"
            ) not in stack_lib.ASSESSMENT_FINISHED and moment < until - grace
    return {"due": due, "unfinished_due_over_grace": late}


def measure(stack: stack_lib.Stack, policies: int, *, profile: bool) -> dict[str, Any]:
    label = os.environ.get("MO_BENCH_LABEL", "tracemalloc")
    profile_path = PROFILES / f"fleet_profile_{policies}_{label}.txt"
    api = stack.api()
    prefix = f"bench-fleet-{policies}"
    metrics_port = _free_port()
    limit = prometheus_probe.configured_limit(os.environ)
    wait_gone(api, prefix + "-")
    namespaces = create_fleet(api, policies, prefix)
    env = {
        "MAINTENANCE_OPERATOR_WEBHOOK_MODE": "none",
        "MAINTENANCE_OPERATOR_METRICS_PORT": str(metrics_port),
        "MAINTENANCE_OPERATOR_LOG_LEVEL": "WARNING",
        "MAINTENANCE_OPERATOR_SCHEDULE_SPREAD_SECONDS": str(stack_lib_seconds(HEALTH)),
        prometheus_probe.LIMIT_ENV: str(limit),
    }
    if os.environ.get("MALLOC_ARENA_MAX"):  # glibc arenas: measured with and without (docs/decisions.md)
        env["MALLOC_ARENA_MAX"] = os.environ["MALLOC_ARENA_MAX"]
    command = None
    if profile:
        env["MO_TRACEMALLOC_FRAMES"] = os.environ.get("MO_BENCH_TRACE_FRAMES", "1")
        env["MO_TRACEMALLOC_OUT"] = str(profile_path)
        command = [sys.executable, "-m", "benchmarks.traced_operator", "run"]
        source = os.environ.get("MO_BENCH_OPERATOR_SRC", str(ROOT / "operator"))  # e.g. an older tree
        env = {**env, "PATH": os.environ.get("PATH", ""), "PYTHONPATH": f"{source}:{ROOT}"}
    operator = stack_lib.OperatorProcess(
        stack, namespaces=[], log_path=ROOT / ".demo" / f"{prefix}.log", extra_env=env, command=command
    ).start()
    assert operator.process is not None
    pid = operator.process.pid
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    rss: list[float] = []
    try:
        started = time.time()
        api_before = apiserver_requests(api)
        queries_before = prometheus_queries(stack)
        load_before = os.getloadavg()[0]
        cpu_before = cpu_seconds(pid)
        end = started + WINDOW
        with prometheus_probe.Probe(stack.prometheus_url, pids=[pid]) as probe:
            while time.time() < end:
                rss.append(operator_rss.rss_mb(pid))
                time.sleep(2)
        cpu = cpu_seconds(pid) - cpu_before
        api_after = apiserver_requests(api)
        queries_after = prometheus_queries(stack)
        load_after = os.getloadavg()[0]
        text = scrape(url)
        if profile:
            profile_path.unlink(missing_ok=True)
            operator.process.send_signal(signal.SIGUSR1)
            waited = time.time() + 300  # a snapshot of a large heap takes a while on a busy machine
            while not profile_path.exists() and time.time() < waited:
                time.sleep(2)
        ended = time.time()
        done = completed_in(api, namespaces, started, ended)
        backlog = due_backlog(api, namespaces, until=ended)
    finally:
        operator.stop()
        release_finalizers(api, namespaces)
        delete_namespaces(stack.kubeconfig, namespaces)
    steady = rss[len(rss) // 2 :]
    return {
        "policies": policies,
        "namespaces": len(namespaces),
        "schedule": {"healthCheck": HEALTH, "performanceAnalysis": PERFORMANCE},
        "window_seconds": WINDOW,
        "assessments_completed_per_minute": round(done / (WINDOW / 60), 1),
        "assessments_due_in_window": backlog["due"],
        "assessments_completed_in_window": done,
        "assessments_unfinished_due_over_30s_before_end": backlog["unfinished_due_over_grace"],
        "schedule_lag_started_p50_s": quantile(histogram(text, "started"), 0.5),
        "schedule_lag_started_p99_s": quantile(histogram(text, "started"), 0.99),
        "schedule_lag_completed_p50_s": quantile(histogram(text, "completed"), 0.5),
        "schedule_lag_completed_p99_s": quantile(histogram(text, "completed"), 0.99),
        "operator_rss_mb_median_steady": round(sorted(steady)[len(steady) // 2], 1),
        "operator_rss_mb_max": round(max(rss), 1),
        "operator_cpu_cores": round(cpu / WINDOW, 3),
        "operator_api_requests_per_s": round(
            sample(text, "maintenance_operator_api_requests_total") / WINDOW, 2
        ),
        "apiserver_requests_per_s_all_clients": round((api_after - api_before) / WINDOW, 2),
        "prometheus_queries_per_s_all_clients": round((queries_after - queries_before) / WINDOW, 2),
        "load_average_1m_start_end": [round(load_before, 2), round(load_after, 2)],
        "tracemalloc": profile,
        "malloc_arena_max": os.environ.get("MALLOC_ARENA_MAX"),
        **probe.summary(limit=limit),
    }


def stack_lib_seconds(duration: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    return float(duration[:-1]) * units[duration[-1]]


def main(argv: list[str]) -> None:
    profile = "--tracemalloc" in argv
    sizes = [int(a) for a in argv if a.isdigit()] or [100]
    stack = operator_rss.cluster_with_crds()
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for size in sizes:
        entry = measure(stack, size, profile=profile)
        label = os.environ.get("MO_BENCH_LABEL", "tracemalloc" if profile else "")
        results[f"{size}-{label}" if label else str(size)] = entry
        print(json.dumps(entry, indent=2), flush=True)
        print(prometheus_probe.describe(entry), flush=True)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
