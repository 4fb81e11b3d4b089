"""The local test cluster behaves like a real one where the operator needs it to.

Deployments roll out for real (new ReplicaSets, kwok pods go Running), rollout
restart/undo work, the deployment controller honours progressDeadlineSeconds,
ServiceAccount tokens authenticate under RBAC, and Prometheus scrapes the
simulator and operator targets.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from tests.fixtures.cluster import Kubectl, LocalCluster

pytestmark = pytest.mark.e2e

APP_LABEL = "app.kubernetes.io/name"
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.25) -> T:
    """Poll ``probe`` until it returns a truthy value; fail with the last value seen."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


def deployment_body(name: str, image: str = "chatapp:1.0", replicas: int = 2) -> dict[str, Any]:
    labels = {APP_LABEL: "chatapp", "app.kubernetes.io/instance": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "chatapp", "image": image}]},
            },
        },
    }


def rollout_complete(apps: client.AppsV1Api, ns: str, name: str) -> client.V1Deployment | None:
    d = apps.read_namespaced_deployment(name, ns)
    st = d.status
    want = d.spec.replicas
    done = (
        (st.observed_generation or 0) >= d.metadata.generation
        and (st.updated_replicas or 0) == want
        and (st.replicas or 0) == want
        and (st.available_replicas or 0) >= want
    )
    return d if done else None


def replica_sets(apps: client.AppsV1Api, ns: str, name: str) -> dict[str, client.V1ReplicaSet]:
    """ReplicaSets of one Deployment keyed by their revision annotation."""
    out = {}
    for rs in apps.list_namespaced_replica_set(ns, label_selector=f"app.kubernetes.io/instance={name}").items:
        out[rs.metadata.annotations["deployment.kubernetes.io/revision"]] = rs
    return out


def create_and_wait(apps: client.AppsV1Api, ns: str, name: str, **kw: Any) -> client.V1Deployment:
    apps.create_namespaced_deployment(ns, deployment_body(name, **kw))
    return wait_for(f"{ns}/{name} rollout", lambda: rollout_complete(apps, ns, name))


def image_of(d: client.V1Deployment) -> str:
    return str(d.spec.template.spec.containers[0].image)


def test_deployment_becomes_available_with_running_pods(kube_api: Any, namespace: str) -> None:
    apps, core = client.AppsV1Api(kube_api), client.CoreV1Api(kube_api)
    d = create_and_wait(apps, namespace, "chatapp")

    conditions = {c.type: c for c in d.status.conditions}
    assert conditions["Available"].status == "True"
    assert conditions["Progressing"].reason == "NewReplicaSetAvailable"
    pods = core.list_namespaced_pod(namespace, label_selector=f"{APP_LABEL}=chatapp").items
    assert len(pods) == 2
    nodes = {n.metadata.name for n in core.list_node().items}
    for pod in pods:
        assert pod.status.phase == "Running", pod.status
        assert pod.spec.node_name in nodes
        ready = {c.type: c.status for c in pod.status.conditions}
        assert ready.get("Ready") == "True", pod.status.conditions
        assert pod.status.pod_ip
    # No toleration needed: the nodes the pods landed on carry no taint.
    for pod in pods:
        assert not core.read_node(pod.spec.node_name).spec.taints


def test_rollout_restart_creates_new_replicaset(kube_api: Any, namespace: str, kubectl: Kubectl) -> None:
    apps = client.AppsV1Api(kube_api)
    create_and_wait(apps, namespace, "chatapp")
    before = replica_sets(apps, namespace, "chatapp")
    assert list(before) == ["1"]

    kubectl("-n", namespace, "rollout", "restart", "deployment/chatapp")
    d = wait_for(
        "restart rollout",
        lambda: (x := rollout_complete(apps, namespace, "chatapp")) and x.metadata.generation >= 2 and x,
    )
    assert "kubectl.kubernetes.io/restartedAt" in (d.spec.template.metadata.annotations or {})
    after = replica_sets(apps, namespace, "chatapp")
    assert set(after) == {"1", "2"}
    assert after["2"].metadata.name != before["1"].metadata.name
    assert after["2"].status.ready_replicas == 2
    assert not after["1"].spec.replicas  # the old ReplicaSet was scaled down to 0


def test_rollout_undo_restores_previous_template(kube_api: Any, namespace: str, kubectl: Kubectl) -> None:
    apps = client.AppsV1Api(kube_api)
    create_and_wait(apps, namespace, "chatapp", image="chatapp:1.0")

    kubectl("-n", namespace, "set", "image", "deployment/chatapp", "chatapp=chatapp:1.1")
    d = wait_for(
        "image change rollout",
        lambda: (x := rollout_complete(apps, namespace, "chatapp")) and image_of(x) == "chatapp:1.1" and x,
    )
    assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "2"

    kubectl("-n", namespace, "rollout", "undo", "deployment/chatapp")
    d = wait_for(
        "undo rollout",
        lambda: (x := rollout_complete(apps, namespace, "chatapp")) and image_of(x) == "chatapp:1.0" and x,
    )
    # undo re-uses revision 1's ReplicaSet and renumbers it to 3.
    assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "3"
    rs = replica_sets(apps, namespace, "chatapp")
    assert set(rs) == {"2", "3"}
    assert rs["3"].spec.template.spec.containers[0].image == "chatapp:1.0"
    assert rs["3"].status.ready_replicas == 2
    assert not rs["2"].spec.replicas


def test_progress_deadline_exceeded_when_new_pods_cannot_schedule(kube_api: Any, namespace: str) -> None:
    apps = client.AppsV1Api(kube_api)
    create_and_wait(apps, namespace, "chatapp")

    # A template change whose pods match no node: the rollout is stuck.
    apps.patch_namespaced_deployment(
        "chatapp",
        namespace,
        {
            "spec": {
                "progressDeadlineSeconds": 5,
                "template": {"spec": {"nodeSelector": {"maintenance-operator.test/no-such-node": "true"}}},
            }
        },
    )

    def stuck() -> client.V1Deployment | None:
        d = apps.read_namespaced_deployment("chatapp", namespace)
        cond = {c.type: c for c in d.status.conditions or []}.get("Progressing")
        return d if cond and cond.status == "False" and cond.reason == "ProgressDeadlineExceeded" else None

    d = wait_for("Progressing=False/ProgressDeadlineExceeded", stuck, timeout=45)
    # The old pods kept serving: maxUnavailable rounds down to 0 for 2 replicas.
    assert d.status.available_replicas == 2
    assert (d.status.updated_replicas or 0) >= 1
    pending = client.CoreV1Api(kube_api).list_namespaced_pod(namespace, field_selector="status.phase=Pending")
    assert pending.items, "the new pod should be Pending (unschedulable)"


def test_service_account_token_authenticates_under_rbac(kube_api: Any, namespace: str) -> None:
    core = client.CoreV1Api(kube_api)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "probe"}})
    token = core.create_namespaced_service_account_token(
        "probe", namespace, {"spec": {"expirationSeconds": 600}}
    ).status.token

    cfg = client.Configuration()
    cfg.host = kube_api.configuration.host
    cfg.ssl_ca_cert = kube_api.configuration.ssl_ca_cert
    cfg.verify_ssl = kube_api.configuration.verify_ssl
    cfg.api_key = {"authorization": f"Bearer {token}"}
    with client.ApiClient(cfg) as sa_api:
        review = client.AuthenticationV1Api(sa_api).create_self_subject_review(
            {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        )
        assert review.status.user_info.username == f"system:serviceaccount:{namespace}:probe"
        # Authenticated (not 401) but RBAC grants a fresh ServiceAccount nothing.
        with pytest.raises(ApiException) as exc:
            client.CoreV1Api(sa_api).list_namespaced_pod(namespace)
        assert exc.value.status == 403


def prom_query(base: str, query: str) -> list[dict[str, Any]]:
    url = f"{base.rstrip('/')}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
    with urllib.request.urlopen(url, timeout=5) as resp:
        body = json.load(resp)
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def test_prometheus_scrapes_simulator_and_operator_targets(local_cluster: LocalCluster) -> None:
    if not local_cluster.prometheus_url:
        pytest.fail("no PROMETHEUS_URL for this cluster")
    with urllib.request.urlopen(f"{local_cluster.prometheus_url}/-/ready", timeout=5) as resp:
        assert resp.status == 200

    series = wait_for(
        "up{job='chatapp'}", lambda: prom_query(local_cluster.prometheus_url, 'up{job="chatapp"}')
    )
    assert len(series) == 1
    # Value is 1 with the simulator running, 0 before it (the series exists either way).
    assert series[0]["value"][1] in ("0", "1")
    if local_cluster.simulator_port:
        assert series[0]["metric"]["instance"] == f"127.0.0.1:{local_cluster.simulator_port}"

    operator = wait_for(
        "up{job='maintenance-operator'}",
        lambda: prom_query(local_cluster.prometheus_url, 'up{job="maintenance-operator"}'),
    )
    if local_cluster.operator_metrics_port:
        assert operator[0]["metric"]["instance"] == f"127.0.0.1:{local_cluster.operator_metrics_port}"
