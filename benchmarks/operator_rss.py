"""Operator memory: peak RSS of a bare import, and the operator's RSS while it serves 1 and 100 policies.

Run: ``PYTHONPATH=operator .venv/bin/python -m benchmarks.operator_rss``. Uses the local test cluster in
``$MO_CLUSTER_DIR`` (default .cluster) and starts it if it is not up. Writes
benchmarks/results/operator_rss.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hack"))
import chatapp_stack as stack_lib  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "operator_rss.json"
NAMESPACE = "bench-rss"
SETTLE_SECONDS = 45


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def import_peak_mb(module: str) -> float:
    code = f"import resource, {module}; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ}
    ).stdout
    return int(out.strip()) / 1024


def cluster() -> stack_lib.Stack:
    directory = Path(os.environ.get("MO_CLUSTER_DIR", ROOT / ".cluster"))
    env = directory / "cluster.env"
    if not env.exists():
        subprocess.run(
            [str(ROOT / "hack" / "cluster" / "up.sh")],
            check=True,
            env={**os.environ, "MO_CLUSTER_DIR": str(directory)},
        )
    return stack_lib.Stack.from_env_file(env)


def measure(stack: stack_lib.Stack, policies: int) -> dict[str, Any]:
    api = stack.api()
    namespace = f"{NAMESPACE}-{policies}"
    stack_lib.deploy_chatapp(api, namespace)
    for i in range(policies):
        body = stack_lib.demo_policy(namespace, schedule={"healthCheck": "1m", "performanceAnalysis": "5m"})
        body["metadata"]["name"] = f"chatapp-{i:03d}"
        stack_lib.create(api, "maintenancepolicies", namespace, body)
    operator = stack_lib.OperatorProcess(
        stack,
        namespaces=[namespace],
        log_path=ROOT / ".demo" / f"bench-rss-{policies}.log",
        extra_env={"MAINTENANCE_OPERATOR_WEBHOOK_MODE": "none", "MAINTENANCE_OPERATOR_METRICS_PORT": "0"},
    ).start()
    assert operator.process is not None
    samples = []
    try:
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            samples.append(rss_mb(operator.process.pid))
            time.sleep(1)
        assessed = sum(
            1
            for a in stack_lib.items(api, "healthassessments", namespace)
            if (a.get("status") or {}).get("phase")
        )
    finally:
        operator.stop()
        subprocess.run(
            ["kubectl", "--kubeconfig", stack.kubeconfig, "delete", "namespace", namespace, "--wait=false"],
            capture_output=True,
            check=False,
        )
    return {
        "policies": policies,
        "rss_mb_last": round(samples[-1], 1),
        "rss_mb_max": round(max(samples), 1),
        "assessments_completed": assessed,
    }


def main() -> None:
    stack = cluster()
    subprocess.run(
        ["kubectl", "--kubeconfig", stack.kubeconfig, "apply", "-f", str(ROOT / "crds")],
        capture_output=True,
        check=True,
    )
    results = {
        "import_peak_rss_mb": {
            m: round(import_peak_mb(m), 1)
            for m in ("pydantic", "kopf", "maintenance_operator.handlers", "anthropic")
        },
        "operator": [measure(stack, 1), measure(stack, 100)],
    }
    one, hundred = results["operator"]
    results["rss_ratio_100_to_1"] = round(hundred["rss_mb_last"] / one["rss_mb_last"], 2)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
