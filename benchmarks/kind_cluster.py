"""The kind node image and cluster start, offline (hack/kind/node-image.sh, hack/kind/up.sh).

Run: ``.venv/bin/python -m benchmarks.kind_cluster`` (warm: node image cached; the cluster is deleted and
created again, median of 3), or with ``--cold-image`` to delete the cached node image first and time one
rebuild of it from the cached binaries and root filesystems (the per-stage seconds come from the script).
The first build on a machine (Go builds of kubelet, kubeadm, kubectl, kube-proxy, CoreDNS, kind, crictl and
mmdebstrap of the root filesystems) is reported by the script itself with MO_KIND_REPORT.
``--cold-provisioner`` only times the cold Go build of local-path-provisioner (the node's default storage)
into a throwaway cache directory (the shared Go module cache stays warm; the shared binaries are untouched).
Writes benchmarks/results/kind_cluster.json; a cold result stays there until the next ``--cold-image`` (or
``--cold-provisioner``) run.
A cluster this benchmark finds running (in its own state directory) is left as it found it: it uses
MO_KIND_DIR=.kind-bench.
"""

from __future__ import annotations

import json
import os
import re
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

RESULTS = ROOT / "benchmarks" / "results" / "kind_cluster.json"
KIND_DIR = ROOT / ".kind-bench"
RUNS = 3


def run(script: str, *, report: bool = True) -> dict[str, Any]:
    """One run of a hack/kind script with its JSON report, plus the wall time around it."""
    env = {**os.environ, "MO_KIND_DIR": str(KIND_DIR)}
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        if report:
            env["MO_KIND_REPORT"] = out.name
        started = time.perf_counter()
        subprocess.run([str(ROOT / "hack" / "kind" / script)], env=env, check=True, capture_output=True)
        seconds = time.perf_counter() - started
        result: dict[str, Any] = json.loads(Path(out.name).read_text()) if report else {}
    result["wall_seconds"] = round(seconds, 1)
    return result


def cold_provisioner() -> dict[str, Any]:
    """hack/cluster/build.sh building local-path-provisioner alone into an empty cache directory."""
    lib = (ROOT / "hack" / "cluster" / "lib.sh").read_text()
    version = re.search(r"^LOCAL_PATH_PROVISIONER_VERSION=(\S+)", lib, re.MULTILINE)
    assert version, "LOCAL_PATH_PROVISIONER_VERSION not in hack/cluster/lib.sh"
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "MO_CACHE_DIR": cache, "MO_BUILD_ONLY": "local-path-provisioner"}
        load = os.getloadavg()[0]
        started = time.perf_counter()
        subprocess.run(
            [str(ROOT / "hack" / "cluster" / "build.sh"), "--node"], env=env, check=True, capture_output=True
        )
        seconds = time.perf_counter() - started
        size = (
            Path(cache) / "bin" / f"local-path-provisioner-{version.group(1)}" / "local-path-provisioner"
        ).stat()
    return {
        "version": version.group(1),
        "seconds": round(seconds, 1),
        "binary_bytes": size.st_size,
        "load_average_1m_before": round(load, 1),
        "load_average_1m_after": round(os.getloadavg()[0], 1),
    }


def main(*, cold_image: bool) -> dict[str, Any]:
    previous: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    result: dict[str, Any] = {k: previous.get(k) for k in ("cold_image", "cold_provisioner")}
    image = run("node-image.sh")["node_image"]
    if cold_image:
        subprocess.run(
            ["docker", "rmi", "-f", image],
            env=docker_engine.environment(docker_engine.host(privileged=True)),
            capture_output=True,
            check=False,
        )
        result["cold_image"] = run("node-image.sh")
    starts = []
    for _ in range(RUNS):
        run("down.sh", report=False)
        starts.append(run("up.sh"))
    run("down.sh", report=False)
    result |= {
        "node_image": image,
        "cached_node_image_seconds": run("node-image.sh")["wall_seconds"],
        "cluster_start_median_seconds": round(statistics.median(s["wall_seconds"] for s in starts), 1),
        "create_median_seconds": statistics.median(s["create_seconds"] for s in starts),
        "ready_median_seconds": statistics.median(s["ready_seconds"] for s in starts),
        "runs": RUNS,
        "load_average_1m": round(os.getloadavg()[0], 1),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    if "--cold-provisioner" in sys.argv[1:]:
        recorded: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        recorded["cold_provisioner"] = cold_provisioner()
        RESULTS.write_text(json.dumps(recorded, indent=2) + "\n")
        print(json.dumps(recorded["cold_provisioner"], indent=2))
    else:
        print(json.dumps(main(cold_image="--cold-image" in sys.argv[1:]), indent=2))
