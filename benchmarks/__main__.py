"""`make bench`: every benchmark in turn; results land in benchmarks/results/*.json."""

from __future__ import annotations

import runpy

for module in (
    "benchmarks.prompt_tokens",
    "benchmarks.assessment",
    "benchmarks.analyses",
    "benchmarks.operator_rss",
    "benchmarks.image_size",
    "benchmarks.alert_latency",
    "benchmarks.prometheus_load",
    "benchmarks.api_load",
    "benchmarks.kube_clients",
):
    print(f"=== {module}", flush=True)
    runpy.run_module(module, run_name="__main__")
