"""Fixtures shared by the e2e modules that run the operator as the chart's ServiceAccount."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.fixtures.helm import CHART, HELM

ROOT = Path(__file__).resolve().parents[2]
RELEASE = "mo-rbac"


@pytest.fixture
def sa_kubeconfig(local_cluster: Any, namespace: str, kubectl: Any, tmp_path: Path) -> Iterator[Path]:
    """Install the chart watching `namespace`, then a kubeconfig that authenticates as its ServiceAccount."""
    kubectl("apply", "--server-side", "-f", str(ROOT / "crds"))
    assert HELM is not None
    subprocess.run(
        [
            HELM,
            f"--kubeconfig={local_cluster.kubeconfig}",
            "--namespace",
            namespace,
            "install",
            RELEASE,
            str(CHART),
            "--skip-crds",
            "--set",
            f"watchNamespaces[0]={namespace}",
            "--set",
            "webhook.enabled=false",
            "--set",
            "rbac.createUserRoles=false",
            "--timeout",
            "120s",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
    )
    token = kubectl(
        "create", "token", f"{RELEASE}-maintenance-operator", "-n", namespace, "--duration=1h"
    ).stdout
    admin = yaml.safe_load(Path(local_cluster.kubeconfig).read_text())
    cluster = admin["clusters"][0]["cluster"]
    path = tmp_path / "operator.kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "local", "cluster": cluster}],
                "users": [{"name": "operator", "user": {"token": token.strip()}}],
                "contexts": [{"name": "operator", "context": {"cluster": "local", "user": "operator"}}],
                "current-context": "operator",
            }
        )
    )
    try:
        yield path
    finally:
        subprocess.run(
            [
                HELM,
                f"--kubeconfig={local_cluster.kubeconfig}",
                "--namespace",
                namespace,
                "uninstall",
                RELEASE,
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
