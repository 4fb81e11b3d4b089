"""Operator memory: peak RSS of a bare import, and the operator's RSS while it serves 1 and 100 policies.

Run: ``PYTHONPATH=operator .venv/bin/python -m benchmarks.operator_rss``. Uses the local test cluster in
``$MO_CLUSTER_DIR`` (default .cluster) and starts it if it is not up. Writes
benchmarks/results/operator_rss.json.

``python -m benchmarks.operator_rss idle LABEL [RUNS]`` measures only the one-policy operator, RUNS times
(default 3), and records under ``idle.LABEL`` the median RSS, each run's RSS, threads, anonymous vs
file-backed RSS, and the 1-minute load average at start and end. The operator inherits this
environment, so ``MALLOC_ARENA_MAX=2 python -m benchmarks.operator_rss idle arena2`` measures that setting.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
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


def proc_status(pid: int) -> dict[str, float]:
    """Threads and the split of RSS (MB) into anonymous (heap, stacks) and file-backed (code, libraries)."""
    wanted = {"VmRSS": "rss_mb", "RssAnon": "anon_mb", "RssFile": "file_mb", "Threads": "threads"}
    found: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in wanted:
            number = int(value.split()[0])
            found[wanted[key]] = number if key == "Threads" else round(number / 1024, 1)
    return found


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


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


def cluster_with_crds() -> stack_lib.Stack:
    """The local cluster (started if none runs) with the repository's CRDs applied."""
    stack = cluster()
    subprocess.run(
        ["kubectl", "--kubeconfig", stack.kubeconfig, "apply", "--server-side", "-f", str(ROOT / "crds")],
        capture_output=True,
        check=True,
    )
    return stack


def measure(stack: stack_lib.Stack, policies: int, *, profile: Path | None = None) -> dict[str, Any]:
    """The operator's RSS over SETTLE_SECONDS with `policies` policies; with `profile`, the operator runs
    under benchmarks/traced_operator.py (tracemalloc from after the imports) and its dump is written there."""
    api = stack.api()
    namespace = f"{NAMESPACE}-{policies}-{os.getpid()}-{time.monotonic_ns() % 10**6}"  # fresh per run
    stack_lib.deploy_chatapp(api, namespace)
    for i in range(policies):
        body = stack_lib.demo_policy(namespace, schedule={"healthCheck": "1m", "performanceAnalysis": "5m"})
        body["metadata"]["name"] = f"chatapp-{i:03d}"
        stack_lib.create(api, "maintenancepolicies", namespace, body)
    env = {"MAINTENANCE_OPERATOR_WEBHOOK_MODE": "none", "MAINTENANCE_OPERATOR_METRICS_PORT": "0"}
    command = None
    if profile is not None:
        command = [sys.executable, "-m", "benchmarks.traced_operator", "run"]
        env |= {
            "MO_TRACEMALLOC_OUT": str(profile),
            **{k: v for k, v in os.environ.items() if k in ("PATH", "MALLOC_ARENA_MAX")},
            "PYTHONPATH": f"{ROOT / 'operator'}:{ROOT}",
        }
    operator = stack_lib.OperatorProcess(
        stack,
        namespaces=[namespace],
        log_path=ROOT / ".demo" / f"bench-rss-{policies}.log",
        extra_env=env,
        command=command,
    ).start()
    assert operator.process is not None
    samples = []
    try:
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            samples.append(rss_mb(operator.process.pid))
            time.sleep(1)
        status = proc_status(operator.process.pid)
        if profile is not None:
            profile.unlink(missing_ok=True)
            operator.process.send_signal(signal.SIGUSR1)
            for _ in range(60):
                if profile.exists():
                    break
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
        "threads": status.get("threads"),
        "anon_mb": status.get("anon_mb"),
        "file_mb": status.get("file_mb"),
    }


def idle(stack: stack_lib.Stack, *, label: str, runs: int) -> dict[str, Any]:
    """The one-policy operator, `runs` fresh processes; the median is the number to quote."""
    load_start = load_average()
    measured = [measure(stack, 1) for _ in range(runs)]
    return {
        "rss_mb_median": round(statistics.median(m["rss_mb_last"] for m in measured), 1),
        "runs": measured,
        "malloc_arena_max": os.environ.get("MALLOC_ARENA_MAX"),
        "load_average_1m": [load_start, load_average()],
    }


def main() -> None:
    stack = cluster()
    subprocess.run(
        ["kubectl", "--kubeconfig", stack.kubeconfig, "apply", "-f", str(ROOT / "crds")],
        capture_output=True,
        check=True,
    )
    if sys.argv[1:2] == ["profile"]:  # where the idle operator's bytes are, after its imports
        profile = RESULTS.with_name(f"operator_rss_profile_{sys.argv[2]}.txt")
        print(json.dumps(measure(stack, 1, profile=profile), indent=2), f"profile: {profile}", sep="\n")
        return
    if sys.argv[1:2] == ["idle"]:
        label = sys.argv[2]
        result = idle(stack, label=label, runs=int(sys.argv[3]) if len(sys.argv) > 3 else 3)
        recorded = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        recorded.setdefault("idle", {})[label] = result
        RESULTS.write_text(json.dumps(recorded, indent=2) + "\n")
        print(json.dumps(result, indent=2))
        return
    results = {
        "import_peak_rss_mb": {
            m: round(import_peak_mb(m), 1)
            for m in ("pydantic", "kopf", "maintenance_operator.handlers", "anthropic")
        },
        "operator": [measure(stack, 1), measure(stack, 100)],
    }
    one, hundred = results["operator"]
    results["rss_ratio_100_to_1"] = round(hundred["rss_mb_last"] / one["rss_mb_last"], 2)
    if RESULTS.exists():  # keep the idle runs recorded by `idle LABEL`
        results["idle"] = json.loads(RESULTS.read_text()).get("idle", {})
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
