"""Kubernetes API calls per scheduled assessment, by verb and resource, at the API server.

N MaintenancePolicies (10 per namespace) on one operator process, offline planner, a short schedule so
that every policy is assessed several times in the window. After a warm-up (the start's resume writes),
the API server's ``apiserver_request_total`` is read before and after the window; the difference per
(verb, resource, subresource), for the resources the operator touches, divided by the assessments that
completed in the window is the cost of one assessment. The cluster is this checkout's own local cluster
(no other client writes those resources); watches are listed apart (one per kind, not per assessment).

Run: ``PYTHONPATH=operator .venv/bin/python -m benchmarks.api_calls [N] [label]`` (default 20, "").
Knobs: MO_BENCH_WINDOW (seconds counted, default 180), MO_BENCH_WARMUP (default 60), MO_BENCH_HEALTH
(health-check interval, default 1m). Writes benchmarks/results/api_calls.json (key "<N>-<label>").
"""

from __future__ import annotations

import collections
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from kubernetes import client

from benchmarks import fleet_schedule, operator_rss

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "api_calls.json"
WINDOW = float(os.environ.get("MO_BENCH_WINDOW", "180"))
WARMUP = float(os.environ.get("MO_BENCH_WARMUP", "60"))
HEALTH = os.environ.get("MO_BENCH_HEALTH", "1m")
#: What the operator reads and writes; other resources (nodes, pods of kwok, the control plane's
#: leader-election Leases: the operator takes a Lease only to execute a Remediation) are the cluster's own.
RESOURCES = {
    "healthassessments",
    "maintenancepolicies",
    "remediations",
    "maintenancereports",
    "events",
    "secrets",
    "configmaps",
    "deployments",
    "replicasets",
    "horizontalpodautoscalers",
}
_LINE = re.compile(r"^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$")
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def requests_by_call(api: client.ApiClient) -> collections.Counter[str]:
    """apiserver_request_total summed per "VERB resource[/subresource]" for RESOURCES."""
    counts: collections.Counter[str] = collections.Counter()
    for line in fleet_schedule.apiserver_metrics(api).splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        labels = dict(_LABEL.findall(match.group("labels")))
        if labels.get("resource") not in RESOURCES:
            continue
        sub = f"/{labels['subresource']}" if labels.get("subresource") else ""
        counts[f"{labels.get('verb')} {labels['resource']}{sub}"] += float(match.group("value"))
    return counts


def measure(stack: Any, policies: int) -> dict[str, Any]:
    api = stack.api()
    prefix = f"bench-calls-{policies}"
    fleet_schedule.wait_gone(api, prefix + "-")
    fleet_schedule.HEALTH = HEALTH
    namespaces = fleet_schedule.create_fleet(api, policies, prefix)
    port = fleet_schedule._free_port()
    env = {
        "MAINTENANCE_OPERATOR_WEBHOOK_MODE": "none",
        "MAINTENANCE_OPERATOR_METRICS_PORT": str(port),
        "MAINTENANCE_OPERATOR_LOG_LEVEL": "WARNING",
        "MAINTENANCE_OPERATOR_SCHEDULE_SPREAD_SECONDS": str(fleet_schedule.stack_lib_seconds(HEALTH)),
    }
    operator = fleet_schedule.stack_lib.OperatorProcess(
        stack, namespaces=[], log_path=ROOT / ".demo" / f"{prefix}.log", extra_env=env
    ).start()
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        time.sleep(WARMUP)
        before = requests_by_call(api)
        own_before = fleet_schedule.sample(
            fleet_schedule.scrape(url), "maintenance_operator_api_requests_total"
        )
        started = time.time()
        time.sleep(WINDOW)
        after = requests_by_call(api)
        own_after = fleet_schedule.sample(
            fleet_schedule.scrape(url), "maintenance_operator_api_requests_total"
        )
        done = fleet_schedule.completed_in(api, namespaces, started, time.time())
    finally:
        operator.stop()
        fleet_schedule.release_finalizers(api, namespaces)
        fleet_schedule.delete_namespaces(stack.kubeconfig, namespaces)
    delta = {k: after[k] - before.get(k, 0.0) for k in after if after[k] - before.get(k, 0.0) > 0}
    per = {k: round(v / max(done, 1), 2) for k, v in sorted(delta.items()) if not k.startswith("WATCH")}
    return {
        "policies": policies,
        "health_check": HEALTH,
        "window_seconds": WINDOW,
        "assessments_completed": done,
        "calls_per_assessment": per,
        "calls_per_assessment_total": round(sum(per.values()), 2),
        "operator_client_calls_per_assessment": round((own_after - own_before) / max(done, 1), 2),
        "watches_started": {k: v for k, v in delta.items() if k.startswith("WATCH")},
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv if a.isdigit()] or [20]
    label = next((a for a in argv if not a.isdigit()), "")
    stack = operator_rss.cluster_with_crds()
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for size in sizes:
        entry = measure(stack, size)
        results[f"{size}-{label}" if label else str(size)] = entry
        print(json.dumps(entry, indent=2), flush=True)
        RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
