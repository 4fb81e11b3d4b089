"""The operator Pod on kind: its process's RSS, idle and while it remediates, and its image in the node.

Run (a kind cluster lives for the whole run: hold the shared lock, as hack/kind/e2e.sh's callers do):
``flock /tmp/mo-kind.lock .venv/bin/python -m benchmarks.kind_operator``. It starts its own cluster in
``.kind-bench-operator`` (hack/kind/up.sh), installs the operator, Prometheus and the images with
hack/kind/install.sh, and deletes the cluster at the end (one it finds running there is reused and kept).

1. one MaintenancePolicy on a healthy Chat App (2 Pods, load from its load generator): the operator's RSS
   sampled every SAMPLE_SECONDS for IDLE_SAMPLES samples after SETTLE_SECONDS;
2. the memory-leak scenario of tests/kind/test_memory_leak.py (its policy, auto-approved restart): the RSS
   sampled from the leak's start until the Remediation ends.
The RSS is VmRSS of the operator's process (the container's init process, found with crictl inside the node);
the cgroup's memory.usage_in_bytes (cgroup v1) is recorded beside it. Medians and maxima, with the load
average.
Image size: the operator image's size in the node's containerd (``crictl images``: the content `kind load`
imported, i.e. ``docker save``'s uncompressed layer tars) and in the Docker engine it was loaded from
(``docker image inspect``: unpacked).
Writes benchmarks/results/kind_operator.json.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from tests.fixtures import kind as kind_lib

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "kind_operator.json"
KIND_DIR = ROOT / ".kind-bench-operator"
OPERATOR_IMAGE = "maintenance-operator:kind"
SETTLE_SECONDS = 60
IDLE_SAMPLES = 12
SAMPLE_SECONDS = 5
MIB = 1024 * 1024
stack_lib = kind_lib.stack_lib


def script(name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "hack" / "kind" / name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=True,
    )


class Node:
    """The kind node container, read with `docker exec` (crictl and /proc inside it)."""

    def __init__(self, name: str, host: str) -> None:
        self.name = name
        self.env = kind_lib.docker_engine.environment(host)

    def exec(self, *args: str) -> str:
        return subprocess.run(
            ["docker", "exec", self.name, *args], env=self.env, capture_output=True, text=True, check=True
        ).stdout

    def operator_pid(self) -> int:
        container = self.exec("crictl", "ps", "--name", "^operator$", "--state", "Running", "-q").split()
        if len(container) != 1:
            raise RuntimeError(f"expected one running operator container, got {container}")
        info = json.loads(self.exec("crictl", "inspect", container[0]))["info"]
        return int(info["pid"])

    def sample(self, pid: int) -> dict[str, float]:
        status = self.exec("cat", f"/proc/{pid}/status")
        rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        found = {"rss_mb": round(rss_kb / 1024, 1)}
        # The container's memory cgroup (v1) as the node mounts it: best effort, the path layout varies.
        cgroup = self.exec("cat", f"/proc/{pid}/cgroup")
        memory_path = next((line.split(":", 2)[2] for line in cgroup.splitlines() if ":memory:" in line), "")
        for path in (memory_path, "/" + memory_path.split("/kubepods", 1)[-1].lstrip("/")):
            try:
                usage = int(self.exec("cat", f"/sys/fs/cgroup/memory{path}/memory.usage_in_bytes"))
            except (subprocess.CalledProcessError, ValueError):
                continue
            found["cgroup_usage_mb"] = round(usage / MIB, 1)
            break
        return found

    def image_bytes(self, ref: str) -> int:
        images = json.loads(self.exec("crictl", "images", "-o", "json"))["images"]
        for image in images:
            if any(tag.endswith(ref) for tag in image.get("repoTags") or []):
                return int(image["size"])
        raise RuntimeError(f"{ref} not in the node's containerd")


def summary(samples: list[dict[str, float]]) -> dict[str, Any]:
    rss = [s["rss_mb"] for s in samples]
    usage = [s["cgroup_usage_mb"] for s in samples if "cgroup_usage_mb" in s]
    return {
        "samples": len(samples),
        "rss_median_mb": round(statistics.median(rss), 1),
        "rss_max_mb": max(rss),
        "cgroup_usage_median_mb": round(statistics.median(usage), 1) if usage else None,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def idle(kind: kind_lib.KindCluster, node: Node, namespace: str) -> dict[str, Any]:
    stack_lib.create(kind.api(), "maintenancepolicies", namespace, kind_lib.demo_policy(namespace))
    time.sleep(SETTLE_SECONDS)
    pid = node.operator_pid()
    samples = []
    for _ in range(IDLE_SAMPLES):
        samples.append(node.sample(pid))
        time.sleep(SAMPLE_SECONDS)
    return summary(samples)


def remediating(kind: kind_lib.KindCluster, node: Node, namespace: str) -> dict[str, Any]:
    """The memory-leak scenario's policy and fault, sampled until its Remediation ends."""
    api = kind.api()
    policy = kind_lib.demo_policy(
        namespace,
        severityRouting={"high": "AutoResolve"},
        autoApprove={"severities": ["critical", "high"], "maxRisk": "High"},
    )
    stack_lib.create(api, "maintenancepolicies", namespace, policy)
    pid = node.operator_pid()
    samples: list[dict[str, float]] = []
    stop = threading.Event()

    def sampler() -> None:
        while not stop.is_set():
            samples.append(node.sample(pid))
            stop.wait(SAMPLE_SECONDS)

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    try:
        for pod in kind_lib.app_pods(kind, namespace):
            kind_lib.leak(
                kind, namespace, pod["metadata"]["name"], bytes_per_second=4 * MIB, limit_fraction=0.95
            )
        stack_lib.wait_for(
            lambda: (kind_lib.memory_ratio(kind, namespace) or 0) > 0.9, timeout=90, what="the leak past 90%"
        )
        stack_lib.request_assessment(api, namespace, f"bench-{uuid.uuid4().hex[:6]}")
        rem = kind_lib.remediation_for(kind, namespace, "memory-usage")
        timeline = kind_lib.Timeline("bench_memory_leak")
        rem = kind_lib.follow(kind, namespace, rem["metadata"]["name"], timeline)
    finally:
        stop.set()
        thread.join()
    return summary(samples) | {"remediation_phase": rem["status"]["phase"]}


def main() -> dict[str, Any]:
    env = {**os.environ, "MO_KIND_DIR": str(KIND_DIR)}
    existed = (KIND_DIR / "name").exists()
    load_before = round(os.getloadavg()[0], 2)
    script("up.sh", env)
    try:
        host = (KIND_DIR / "docker-host").read_text().strip()
        cluster = (KIND_DIR / "name").read_text().strip()
        kubeconfig = KIND_DIR / "kubeconfig"
        os.environ["MO_KIND_DIR"] = str(KIND_DIR)
        os.environ["PATH"] = f"{KIND_DIR / 'bin'}:{os.environ['PATH']}"
        kind = kind_lib.installed(kubeconfig, docker_host=host)
        node = Node(f"{cluster}-control-plane", host)
        unpacked = subprocess.run(
            ["docker", "image", "inspect", "-f", "{{.Size}}", OPERATOR_IMAGE],
            env=node.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        result: dict[str, Any] = {
            "image": {
                "ref": OPERATOR_IMAGE,
                "node_containerd_mb": round(node.image_bytes(OPERATOR_IMAGE) / 1e6, 1),
                "docker_unpacked_mb": round(int(unpacked) / 1e6, 1),
            },
            "load_average_1m_at_start": load_before,
        }
        namespace = f"bench-op-{uuid.uuid4().hex[:6]}"
        kind_lib.deploy_chatapp(kind, namespace)
        try:
            result["idle_one_policy"] = idle(kind, node, namespace)
        finally:
            stack_lib.delete_namespace(kind.api(), namespace)
        namespace = f"bench-leak-{uuid.uuid4().hex[:6]}"
        kind_lib.deploy_chatapp(kind, namespace)
        try:
            result["memory_leak_remediation"] = remediating(kind, node, namespace)
        finally:
            stack_lib.delete_namespace(kind.api(), namespace)
    finally:
        if not existed and os.environ.get("KEEP_KIND", "0") != "1":
            subprocess.run([str(ROOT / "hack" / "kind" / "down.sh")], env=env, check=False, timeout=600)
    result["sample_seconds"] = SAMPLE_SECONDS
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
