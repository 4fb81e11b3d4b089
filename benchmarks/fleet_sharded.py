"""Sharded fleet: N MaintenancePolicies (10 per namespace) on R operator replicas holding S shard Leases.

Measures, over a steady window after the replicas settle on their shards: assessments completed per minute
(all replicas), schedule lag p50/p99 (due -> started, due -> completed; the replicas' histograms summed),
RSS and CPU per replica, API requests/s, the replicas' established connections to Prometheus (all together
and per replica, max and median of a count every second, beside each replica's configured limit) and an
outside ``up`` query's latency (p50/p99/max, failures; see ``benchmarks.prometheus_probe``). Same fleet
and knobs as ``benchmarks.fleet_schedule`` (MO_BENCH_WINDOW, MO_BENCH_HEALTH,
MAINTENANCE_OPERATOR_PROMETHEUS_MAX_CONCURRENT_QUERIES), plus MO_BENCH_REPLICAS (default 3) and
MO_BENCH_SHARDS (default 3).

Run: ``PYTHONPATH=operator .venv/bin/python -m benchmarks.fleet_sharded 3000``.
Writes benchmarks/results/fleet_sharded.json (one entry per N and R, merged with earlier runs).
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from benchmarks import fleet_schedule, operator_rss, prometheus_probe

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hack"))
import chatapp_stack as stack_lib  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "fleet_sharded.json"
REPLICAS = int(os.environ.get("MO_BENCH_REPLICAS", "3"))
SHARDS = int(os.environ.get("MO_BENCH_SHARDS", "3"))
LEASE_SECONDS = 15


def holders(api: client.ApiClient, namespace: str, prefix: str) -> list[str | None]:
    found: list[str | None] = []
    for shard in range(SHARDS):
        try:
            lease = client.CoordinationV1Api(api).read_namespaced_lease(f"{prefix}-{shard}", namespace)
            found.append(lease.spec.holder_identity or None)
        except ApiException:
            found.append(None)
    return found


def summed_histogram(texts: list[str], stage: str) -> list[tuple[float, float]]:
    total: dict[float, float] = {}
    for text in texts:
        for upper, count in fleet_schedule.histogram(text, stage):
            total[upper] = total.get(upper, 0.0) + count
    return sorted(total.items())


def never_assessed(api: client.ApiClient, namespaces: list[str]) -> int:
    """Policies the scheduler has not yet created a first assessment for (no health-check stamp)."""
    return sum(
        not (item.get("status") or {}).get("lastHealthCheckTime")
        for namespace in namespaces
        for item in stack_lib.items(api, "maintenancepolicies", namespace)
    )


def load_average() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def measure(stack: stack_lib.Stack, policies: int) -> dict[str, Any]:
    api = stack.api()
    prefix = f"bench-shard-{policies}"
    lease_namespace = f"{prefix}-leases-{uuid.uuid4().hex[:4]}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": lease_namespace}})
    namespaces = fleet_schedule.create_fleet(api, policies, prefix)
    ports = [fleet_schedule._free_port() for _ in range(REPLICAS)]
    limit = prometheus_probe.configured_limit(os.environ)
    replicas = []
    for i, port in enumerate(ports):
        env = {
            "POD_NAME": f"replica-{i}",
            "MAINTENANCE_OPERATOR_WEBHOOK_MODE": "none",
            "MAINTENANCE_OPERATOR_METRICS_PORT": str(port),
            "MAINTENANCE_OPERATOR_LOG_LEVEL": "WARNING",
            "MAINTENANCE_OPERATOR_SCHEDULE_SPREAD_SECONDS": str(
                fleet_schedule.stack_lib_seconds(fleet_schedule.HEALTH)
            ),
            "MAINTENANCE_OPERATOR_SHARDING_ENABLED": "true",
            "MAINTENANCE_OPERATOR_SHARDING_SHARDS": str(SHARDS),
            "MAINTENANCE_OPERATOR_SHARDING_LEASE_DURATION_SECONDS": str(LEASE_SECONDS),
            "MAINTENANCE_OPERATOR_SHARDING_LEASE_NAMESPACE": lease_namespace,
            "MAINTENANCE_OPERATOR_SHARDING_LEASE_PREFIX": prefix,
            prometheus_probe.LIMIT_ENV: str(limit),
        }
        replicas.append(
            stack_lib.OperatorProcess(
                stack, namespaces=[], log_path=ROOT / ".demo" / f"{prefix}-{i}.log", extra_env=env
            ).start()
        )
    pids = [r.process.pid for r in replicas if r.process is not None]
    rss: list[list[float]] = [[] for _ in pids]
    load = [load_average()]
    try:
        stack_lib.wait_for(
            lambda: len({h for h in holders(api, lease_namespace, prefix) if h}) == min(REPLICAS, SHARDS),
            timeout=120,
            what="every replica holding a shard",
        )
        started = time.time()
        api_before = fleet_schedule.apiserver_requests(api)
        cpu_before = [fleet_schedule.cpu_seconds(pid) for pid in pids]
        end = started + fleet_schedule.WINDOW
        with prometheus_probe.Probe(stack.prometheus_url, pids=pids) as probe:
            while time.time() < end:
                for i, pid in enumerate(pids):
                    rss[i].append(operator_rss.rss_mb(pid))
                load.append(load_average())
                time.sleep(5)
        cpu = [fleet_schedule.cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)]
        api_after = fleet_schedule.apiserver_requests(api)
        texts = [fleet_schedule.scrape(f"http://127.0.0.1:{port}/metrics") for port in ports]
        ended = time.time()
        done = fleet_schedule.completed_in(api, namespaces, started, ended)
        backlog = fleet_schedule.due_backlog(api, namespaces, until=ended)
        never = never_assessed(api, namespaces)
    finally:
        for replica in replicas:
            replica.stop()
        fleet_schedule.release_finalizers(api, namespaces)
        fleet_schedule.delete_namespaces(stack.kubeconfig, [*namespaces, lease_namespace])
    window = fleet_schedule.WINDOW
    steady = [sorted(r[len(r) // 2 :]) for r in rss]
    return {
        "policies": policies,
        "replicas": REPLICAS,
        "shards": SHARDS,
        "namespaces": len(namespaces),
        "schedule": {"healthCheck": fleet_schedule.HEALTH, "performanceAnalysis": "10m"},
        "window_seconds": window,
        "assessments_completed_per_minute": round(done / (window / 60), 1),
        "assessments_completed_in_window": done,
        # due times are spread over the health-check interval from start: every policy is due once in the
        # window, and one never assessed at its end is the scheduler's backlog (not in the lag histogram)
        "assessments_created_due_in_window": backlog["due"],
        "assessments_unfinished_due_over_30s_before_end": backlog["unfinished_due_over_grace"],
        "policies_never_assessed_at_end": never,
        "replica_assessments_queued_at_end": [
            fleet_schedule.sample(t, "maintenance_operator_assessments_running", 'state="queued"')
            for t in texts
        ],
        "schedule_lag_started_p50_s": fleet_schedule.quantile(summed_histogram(texts, "started"), 0.5),
        "schedule_lag_started_p99_s": fleet_schedule.quantile(summed_histogram(texts, "started"), 0.99),
        "schedule_lag_completed_p50_s": fleet_schedule.quantile(summed_histogram(texts, "completed"), 0.5),
        "schedule_lag_completed_p99_s": fleet_schedule.quantile(summed_histogram(texts, "completed"), 0.99),
        "replica_rss_mb_median_steady": [round(r[len(r) // 2], 1) for r in steady],
        "replica_rss_mb_max": [round(max(r), 1) for r in rss],
        "replica_cpu_cores": [round(c / window, 3) for c in cpu],
        "operator_api_requests_per_s": round(
            sum(fleet_schedule.sample(t, "maintenance_operator_api_requests_total") for t in texts) / window,
            2,
        ),
        "apiserver_requests_per_s_all_clients": round((api_after - api_before) / window, 2),
        "load_average_1m_median": sorted(x[0] for x in load)[len(load) // 2],
        **probe.summary(limit=limit),
    }


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv if a.isdigit()] or [3000]
    stack = operator_rss.cluster_with_crds()
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for size in sizes:
        entry = measure(stack, size)
        results[f"{size}x{REPLICAS}"] = entry
        print(json.dumps(entry, indent=2), flush=True)
        print(prometheus_probe.describe(entry), flush=True)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
