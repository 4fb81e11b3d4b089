"""Prometheus's latency for an outside client while the operator queries at full load, bounded vs unbounded.

Run: ``PYTHONPATH=operator .venv/bin/python -m benchmarks.prometheus_load``. Starts its own Prometheus on
loopback scraping healthy Chat App series, then runs ``ASSESSMENTS`` performance analyses at once through
one ``QueryPool`` per limit while an outside process asks ``up`` every 50 ms on fresh connections.
Writes benchmarks/results/prometheus_load.json (medians and p99, never asserted).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from tests.fixtures import operator_load
from tests.fixtures.chatapp_series import serve_chatapp, wait_for_rates
from tests.fixtures.prometheus import MetricsExporter, running_prometheus

ASSESSMENTS = int(os.environ.get("ASSESSMENTS", "200"))
LIMITS = (8, 64, 512)
RESULTS = Path(__file__).resolve().parent / "results" / "prometheus_load.json"


def main() -> None:
    exporter = MetricsExporter()
    runs: list[dict[str, Any]] = []
    try:
        with running_prometheus(exporter) as server, tempfile.TemporaryDirectory() as scratch:
            serve_chatapp(exporter, deployment="chatapp")
            wait_for_rates(server, "chatapp")
            for limit in LIMITS:
                report = asyncio.run(
                    operator_load.run(
                        server.url,
                        assessments=ASSESSMENTS,
                        limit=limit,
                        stop_file=os.path.join(scratch, f"stop-{limit}"),
                    )
                )
                runs.append(report.summary())
                print(json.dumps(runs[-1]), flush=True)
    finally:
        exporter.close()
    result = {
        "assessments_at_once": ASSESSMENTS,
        "analysis": "performanceAnalysis of the sample policy",
        "prometheus": "local loopback, one process, 2 shared cores",
        "rate_limit": "off (qps=0): only the concurrency limit differs between runs",
        "runs": runs,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
