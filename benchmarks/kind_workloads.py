"""The kind stage's workload images (hack/kind/images.sh) and the scenarios on real Pods (tests/kind).

Run: ``.venv/bin/python -m benchmarks.kind_workloads`` (warm: everything cached, median of 3 runs of
images.sh), or with ``--cold-images`` to delete chatapp:1.0/1.1 and the Prometheus image first and time
one rebuild of every Dockerfile step (MO_IMAGE_NO_CACHE=1) from the cached inputs. The Prometheus
binary's first Go build is reported by the script itself (MO_KIND_REPORT). Per-scenario timings, in
seconds after the fault's injection (breach seen in Prometheus, Remediation detected, Executing,
Verifying, verified), are the medians of what ``make e2e-kind`` appended to .kind/timings.jsonl.
Writes benchmarks/results/kind_workloads.json.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hack"))
import docker_engine  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "kind_workloads.json"
TIMINGS = Path(os.environ.get("MO_KIND_DIR") or ROOT / ".kind") / "timings.jsonl"
RUNS = 3


def images(env: dict[str, str] | None = None) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        started = time.perf_counter()
        subprocess.run(
            [str(ROOT / "hack" / "kind" / "images.sh")],
            env={**(env or os.environ), "MO_KIND_REPORT": out.name},
            check=True,
            capture_output=True,
        )
        result: dict[str, Any] = json.loads(Path(out.name).read_text())
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    return result


def scenarios() -> dict[str, dict[str, float]]:
    """Median seconds after injection per scenario and stage, from the e2e runs' timings."""
    stages: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    runs: dict[str, int] = defaultdict(int)
    if TIMINGS.exists():
        for line in TIMINGS.read_text().splitlines():
            row = json.loads(line)
            runs[row["scenario"]] += 1
            for stage, value in row.items():
                if stage not in ("scenario", "at"):
                    stages[row["scenario"]][stage].append(float(value))
    return {
        name: {stage: statistics.median(values) for stage, values in by_stage.items()} | {"runs": runs[name]}
        for name, by_stage in stages.items()
    }


def main(*, cold: bool) -> dict[str, Any]:
    previous: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    result: dict[str, Any] = {"cold_images": previous.get("cold_images")}
    if cold:
        refs = subprocess.run(
            [str(ROOT / "hack" / "kind" / "images.sh"), "--print"], capture_output=True, text=True, check=True
        ).stdout
        env = docker_engine.environment(docker_engine.host())
        for line in refs.splitlines():
            ref = line.split("=", 1)[1]
            subprocess.run(["docker", "rmi", "-f", ref], env=env, capture_output=True, check=False)
        result["cold_images"] = images({**os.environ, "MO_IMAGE_NO_CACHE": "1"})
    warm = [images() for _ in range(RUNS)]
    result |= {
        "warm_images_median_seconds": statistics.median(w["wall_seconds"] for w in warm),
        "chatapp_size_bytes": warm[-1]["chatapp_size_bytes"],
        "prometheus_size_bytes": warm[-1]["prometheus_size_bytes"],
        "scenarios": scenarios(),
        "runs": RUNS,
        "load_average_1m": round(os.getloadavg()[0], 1),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(cold="--cold-images" in sys.argv[1:]), indent=2))
