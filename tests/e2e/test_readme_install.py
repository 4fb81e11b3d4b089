"""The README's install section, copy-pasted: each shell block runs verbatim against the local cluster.

Only the environment is the test's: KUBECONFIG points at the local cluster and the pinned helm is on PATH,
as they would be on a user's machine. kwok runs no containers, so "installed" means every object was
accepted and the operator Deployment became Available.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.helm import HELM, NEEDS_HELM

pytestmark = [
    pytest.mark.e2e,
    NEEDS_HELM,
]
ROOT = Path(__file__).resolve().parents[2]


def install_blocks() -> dict[str, str]:
    """The ```sh blocks of README's '## Install' section, keyed by the line that introduces them."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Install\n", 1)[1].split("\n## ", 1)[0]
    blocks: dict[str, str] = {}
    for match in re.finditer(r"([^\n]+)\n\n```sh\n(.*?)```", section, re.S):
        blocks[match.group(1).strip()] = match.group(2)
    return blocks


def test_the_install_section_has_the_two_paths() -> None:
    blocks = install_blocks()
    assert list(blocks) == ["With kubectl (CRDs, then the operator manifests):", "With Helm:"]
    assert "kubectl apply -f crds/" in blocks["With kubectl (CRDs, then the operator manifests):"]
    assert "helm install" in blocks["With Helm:"]


class User:
    """A shell with the user's tools and the local cluster as the current context."""

    def __init__(self, kubeconfig: Path) -> None:
        assert HELM is not None
        self.env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "PATH": f"{Path(HELM).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }

    def run(self, script: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if check:
            assert proc.returncode == 0, f"{script}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        return proc

    def json(self, *args: str) -> Any:
        return json.loads(self.run("kubectl " + " ".join(args) + " -o json").stdout)


@pytest.fixture
def user(local_cluster: Any) -> User:
    """A user on a cluster without the README's namespaces (a previous run may still be deleting them)."""
    person = User(Path(local_cluster.kubeconfig))
    for namespace in ("chatapp", "maintenance-operator", "maintenance-system"):
        person.run(f"kubectl delete namespace {namespace} --ignore-not-found --wait --timeout=120s")
    return person


def _available(user: User, namespace: str, name: str) -> None:
    user.run(f"kubectl -n {namespace} rollout status deploy/{name} --timeout=120s")
    deployment = user.json("-n", namespace, "get", f"deploy/{name}")
    assert deployment["status"]["availableReplicas"] == 1


@pytest.fixture
def kubectl_install(user: User) -> Iterator[str]:
    block = install_blocks()["With kubectl (CRDs, then the operator manifests):"]
    try:
        yield user.run(block).stdout
    finally:
        user.run("kubectl delete namespace chatapp --ignore-not-found --wait=false", check=False)
        user.run("kubectl delete -f deploy/ --ignore-not-found --wait=false", check=False)


def test_kubectl_path(user: User, kubectl_install: str) -> None:
    # the last command of the block lists the sample policy
    assert "chatapp" in kubectl_install
    _available(user, "maintenance-operator", "maintenance-operator")
    # the block creates the approval key the Deployment reads (deploy/ cannot ship one)
    key = user.json("-n", "maintenance-operator", "get", "secret", "maintenance-operator-approval-key")
    assert len(key["data"]["approval-key"]) >= 64
    policy = user.json("-n", "chatapp", "get", "mpol", "chatapp")
    assert policy["spec"]["targetRef"]["name"] == "chatapp"
    # the manifests grant what the chart grants: the operator may patch Deployments, not delete them
    sa = "system:serviceaccount:maintenance-operator:maintenance-operator"
    assert user.run(f"kubectl auth can-i patch deployments -n chatapp --as={sa}").stdout.strip() == "yes"
    denied = user.run(f"kubectl auth can-i delete deployments -n chatapp --as={sa}", check=False)
    assert denied.stdout.strip() == "no"


@pytest.fixture
def helm_install(user: User) -> Iterator[None]:
    block = install_blocks()["With Helm:"]
    try:
        user.run(block)
        yield
    finally:
        # the release registers cluster-wide admission webhooks whose Pod never runs here: remove them
        user.run(
            "helm uninstall maintenance-operator -n maintenance-system --wait --timeout 60s", check=False
        )
        user.run("kubectl delete namespace maintenance-system --ignore-not-found --wait=false", check=False)


def test_helm_path(user: User, helm_install: None) -> None:
    _available(user, "maintenance-system", "maintenance-operator")
    status = json.loads(user.run("helm status maintenance-operator -n maintenance-system -o json").stdout)
    assert status["info"]["status"] == "deployed"
    deployment = user.json("-n", "maintenance-system", "get", "deploy/maintenance-operator")
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["MAINTENANCE_OPERATOR_PROMETHEUS_URL"] == "http://prometheus.monitoring:9090"
    webhooks = user.json(
        "get", "validatingwebhookconfigurations", "-l", "app.kubernetes.io/instance=maintenance-operator"
    )
    assert len(webhooks["items"]) == 1
