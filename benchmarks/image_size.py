"""Image payload: what the Dockerfile's final stage installs, and how fast the operator imports from it.

Run: ``.venv/bin/python -m benchmarks.image_size``. Lays the image out with ``hack/image-rehearsal.sh``
(wheels from the Docker build context, installed into a fresh interpreter: the final stage minus the
python:3.11-slim base, which is the same for every Python image) and writes
benchmarks/results/image_size.json: wheel and installed sizes, the largest distributions, and the
median cold import time of the operator's handlers (5 runs, bytecode precompiled as in the image).
"""

from __future__ import annotations

import importlib.util
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
RESULTS = ROOT / "benchmarks" / "results" / "image_size.json"
RUNS = 5


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def distributions(site: Path) -> dict[str, float]:
    """Installed MB per distribution: the files of its RECORD plus the bytecode compileall made for them."""
    sizes: dict[str, float] = {}
    for info in site.glob("*.dist-info"):
        files: set[Path] = set()
        for line in (info / "RECORD").read_text().splitlines():
            path = (site / line.split(",")[0]).resolve()
            files.add(path)
            if path.suffix == ".py":
                files.add(Path(importlib.util.cache_from_source(str(path))))
        total = sum(p.stat().st_size for p in files if p.is_file())
        sizes[info.name.split("-")[0]] = round(total / 1e6, 1)
    return dict(sorted(sizes.items(), key=lambda item: -item[1]))


def import_seconds(python: Path, module: str) -> float:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", "HOME": tempfile.gettempdir()}
    started = time.perf_counter()
    subprocess.run([str(python), "-c", f"import {module}"], check=True, env=env, capture_output=True)
    return time.perf_counter() - started


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mo-image-") as tmp:
        out = Path(tmp) / "rehearsal"
        started = time.perf_counter()
        subprocess.run([str(ROOT / "hack" / "image-rehearsal.sh"), str(out)], check=True, capture_output=True)
        build_seconds = time.perf_counter() - started
        image = out / "image"
        site = next(image.glob("lib/python3*/site-packages"))
        python = image / "bin" / "python"
        dists = distributions(site)
        installed = size_mb(site)
        result: dict[str, Any] = {
            "python": sys.version.split()[0],
            "rehearsal_seconds": round(build_seconds, 1),
            "wheels_mb": round(size_mb(out / "wheels"), 1),
            "installed_mb": round(installed, 1),
            "distributions": len(dists),
            "largest_mb": dict(list(dists.items())[:6]),
            "kubernetes_share": round(dists.get("kubernetes", 0.0) / installed, 2),
            "import_median_seconds": {
                module: round(statistics.median(import_seconds(python, module) for _ in range(RUNS)), 3)
                for module in ("kopf", "maintenance_operator.handlers", "anthropic")
            },
            "runs": RUNS,
        }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
