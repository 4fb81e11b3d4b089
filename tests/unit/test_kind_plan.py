"""hack/kind/plan.sh: which images the kind stage builds or pulls, chosen by MO_IMAGE_ONLINE.

The functions run for real (bash), as the scripts that source them run them; nothing is built or pulled.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KIND = ROOT / "hack" / "kind"
PLAN = KIND / "plan.sh"
PROMETHEUS_MANIFEST = KIND / "manifests" / "prometheus.yaml"
# up.sh's cluster configuration before the setting existed: offline must stay exactly this.
OFFLINE_CLUSTER_CONFIG = """kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  disableDefaultCNI: true
  podSubnet: 10.244.0.0/16
nodes:
  - role: control-plane
    image: IMAGE
kubeadmConfigPatches:
  - |
    kind: KubeletConfiguration
    cgroupDriver: cgroupfs
    failCgroupV1: false
"""


def run(args: list[str], *, online: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MO_IMAGE_ONLINE"}
    if online is not None:
        env["MO_IMAGE_ONLINE"] = online
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, check=False)


def sourced(call: str, *, online: str | None) -> str:
    """Run one plan.sh function in a bash that sourced it, as the kind scripts do."""
    script = f'source "{ROOT}/hack/cluster/lib.sh"; source "{PLAN}"; {call}'
    proc = run(["bash", "-euo", "pipefail", "-c", script], online=online)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def plan(*, online: str | None) -> dict[str, str]:
    proc = run([str(PLAN)], online=online)
    assert proc.returncode == 0, proc.stderr
    return dict(line.split("=", 1) for line in proc.stdout.splitlines())


def pinned(name: str) -> str:
    text = (ROOT / "hack" / "cluster" / "lib.sh").read_text() + PLAN.read_text()
    match = re.search(rf"^{name}=(\S+)", text, re.MULTILINE)
    assert match, name
    return match.group(1)


@pytest.mark.parametrize("online", [None, "", "0"])
def test_offline_by_default_builds_everything_and_pulls_nothing(online: str | None) -> None:
    found = plan(online=online)
    assert found["MO_IMAGE_ONLINE"] == "0"
    assert found["PULLS"] == ""
    assert {found[k] for k in found if k.endswith("_FROM")} == {"build", "docker-build"}
    k8s = pinned("K8S_VERSION")
    assert found["KUBERNETES_VERSION"] == k8s
    # the node image is the one node-image.sh builds and up.sh starts
    tag = run([str(KIND / "node-image.sh"), "--tag"], online=online).stdout.strip()
    assert found["NODE_IMAGE"] == tag
    assert tag.startswith(f"mo-local/kind-node:{k8s}-")
    assert found["CNI"] == "ptp"
    assert found["PROMETHEUS_IMAGE"] == f"mo-local/prometheus:{pinned('PROMETHEUS_MODULE_VERSION')}"


def test_online_pulls_the_official_images_pinned() -> None:
    found = plan(online="1")
    node = found["NODE_IMAGE"]
    # kind v0.33.0's published node for the pinned minor, by tag and digest
    match = re.fullmatch(r"kindest/node:(v\d+\.\d+\.\d+)@sha256:[0-9a-f]{64}", node)
    assert match, node
    assert pinned("KIND_VERSION") == "v0.33.0"
    assert match.group(1).rsplit(".", 1)[0] == pinned("K8S_VERSION").rsplit(".", 1)[0] == "v1.34"
    assert found["KUBERNETES_VERSION"] == match.group(1)
    assert run([str(KIND / "node-image.sh"), "--tag"], online="1").stdout.strip() == node
    assert found["NODE_IMAGE_FROM"] == "pull"
    assert found["CNI"] == "kindnet"
    # the Chat App builds FROM the operator Dockerfile's own default base, pulled like it
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"ARG PYTHON_IMAGE={found['PYTHON_IMAGE']}\n" in dockerfile
    assert found["PYTHON_IMAGE"].startswith("python:3.11-slim")
    assert found["BUILDER_IMAGE"] == found["PYTHON_IMAGE"]
    # Prometheus: the release of the pinned Go module (v0.3XX.Y is Prometheus v3.XX.Y)
    module = re.fullmatch(r"v0\.3(\d\d)\.(\d+)", pinned("PROMETHEUS_MODULE_VERSION"))
    assert module
    release = f"v3.{int(module.group(1))}.{module.group(2)}"
    assert found["PROMETHEUS_IMAGE"] == f"prom/prometheus:{release}"
    assert found["PULLS"].split() == [
        node,
        found["PYTHON_IMAGE"],
        "docker/dockerfile:1",
        found["PROMETHEUS_IMAGE"],
    ]
    # the operator and Chat App images are still built (from the same Dockerfiles), never pulled
    assert found["OPERATOR_IMAGE_FROM"] == found["CHATAPP_IMAGES_FROM"] == "docker-build"


@pytest.mark.parametrize("value", ["yes", "true", "2", "on"])
def test_a_value_other_than_0_or_1_is_refused_by_every_script(value: str) -> None:
    for args in ([str(PLAN)], [str(KIND / "node-image.sh"), "--tag"], [str(KIND / "images.sh"), "--print"]):
        proc = run(args, online=value)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "MO_IMAGE_ONLINE must be 0 or 1" in proc.stderr


def test_offline_cluster_config_is_unchanged() -> None:
    out = sourced("plan_cluster_config IMAGE", online=None)
    assert out == OFFLINE_CLUSTER_CONFIG


def test_online_cluster_config_keeps_kinds_defaults() -> None:
    node = plan(online="1")["NODE_IMAGE"]
    config = yaml.safe_load(sourced(f"plan_cluster_config '{node}'", online="1"))
    assert config["nodes"] == [{"role": "control-plane", "image": node}]
    # kindnet (kind's default CNI) and the node image's own kubelet cgroup driver
    assert "disableDefaultCNI" not in config["networking"]
    assert "kubeadmConfigPatches" not in config


def test_prometheus_manifest_offline_is_the_file_and_online_only_swaps_the_image() -> None:
    original = PROMETHEUS_MANIFEST.read_text()
    call = f"plan_prometheus_manifest '{PROMETHEUS_MANIFEST}'"
    assert sourced(call, online="0") == original
    online = sourced(call, online="1")
    changed = [(a, b) for a, b in zip(original.splitlines(), online.splitlines(), strict=True) if a != b]
    offline_line = f"          image: mo-local/prometheus:{pinned('PROMETHEUS_MODULE_VERSION')}"
    assert changed == [(offline_line, "          image: " + plan(online="1")["PROMETHEUS_IMAGE"])]
    deployments = [d for d in yaml.safe_load_all(online) if d["kind"] == "Deployment"]
    images = [c["image"] for d in deployments for c in d["spec"]["template"]["spec"]["containers"]]
    assert images == ["prom/prometheus:v3.16.0"]


@pytest.mark.parametrize("online", ["0", "1"])
def test_images_print_names_the_planned_prometheus(online: str) -> None:
    proc = run([str(KIND / "images.sh"), "--print"], online=online)
    assert proc.returncode == 0, proc.stderr
    printed = dict(line.split("=", 1) for line in proc.stdout.splitlines())
    assert printed["PROMETHEUS_IMAGE"] == plan(online=online)["PROMETHEUS_IMAGE"]
    assert (printed["CHATAPP_IMAGE"], printed["CHATAPP_BAD_IMAGE"]) == ("chatapp:1.0", "chatapp:1.1")
