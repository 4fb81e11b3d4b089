"""hack/kind/up.sh starts a real cluster: a Ready node whose Pods run processes and resolve cluster DNS, with
kind's default storage (local-path-provisioner, built here) binding claims.

Every image in it was built on this machine (hack/kind/node-image.sh); the Pod here runs one of them
(the preloaded kube-proxy image, a Debian userland), never pulled.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kind.conftest import KindCluster

# The first run builds the node image (kubelet, kubeadm, kubectl, kube-proxy, CoreDNS, a Debian root
# filesystem) before the cluster starts: far above the default 600 s on 2 busy cores.
pytestmark = [pytest.mark.kind, pytest.mark.timeout(3600)]

ROOT = Path(__file__).resolve().parents[2]
K8S_VERSION = "v1.34.4"
IMAGE = f"registry.k8s.io/kube-proxy:{K8S_VERSION}"


@pytest.fixture
def namespace(kind_cluster: KindCluster) -> Iterator[str]:
    name = f"kind-smoke-{uuid.uuid4().hex[:8]}"
    kind_cluster.kubectl("create", "namespace", name)
    yield name
    kind_cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_single_node_is_ready_with_the_pinned_kubelet(kind_cluster: KindCluster) -> None:
    nodes = json.loads(kind_cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    assert len(nodes) == 1
    status = nodes[0]["status"]
    ready = {c["type"]: c["status"] for c in status["conditions"]}["Ready"]
    assert ready == "True", status["conditions"]
    assert status["nodeInfo"]["kubeletVersion"] == K8S_VERSION
    assert status["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")


def test_coredns_runs_from_the_preloaded_image(kind_cluster: KindCluster) -> None:
    out = kind_cluster.kubectl("-n", "kube-system", "get", "pods", "-l", "k8s-app=kube-dns", "-o", "json")
    pods = json.loads(out.stdout)["items"]
    assert pods, "no CoreDNS pods"
    for pod in pods:
        assert pod["status"]["phase"] == "Running"
        assert pod["spec"]["containers"][0]["image"] == "registry.k8s.io/coredns/coredns:v1.12.1"
        assert all(s["ready"] for s in pod["status"]["containerStatuses"])


def test_pod_runs_a_real_process_and_resolves_cluster_dns(kind_cluster: KindCluster, namespace: str) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "smoke", "namespace": namespace},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "main",
                    "image": IMAGE,
                    "imagePullPolicy": "Never",
                    # "$$$$": Kubernetes turns "$$" into "$" before the shell sees it
                    "command": ["sh", "-c", 'echo "started as $(hostname) pid $$$$"; exec sleep 3600'],
                }
            ],
        },
    }
    kind_cluster.kubectl("apply", "-f", "-", stdin=json.dumps(pod))
    kind_cluster.kubectl(
        "-n", namespace, "wait", "pod/smoke", "--for=condition=Ready", "--timeout=180s", timeout=200
    )

    logs = kind_cluster.kubectl("-n", namespace, "logs", "smoke").stdout
    assert "started as smoke pid 1" in logs
    cmdline = kind_cluster.kubectl("-n", namespace, "exec", "smoke", "--", "cat", "/proc/1/cmdline").stdout
    assert cmdline.split("\0")[:2] == ["sleep", "3600"]

    service_ip = kind_cluster.kubectl(
        "-n", "default", "get", "service", "kubernetes", "-o", "jsonpath={.spec.clusterIP}"
    ).stdout.strip()
    resolved = kind_cluster.kubectl(
        "-n", namespace, "exec", "smoke", "--", "getent", "hosts", "kubernetes.default", check=False
    )
    assert resolved.returncode == 0, resolved.stderr
    assert resolved.stdout.split()[0] == service_ip
    assert "kubernetes.default.svc.cluster.local" in resolved.stdout


def test_an_image_loaded_with_load_sh_runs_in_a_pod(kind_cluster: KindCluster, namespace: str) -> None:
    tag = f"mo-local/kind-load-smoke:{uuid.uuid4().hex[:8]}"
    # A new image id (a label on a local image), so kind really imports it instead of re-tagging.
    subprocess.run(
        ["docker", "build", "-q", "-t", tag, "-"],
        input=f"FROM {IMAGE}\nLABEL smoke={tag}\n",
        env={**kind_cluster.env(), "DOCKER_BUILDKIT": "0"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    try:
        subprocess.run(
            [str(ROOT / "hack" / "kind" / "load.sh"), tag],
            env=kind_cluster.env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        job = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "loaded", "namespace": namespace},
            "spec": {
                "restartPolicy": "Never",
                "containers": [
                    {
                        "name": "main",
                        "image": tag,
                        "imagePullPolicy": "Never",
                        "command": ["sh", "-c", "echo loaded image ran"],
                    }
                ],
            },
        }
        kind_cluster.kubectl("apply", "-f", "-", stdin=json.dumps(job))
        kind_cluster.kubectl(
            "-n",
            namespace,
            "wait",
            "pod/loaded",
            "--for=jsonpath={.status.phase}=Succeeded",
            "--timeout=180s",
            timeout=200,
        )
        assert kind_cluster.kubectl("-n", namespace, "logs", "loaded").stdout.strip() == "loaded image ran"
    finally:
        subprocess.run(["docker", "rmi", tag], env=kind_cluster.env(), capture_output=True, check=False)


def _pod(name: str, namespace: str, command: str) -> dict[str, object]:
    """A run-once Pod of the preloaded Debian image with the claim `data` mounted at /data."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "main",
                    "image": IMAGE,
                    "imagePullPolicy": "Never",
                    "command": ["sh", "-c", command],
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                }
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
        },
    }


def _run_to_completion(kind_cluster: KindCluster, namespace: str, name: str, command: str) -> str:
    """Logs of a `_pod` run until it succeeded."""
    kind_cluster.kubectl("apply", "-f", "-", stdin=json.dumps(_pod(name, namespace, command)))
    kind_cluster.kubectl(
        "-n", namespace, "wait", f"pod/{name}", "--for=jsonpath={.status.phase}=Succeeded", "--timeout=90s",
        timeout=100,
    )  # fmt: skip
    return kind_cluster.kubectl("-n", namespace, "logs", name).stdout


def test_default_storage_class_provisions_a_volume_that_keeps_a_file(
    kind_cluster: KindCluster, namespace: str
) -> None:
    """kind's default storage from the node image: local-path-provisioner, built here, binds a claim that
    names no class; a file one Pod writes there is read back by the next Pod."""
    classes = json.loads(kind_cluster.kubectl("get", "storageclass", "-o", "json").stdout)["items"]
    default = [
        c for c in classes
        if c["metadata"].get("annotations", {}).get("storageclass.kubernetes.io/is-default-class") == "true"
    ]  # fmt: skip
    assert [(c["metadata"]["name"], c["provisioner"]) for c in default] == [
        ("standard", "rancher.io/local-path")
    ]
    provisioner = json.loads(
        kind_cluster.kubectl(
            "-n", "local-path-storage", "get", "deploy/local-path-provisioner", "-o", "json"
        ).stdout
    )
    assert provisioner["spec"]["template"]["spec"]["containers"][0]["image"].startswith(
        "docker.io/mo-local/local-path-provisioner:"
    )

    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": namespace},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "16Mi"}}},
    }
    kind_cluster.kubectl("apply", "-f", "-", stdin=json.dumps(claim))
    token = uuid.uuid4().hex
    written = _run_to_completion(
        kind_cluster, namespace, "writer", f"echo {token} > /data/token && cat /data/token"
    )
    assert written.strip() == token

    bound = json.loads(kind_cluster.kubectl("-n", namespace, "get", "pvc/data", "-o", "json").stdout)
    assert bound["status"]["phase"] == "Bound"
    assert bound["spec"]["storageClassName"] == "standard"
    volume = json.loads(kind_cluster.kubectl("get", "pv", bound["spec"]["volumeName"], "-o", "json").stdout)
    assert volume["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == "rancher.io/local-path"
    assert volume["spec"]["hostPath"]["path"].startswith("/var/local-path-provisioner/")

    read = _run_to_completion(kind_cluster, namespace, "reader", "cat /data/token")
    assert read.strip() == token
