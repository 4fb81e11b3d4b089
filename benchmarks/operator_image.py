"""The operator image built by `docker build` from the Dockerfile with no registry (hack/images/operator.sh).

Run: ``.venv/bin/python -m benchmarks.operator_image`` (warm: the base, wheelhouse and Dockerfile frontend
are cached, every Dockerfile step runs again with --no-cache; median of 3), or with ``--cold`` to delete the
cached inputs first and time one build from nothing (mmdebstrap, pip wheel, the frontend's Go build,
docker build).
Writes benchmarks/results/operator_image.json; a cold result stays there until the next ``--cold`` run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hack"))
import docker_engine  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "operator_image.json"
SCRIPT = ROOT / "hack" / "images" / "operator.sh"
TAG = "maintenance-operator:bench"
RUNS = 3


def build(env: dict[str, str], **extra: str) -> dict[str, Any]:
    """One run of the script; its own report plus the wall time around it."""
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        started = time.perf_counter()
        subprocess.run(
            [str(SCRIPT), TAG],
            env={**env, **extra, "MO_IMAGE_REPORT": report.name},
            check=True,
            capture_output=True,
        )
        seconds = time.perf_counter() - started
        result: dict[str, Any] = json.loads(Path(report.name).read_text())
    result["total_seconds"] = round(seconds, 1)
    return result


def drop_cached_inputs(env: dict[str, str], report: dict[str, Any]) -> None:
    for image in (report["base_image"], report["builder_image"], "docker/dockerfile:1"):
        subprocess.run(["docker", "rmi", "-f", image], env=env, capture_output=True, check=False)


def main(*, cold: bool) -> dict[str, Any]:
    env = docker_engine.environment(docker_engine.host())
    first = build(env)  # makes sure every input exists (and tells their names)
    previous: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    result: dict[str, Any] = {"cold": previous.get("cold")}
    if cold:
        drop_cached_inputs(env, first)
        run = build(env)
        result["cold"] = {k: run[k] for k in ("total_seconds", "inputs_seconds", "docker_build_seconds")}
    warm = [build(env, MO_IMAGE_NO_CACHE="1") for _ in range(RUNS)]
    size = warm[-1]["size_bytes"]
    base = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Size}}", first["base_image"]],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result |= {
        "warm_no_cache_median_seconds": round(statistics.median(r["total_seconds"] for r in warm), 1),
        "cached_rebuild_seconds": build(env)["total_seconds"],
        "runs": RUNS,
        "image_mb": round(size / 1e6, 1),
        "base_mb": round(int(base) / 1e6, 1),
        "base": "Debian bookworm python3 3.11 (mmdebstrap minbase, python3-pip) for python:3.11-slim",
        "load_average_1m": round(os.getloadavg()[0], 1),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(cold="--cold" in sys.argv[1:]), indent=2))
