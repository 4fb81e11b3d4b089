"""Time and Prometheus queries per assessment of the sample policy against a real Prometheus.

Run: ``PYTHONPATH=operator .venv/bin/python -m benchmarks.assessment``. Uses ``$PROMETHEUS_URL`` if set
(e.g. the local test cluster); otherwise starts its own Prometheus scraping a loopback exporter with
healthy Chat App series. Also measures one query's latency through both adapters (requests directly vs
prometheus-api-client), for docs/decisions.md. Writes benchmarks/results/assessment.json.
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

from tests.fixtures.chatapp_series import sample_policy, serve_chatapp, wait_for_rates
from tests.fixtures.prometheus import MetricsExporter, running_prometheus

from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import promql
from maintenance_operator.reconcilers import assess as assessor

RUNS = 20
RESULTS = Path(__file__).resolve().parent / "results" / "assessment.json"


@contextlib.contextmanager
def prometheus_url() -> Iterator[str]:
    if os.environ.get("PROMETHEUS_URL"):
        yield os.environ["PROMETHEUS_URL"]
        return
    exporter = MetricsExporter()
    try:
        with running_prometheus(exporter) as server:
            serve_chatapp(exporter, deployment="chatapp")
            wait_for_rates(server, "chatapp")
            yield server.url
    finally:
        exporter.close()


async def time_assessments(url: str, analysis: api.AnalysisKind) -> dict[str, Any]:
    spec = sample_policy(deployment="chatapp", lookback="10m")
    client = prom.HttpPrometheus(url, timeout=10)
    seconds, queries = [], []
    for _ in range(RUNS):
        started = time.perf_counter()
        out = await assessor.assess(
            policy=spec,
            namespace="chatapp",
            analysis=analysis,
            prometheus=client,
            states=[],
            now=datetime.now(UTC),
        )
        seconds.append(time.perf_counter() - started)
        queries.append(out.queries)
    return {
        "median_seconds": round(statistics.median(seconds), 4),
        "max_seconds": round(max(seconds), 4),
        "queries": statistics.median(queries),
        "phase": out.status.phase.value if out.status.phase else None,
        "overall_score": out.status.overall_score,
    }


def time_adapters(url: str) -> dict[str, float]:
    spec = sample_policy(deployment="chatapp")
    queries = [promql.substitute(i.query, namespace="chatapp", deployment="chatapp") for i in spec.indicators]
    out = {}
    for name, client in (
        ("requests", prom.HttpPrometheus(url, timeout=10)),
        ("prometheus_api_client", prom.ApiClientPrometheus(url, timeout=10)),
    ):
        samples = []
        for _ in range(RUNS):
            for q in queries:
                started = time.perf_counter()
                client.query_sync(q)
                samples.append(time.perf_counter() - started)
        out[f"{name}_median_ms_per_query"] = round(statistics.median(samples) * 1000, 3)
    return out


def main() -> None:
    with prometheus_url() as url:
        result: dict[str, Any] = {
            "runs": RUNS,
            "health_check": asyncio.run(time_assessments(url, api.AnalysisKind.HEALTH_CHECK)),
            "performance_analysis": asyncio.run(time_assessments(url, api.AnalysisKind.PERFORMANCE_ANALYSIS)),
            "adapters": time_adapters(url),
            "prometheus": "PROMETHEUS_URL" if os.environ.get("PROMETHEUS_URL") else "local loopback (1 pod)",
        }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for kind in ("health_check", "performance_analysis"):
        r = result[kind]
        print(
            f"{kind}: median {r['median_seconds'] * 1000:.1f} ms, {r['queries']} queries, phase {r['phase']}"
        )
    for key, value in result["adapters"].items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
