"""Mapping of real Kubernetes pod objects (as the python client returns them) to the model's PodInfo."""

from __future__ import annotations

from datetime import UTC, datetime

from kubernetes import client

import chatapp_simulator as sim

STARTED = datetime(2025, 1, 1, tzinfo=UTC)


def v1pod(
    name: str = "chatapp-7d9f8c6b5-x2kq4",
    phase: str = "Running",
    owner: str | None = "chatapp-7d9f8c6b5",
    template_hash: str | None = "7d9f8c6b5",
    limits: dict[str, str] | None = None,
    deleting: bool = False,
) -> client.V1Pod:
    labels = {"app.kubernetes.io/name": "chatapp"}
    if template_hash:
        labels["pod-template-hash"] = template_hash
    owners = (
        [client.V1OwnerReference(api_version="apps/v1", kind="ReplicaSet", name=owner, uid="rs")]
        if owner
        else None
    )
    return client.V1Pod(
        metadata=client.V1ObjectMeta(
            name=name,
            namespace="apps",
            uid=f"uid-{name}",
            labels=labels,
            owner_references=owners,
            deletion_timestamp=STARTED if deleting else None,
            creation_timestamp=STARTED,
        ),
        spec=client.V1PodSpec(
            containers=[
                client.V1Container(
                    name="chat", image="chatapp:1.0", resources=client.V1ResourceRequirements(limits=limits)
                )
            ]
        ),
        status=client.V1PodStatus(phase=phase, start_time=STARTED),
    )


def test_running_pod_maps_to_podinfo() -> None:
    info = sim.pod_info_from_k8s(v1pod(limits={"memory": "256Mi", "cpu": "1"}))
    assert info is not None
    assert (info.namespace, info.name, info.deployment, info.image) == (
        "apps",
        "chatapp-7d9f8c6b5-x2kq4",
        "chatapp",
        "chatapp:1.0",
    )
    assert info.memory_limit_bytes == 256 * 1024 * 1024
    assert info.start_time == STARTED.timestamp()


def test_default_limit_and_deployment_fallbacks() -> None:
    info = sim.pod_info_from_k8s(v1pod(template_hash=None, owner="chat-app-abc12"))
    assert info is not None and info.deployment == "chat-app" and info.memory_limit_bytes == 512 * 1024 * 1024
    bare = sim.pod_info_from_k8s(v1pod(name="lonely", owner=None))
    assert bare is not None and bare.deployment == "lonely"


def test_not_running_or_terminating_pods_are_skipped() -> None:
    assert sim.pod_info_from_k8s(v1pod(phase="Pending")) is None
    assert sim.pod_info_from_k8s(v1pod(deleting=True)) is None


def test_kube_pod_source_uses_selector_and_namespace() -> None:
    calls: list[tuple[str, object]] = []

    class FakeCore:
        def list_namespaced_pod(self, namespace: str, **kwargs: object) -> client.V1PodList:
            calls.append((namespace, kwargs["label_selector"]))
            return client.V1PodList(items=[v1pod(), v1pod(name="p2", phase="Pending")])

        def list_pod_for_all_namespaces(self, **kwargs: object) -> client.V1PodList:
            calls.append(("*", kwargs["label_selector"]))
            return client.V1PodList(items=[])

    assert [p.name for p in sim.KubePodSource(FakeCore(), "app=x", "apps").list_pods()] == [
        "chatapp-7d9f8c6b5-x2kq4"
    ]
    assert sim.KubePodSource(FakeCore(), "app=x", None).list_pods() == []
    assert calls == [("apps", "app=x"), ("*", "app=x")]
