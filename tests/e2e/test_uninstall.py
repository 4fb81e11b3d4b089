"""Uninstalling with the operator already gone: `kubectl maintenance unblock` releases stuck deletions.

kopf keeps a finalizer on policies and remediations while it runs. Without the operator, deleting them
(or their namespace, or the CRDs) waits forever; the plugin removes exactly that finalizer and nothing else.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
OURS = "maintenance.chatapp.io/finalizer"
FOREIGN = "example.com/keep-me"


def _policy(namespace: str, name: str, finalizers: list[str]) -> str:
    return json.dumps(
        {
            "apiVersion": "maintenance.chatapp.io/v1alpha1",
            "kind": "MaintenancePolicy",
            "metadata": {"name": name, "namespace": namespace, "finalizers": finalizers},
            "spec": {
                "targetRef": {"name": "chatapp"},
                "indicators": [
                    {"name": "errors", "dimension": "core", "query": "up", "warning": 0.5, "critical": 0.9}
                ],
            },
        }
    )


def _plugin(local_cluster: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBECONFIG": str(local_cluster.kubeconfig)}
    return subprocess.run(
        [str(ROOT / "hack" / "kubectl-maintenance"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=env,
    )


def test_unblock_releases_only_the_operators_finalizer(
    local_cluster: Any, kubectl: Any, namespace: str
) -> None:
    kubectl("apply", "--server-side", "-f", str(ROOT / "crds"))
    kubectl("create", "-f", "-", input=_policy(namespace, "stuck", [OURS]))
    kubectl("create", "-f", "-", input=_policy(namespace, "shared", [OURS, FOREIGN]))
    kubectl("delete", "mpol", "stuck", "shared", "-n", namespace, "--wait=false")
    time.sleep(2)
    # nobody removes the finalizer: both stay, marked for deletion
    listed = json.loads(kubectl("get", "mpol", "-n", namespace, "-o", "json").stdout)["items"]
    assert sorted(p["metadata"]["name"] for p in listed) == ["shared", "stuck"]
    assert all(p["metadata"].get("deletionTimestamp") for p in listed)

    out = _plugin(local_cluster, "unblock", "-n", namespace).stdout
    assert f"maintenancepolicies/stuck (namespace {namespace}): finalizer removed" in out
    assert f"maintenancepolicies/shared (namespace {namespace}): finalizer removed" in out

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        left = json.loads(kubectl("get", "mpol", "-n", namespace, "-o", "json").stdout)["items"]
        if [p["metadata"]["name"] for p in left] == ["shared"]:
            break
        time.sleep(0.5)
    assert [p["metadata"]["name"] for p in left] == ["shared"]
    assert left[0]["metadata"]["finalizers"] == [FOREIGN]
    # a second run finds nothing of ours
    assert _plugin(local_cluster, "unblock", "-n", namespace).stdout == ""
    kubectl(
        "patch",
        "mpol",
        "shared",
        "-n",
        namespace,
        "--type",
        "json",
        "-p",
        '[{"op": "remove", "path": "/metadata/finalizers"}]',
    )
