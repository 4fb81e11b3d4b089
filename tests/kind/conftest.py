"""The kind cluster of `-m kind` tests: hack/kind/up.sh (a real node, images built here), or a running one.

MO_KIND_KUBECONFIG=PATH reuses a running cluster (nothing is started or deleted; hack/kind/load.sh still
needs the MO_KIND_DIR of the up.sh that started it). Otherwise the session
starts one with hack/kind/up.sh (cold: builds the node image first) and deletes it with hack/kind/down.sh
when the session ends, unless up.sh found it already running or KEEP_KIND=1.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures import kind as kind_lib

ROOT = Path(__file__).resolve().parents[2]
KIND_DIR = Path(os.environ.get("MO_KIND_DIR", ROOT / ".kind")).resolve()


@dataclasses.dataclass(frozen=True)
class KindCluster:
    """A running kind cluster: its kubeconfig, the Docker engine holding its node, the pinned tools."""

    kubeconfig: Path
    docker_host: str
    bin_dir: Path

    def env(self) -> dict[str, str]:
        """Environment for kind/kubectl/docker against this cluster."""
        env = kind_lib.docker_engine.environment(self.docker_host)
        env["KUBECONFIG"] = str(self.kubeconfig)
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        return env

    def kubectl(
        self, *args: str, stdin: str | None = None, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run the pinned kubectl against the cluster."""
        return subprocess.run(
            ["kubectl", *args],
            input=stdin,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
        )


def _docker_host() -> str:
    return kind_lib.docker_engine.host(privileged=True)


@pytest.fixture(scope="session")
def kind_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KindCluster]:
    """The cluster, Ready with CoreDNS running."""
    reuse = os.environ.get("MO_KIND_KUBECONFIG", "")
    if reuse:
        yield KindCluster(Path(reuse), _docker_host(), KIND_DIR / "bin")
        return
    report = tmp_path_factory.mktemp("kind") / "up.json"
    proc = subprocess.run(
        [str(ROOT / "hack" / "kind" / "up.sh")],
        env={**os.environ, "MO_KIND_DIR": str(KIND_DIR), "MO_KIND_REPORT": str(report)},
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    assert proc.returncode == 0, f"hack/kind/up.sh failed:\n{proc.stderr[-4000:]}"
    created = bool(json.loads(report.read_text())["created"])
    docker_host = (KIND_DIR / "docker-host").read_text().strip() if created else _docker_host()
    try:
        yield KindCluster(KIND_DIR / "kubeconfig", docker_host, KIND_DIR / "bin")
    finally:
        if created and os.environ.get("KEEP_KIND", "0") != "1":
            subprocess.run(
                [str(ROOT / "hack" / "kind" / "down.sh")],
                env={**os.environ, "MO_KIND_DIR": str(KIND_DIR)},
                timeout=600,
                check=False,
            )


# ---------------------------------------------------------------- the Chat App scenarios (real Pods)


@pytest.fixture(scope="session")
def kind(kind_cluster: KindCluster) -> kind_lib.KindCluster:
    """The cluster with the workloads installed: images loaded, Prometheus, the operator by `helm install`."""
    return kind_lib.installed(kind_cluster.kubeconfig, docker_host=kind_cluster.docker_host)


@pytest.fixture
def app(kind: kind_lib.KindCluster) -> Iterator[str]:
    """A namespace with the Chat App (2 replicas), its LLM dependency and its load generator, scraped."""
    namespace = f"kind-{uuid.uuid4().hex[:6]}"
    try:
        kind_lib.deploy_chatapp(kind, namespace)
        yield namespace
    finally:
        kind_lib.stack_lib.delete_namespace(kind.api(), namespace)
