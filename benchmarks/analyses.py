"""Cost of each periodic analysis per policy: milliseconds (median) and queries/API reads.

Run: ``PYTHONPATH=operator:. .venv/bin/python -m benchmarks.analyses``. Uses ``$PROMETHEUS_URL`` if set;
otherwise starts its own Prometheus. The capacity analysis reads two weeks at a 5 minute step (4033
points per series) of history that Prometheus generates from ``time()`` expressions, so it measures
the real range-query path without waiting two weeks for samples. The audits run against an in-memory
target that counts the API reads the real WorkloadReader would make (their cost on a live API server
is those reads' latency). Writes benchmarks/results/analyses.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.fixtures.prometheus import MetricsExporter, running_prometheus

from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import capacity as cap
from maintenance_operator.domain import security_audit
from maintenance_operator.reconcilers import audit
from maintenance_operator.reconcilers import capacity as capacity_reconciler

RUNS = 15
RESULTS = Path(__file__).resolve().parent / "results" / "analyses.json"
GROWTH = "(1 + (time() - 1.7e9) / 8.64e6)"  # grows linearly with time
DEPLOYMENT: dict[str, Any] = {
    "metadata": {"generation": 2},
    "spec": {
        "replicas": 3,
        "progressDeadlineSeconds": 600,
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": name,
                        "image": f"{name}:1.0",
                        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}},
                        "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
                    }
                    for name in ("app", "sidecar")
                ]
            }
        },
    },
}


class CountingTarget:
    """The target in memory; counts the API reads WorkloadReader would send."""

    def __init__(self) -> None:
        self.reads = 0

    async def deployment(self) -> dict[str, Any]:
        self.reads += 1
        return DEPLOYMENT

    async def hpa_max_replicas(self) -> int | None:
        self.reads += 1
        return 8

    async def has_pdb(self, deployment: dict[str, Any]) -> bool:
        self.reads += 1
        return True

    async def config_map_data(self, name: str) -> dict[str, str] | None:
        self.reads += 1
        return {f"KEY_{i}": str(i) for i in range(20)}

    async def risky_permissions(self, service_account: str) -> list[str]:
        self.reads += 4  # one LocalSubjectAccessReview per risky permission
        return []

    async def vulnerabilities(self, deployment: dict[str, Any]) -> list[security_audit.Vulnerability] | None:
        self.reads += 1
        return [
            security_audit.Vulnerability(
                f"CVE-{i}", ("CRITICAL", "HIGH", "MEDIUM", "LOW")[i % 4], "app:1", 0.0
            )
            for i in range(200)
        ]


def policy() -> api.MaintenancePolicySpec:
    def per_container(value: str) -> str:
        return " or ".join(
            f'label_replace(vector({value}), "container", "{c}", "", "")' for c in ("app", "sidecar")
        )

    return api.MaintenancePolicySpec.model_validate(
        {
            "targetRef": {"name": "chatapp"},
            "indicators": [{"name": "e", "dimension": "core", "query": "up", "warning": 1, "critical": 2}],
            "actions": {
                "scale": {"enabled": True, "max": 20},
                "configPatch": {"enabled": True, "configMapRef": {"name": "cm"}, "allowedKeys": ["KEY_1"]},
            },
            "analyses": {
                "capacity": {
                    "loadQuery": f"vector(100 * {GROWTH})",
                    "healthyQuery": "vector(1)",
                    "replicasQuery": "vector(3)",
                    "cpuQuery": per_container(f"0.2 * {GROWTH}"),
                    "memoryQuery": per_container("3e8"),
                }
            },
        }
    )


@contextlib.contextmanager
def prometheus_url() -> Iterator[str]:
    if os.environ.get("PROMETHEUS_URL"):
        yield os.environ["PROMETHEUS_URL"]
        return
    exporter = MetricsExporter()
    try:
        with running_prometheus(exporter) as server:
            yield server.url
    finally:
        exporter.close()


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


async def measure(url: str) -> dict[str, Any]:
    spec = policy()
    client = prom.HttpPrometheus(url, timeout=30)
    results: dict[str, Any] = {}

    seconds, queries = [], 0
    for _ in range(RUNS):
        started = time.perf_counter()
        report = await capacity_reconciler.analyze(
            spec=spec, namespace="chatapp", prometheus=client, target=CountingTarget(), now=time.time()
        )
        seconds.append(time.perf_counter() - started)
        queries = report.queries
    assert report.sufficient, report.message
    results["capacity"] = {
        "median_ms": median_ms(seconds),
        "prometheus_queries": queries,
        "points_per_series": 4033,
    }

    load = [(i * 300.0, 100.0 + i * 0.01) for i in range(4033)]
    rules = cap.DataRules(window_seconds=14 * cap.DAY)
    seconds = []
    for _ in range(RUNS):
        started = time.perf_counter()
        cap.plan(
            load=load,
            throughput_per_pod=50.0,
            current_replicas=3,
            pod=cap.PodResources(0.5, 5e8),
            limits=cap.Limits(scale_max=20),
            rules=rules,
        )
        seconds.append(time.perf_counter() - started)
    results["capacity_domain_only"] = {"median_ms": median_ms(seconds), "samples": len(load)}

    for name, run in (
        (
            "config_audit",
            lambda t: audit.run_config_audit(spec=spec, target=t, known_good=None, now=time.time()),
        ),
        ("security_review", lambda t: audit.run_security_review(spec=spec, target=t, now=time.time())),
    ):
        seconds, reads = [], 0
        for _ in range(RUNS):
            target = CountingTarget()
            started = time.perf_counter()
            await run(target)
            seconds.append(time.perf_counter() - started)
            reads = target.reads
        results[name] = {"median_ms_without_api_latency": median_ms(seconds), "api_reads": reads}
    client.close()
    return results


def main() -> None:
    with prometheus_url() as url:
        results = asyncio.run(measure(url))
    out = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "runs": RUNS, "results": results}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
