"""`helm install` into the local cluster: every object accepted, the Deployment Available, RBAC as designed.

kwok runs no containers, so the image is never pulled: what is tested is the API server's view
(schemas, admission, RBAC) and the Deployment controller's rollout.
"""

from __future__ import annotations

import base64
import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.fixtures import tools
from tests.fixtures.helm import CHART, HELM, NEEDS_HELM, REPO

pytestmark = [
    pytest.mark.e2e,
    NEEDS_HELM,
]

SECRET_NAME = "prometheus-basic-auth"


class Release:
    """A Helm release of the chart in a test namespace, uninstalled afterwards."""

    def __init__(self, *, kubeconfig: Path, namespace: str, name: str) -> None:
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self.name = name
        self.fullname = f"{name}-maintenance-operator"
        self.service_account = f"system:serviceaccount:{namespace}:{self.fullname}"

    def helm(self, *args: str, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        assert HELM is not None
        proc = subprocess.run(
            [HELM, f"--kubeconfig={self.kubeconfig}", "--namespace", self.namespace, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["kubectl", f"--kubeconfig={self.kubeconfig}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{proc.stderr}")
        return proc

    def can(self, verb: str, resource: str, namespace: str | None = None, subresource: str = "") -> bool:
        args = ["auth", "can-i", verb, resource, f"--as={self.service_account}"]
        args += [f"--namespace={namespace}"] if namespace else ["--all-namespaces"]
        if subresource:
            args.append(f"--subresource={subresource}")
        answer = self.kubectl(*args, check=False).stdout.strip()
        assert answer in ("yes", "no"), answer
        return answer == "yes"


@pytest.fixture
def release(local_cluster: Any, namespace: str) -> Iterator[Release]:
    rel = Release(kubeconfig=local_cluster.kubeconfig, namespace=namespace, name=f"mo{uuid.uuid4().hex[:6]}")
    # CRDs are installed once per cluster (kubectl apply -f crds/), never owned by a release; RBAC checks
    # on remediations need the resource type to exist
    rel.kubectl("apply", "--server-side", "-f", str(CHART / "crds"))
    try:
        yield rel
    finally:
        rel.helm("uninstall", rel.name, "--wait", "--timeout", "60s", check=False)


def _install(release: Release, *values: str) -> None:
    release.helm(
        "install",
        release.name,
        str(CHART),
        # The webhook and the human roles are cluster-scoped; scope the webhook to this namespace so that
        # other tests on the shared cluster never call a webhook whose pod kwok does not run.
        "--set",
        f"watchNamespaces[0]={release.namespace}",
        "--set",
        f"rbac.secretNames[0]={SECRET_NAME}",
        "--set",
        "image.repository=maintenance-operator",
        "--set",
        "image.tag=dev",
        *values,
        # The CRDs are checked on their own below: a release must not own them.
        "--skip-crds",
        "--timeout",
        "120s",
    )


def test_install_accepts_every_object_and_becomes_available(release: Release) -> None:
    _install(
        release,
        "--set",
        "networkPolicy.enabled=true",
        "--set",
        "llm.existingSecret=anthropic",
        "--set",
        "rbac.createUserRoles=false",
    )
    manifest = [d for d in yaml.safe_load_all(release.helm("get", "manifest", release.name).stdout) if d]
    kinds = {d["kind"] for d in manifest}
    assert kinds >= {
        "ServiceAccount",
        "Deployment",
        "Service",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "Secret",
        "NetworkPolicy",
        "ConfigMap",
    }
    for doc in manifest:
        ns = doc["metadata"].get("namespace")
        ref = f"{doc['kind']}/{doc['metadata']['name']}"
        release.kubectl("get", ref, *([f"--namespace={ns}"] if ns else []))

    # The key Secret is absent on purpose: the pod spec still passes admission; only the kubelet would wait.
    release.kubectl(
        "wait",
        f"--namespace={release.namespace}",
        "--for=condition=Available",
        f"deployment/{release.fullname}",
        "--timeout=120s",
    )
    deployment = json.loads(
        release.kubectl("get", f"deployment/{release.fullname}", "-n", release.namespace, "-o", "json").stdout
    )
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    assert deployment["status"]["availableReplicas"] == 1


MONITORING_CRDS_SCRIPT = REPO / "hack" / "cluster" / "monitoring-crds.sh"
MONITORING_VALUES = ("--set", "metrics.serviceMonitor.enabled=true", "--set", "prometheusRule.enabled=true")


@pytest.fixture
def monitoring_crds(release: Release) -> None:
    """prometheus-operator's ServiceMonitor and PrometheusRule CRDs, pinned upstream, installed once."""
    proc = subprocess.run(
        [str(MONITORING_CRDS_SCRIPT)], capture_output=True, text=True, timeout=600, check=False
    )
    if proc.returncode != 0 and "go not found" in proc.stderr:
        tools.tool_missing("the prometheus-operator CRDs are fetched with go, which this machine lacks")
    assert proc.returncode == 0, proc.stderr
    release.kubectl("apply", "--server-side", "-f", proc.stdout.strip())
    for crd in ("servicemonitors", "prometheusrules"):
        release.kubectl(
            "wait", "--for=condition=Established", f"crd/{crd}.monitoring.coreos.com", "--timeout=60s"
        )


def test_service_monitor_and_prometheus_rule_are_accepted(
    release: Release, monitoring_crds: None, tmp_path: Path
) -> None:
    """Strict field validation against prometheus-operator's own schemas, then a real install."""
    rendered = [
        d
        for d in yaml.safe_load_all(
            release.helm("template", release.name, str(CHART), *MONITORING_VALUES).stdout
        )
        if d and d["kind"] in ("ServiceMonitor", "PrometheusRule")
    ]
    assert sorted(d["kind"] for d in rendered) == ["PrometheusRule", "ServiceMonitor"]
    objects = tmp_path / "monitoring.yaml"
    objects.write_text(yaml.safe_dump_all(rendered))
    # Strict: an unknown or misspelt field is an error, not silently pruned.
    release.kubectl(
        "apply", "--dry-run=server", "--validate=strict", "-n", release.namespace, "-f", str(objects)
    )

    broken = json.loads(json.dumps(rendered))
    rule = next(d for d in broken if d["kind"] == "PrometheusRule")
    rule["spec"]["groups"][0]["rules"][0]["exprr"] = rule["spec"]["groups"][0]["rules"][0].pop("expr")
    objects.write_text(yaml.safe_dump_all(broken))
    refused = release.kubectl(
        "apply",
        "--dry-run=server",
        "--validate=strict",
        "-n",
        release.namespace,
        "-f",
        str(objects),
        check=False,
    )
    assert refused.returncode != 0
    assert "exprr" in refused.stderr

    _install(release, *MONITORING_VALUES)
    for doc in rendered:
        stored = json.loads(
            release.kubectl(
                "get",
                f"{doc['kind'].lower()}/{doc['metadata']['name']}",
                "-n",
                release.namespace,
                "-o",
                "json",
            ).stdout
        )
        assert stored["spec"] == doc["spec"], (
            f"{doc['kind']} was changed (pruned or defaulted) by the API server"
        )
    monitor = next(d for d in rendered if d["kind"] == "ServiceMonitor")
    service = json.loads(
        release.kubectl(
            "get", f"service/{release.fullname}-metrics", "-n", release.namespace, "-o", "json"
        ).stdout
    )
    labels = service["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in monitor["spec"]["selector"]["matchLabels"].items())
    assert monitor["spec"]["endpoints"][0]["port"] in {p["name"] for p in service["spec"]["ports"]}


def test_chart_crds_are_accepted(release: Release) -> None:
    """The chart's CRDs pass the API server's validation (server-side dry run, nothing stored)."""
    release.kubectl("apply", "--server-side", "--dry-run=server", "-f", str(CHART / "crds"))


def test_upgrade_keeps_the_webhook_certificate_and_the_approval_key(release: Release) -> None:
    _install(release, "--set", "rbac.createUserRoles=false")

    def ca_bundle() -> str:
        out = release.kubectl("get", "validatingwebhookconfiguration", release.fullname, "-o", "json").stdout
        bundle: str = json.loads(out)["webhooks"][0]["clientConfig"]["caBundle"]
        return bundle

    def approval_key() -> str:
        secret = f"secret/{release.fullname}-approval-key"
        out = release.kubectl("get", secret, "-n", release.namespace, "-o", "json").stdout
        key: str = json.loads(out)["data"]["approval-key"]
        return key

    before, key_before = ca_bundle(), approval_key()
    assert len(base64.b64decode(key_before)) == 64
    release.helm("upgrade", release.name, str(CHART), "--reuse-values", "--set", "operator.logLevel=DEBUG")
    assert ca_bundle() == before, "lookup of the existing Secret must keep the CA across upgrades"
    assert approval_key() == key_before, "a new approval key would void every pending approval"


def test_operator_rbac(release: Release) -> None:
    _install(release, "--set", "rbac.createUserRoles=false")
    ns = release.namespace

    assert release.can("patch", "deployments.apps", ns)
    assert release.can("get", "replicasets.apps", ns)
    assert release.can("patch", "configmaps", ns)
    assert release.can("patch", "remediations.maintenance.chatapp.io", ns)
    assert release.can("patch", "remediations.maintenance.chatapp.io", ns, subresource="status")
    assert release.can("create", "leases.coordination.k8s.io", ns)
    assert release.can("create", "events", ns)
    assert release.can("get", f"secrets/{SECRET_NAME}", ns)
    assert release.can("list", "customresourcedefinitions.apiextensions.k8s.io")

    # Nothing outside the watched namespace.
    assert not release.can("patch", "deployments.apps", "default")
    assert not release.can("get", "maintenancepolicies.maintenance.chatapp.io", "default")
    assert release.can("list", "namespaces")  # read-only: kopf observes the namespaces it serves
    assert not release.can("delete", "namespaces")

    # Never destructive, never secrets in bulk, never a shell.
    assert not release.can("delete", "deployments.apps", ns)
    assert not release.can("create", "deployments.apps", ns)
    assert not release.can("delete", "pods", ns)
    assert not release.can("list", "secrets", ns)
    assert not release.can("get", "secrets/some-other-secret", ns)
    assert not release.can("create", "pods", ns, subresource="exec")
    assert not release.can("create", "pods", ns)


def test_human_roles(release: Release) -> None:
    # maintenance-approver and maintenance-viewer are cluster singletons: skip if another release owns them.
    existing = release.kubectl("get", "clusterrole", "maintenance-approver", check=False)
    if existing.returncode == 0:
        pytest.skip("maintenance-approver already exists in this cluster (owned by another release)")
    _install(release)
    user = f"approver-{uuid.uuid4().hex[:6]}"
    release.kubectl(
        "create",
        "rolebinding",
        user,
        "--clusterrole=maintenance-approver",
        f"--user={user}",
        "-n",
        release.namespace,
    )

    def can(verb: str, resource: str) -> bool:
        out = release.kubectl(
            "auth", "can-i", verb, resource, f"--as={user}", "-n", release.namespace, check=False
        ).stdout.strip()
        return out == "yes"

    assert can("patch", "remediations.maintenance.chatapp.io")
    assert can("list", "maintenancepolicies.maintenance.chatapp.io")
    assert not can("delete", "remediations.maintenance.chatapp.io")
    assert not can("patch", "maintenancepolicies.maintenance.chatapp.io")
    assert not can("patch", "deployments.apps")
