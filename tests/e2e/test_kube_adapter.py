"""adapters/kube.py against the real local cluster: dry run, idempotent actions, restore, lease."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kubernetes import client

from maintenance_operator.adapters import kube
from maintenance_operator.api.v1alpha1 import (
    Action,
    ActionType,
    ConfigPatchParams,
    LocalObjectReference,
    RollbackParams,
    ScaleParams,
)
from maintenance_operator.domain import rollout

pytestmark = pytest.mark.e2e

NAME = "chatapp"
CM = "chatapp-config"
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
LABELS = {"app.kubernetes.io/name": "chatapp", "app.kubernetes.io/instance": NAME}


def deployment_body(replicas: int = 2, image: str = "chatapp:1.0") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "labels": LABELS},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": LABELS},
            "progressDeadlineSeconds": 60,
            "template": {
                "metadata": {"labels": LABELS},
                "spec": {"containers": [{"name": "chatapp", "image": image}]},
            },
        },
    }


@pytest.fixture
def target(kube_api: Any, namespace: str) -> kube.TargetDeployment:
    deployment: Any = deployment_body()
    config_map: Any = {"metadata": {"name": CM}, "data": {"LOG_LEVEL": "info"}}
    client.AppsV1Api(kube_api).create_namespaced_deployment(namespace, deployment)
    client.CoreV1Api(kube_api).create_namespaced_config_map(namespace, config_map)
    return kube.TargetDeployment(kube_api, namespace=namespace, name=NAME)


async def rolled_out(target: kube.TargetDeployment, *, within_seconds: float = 60) -> dict[str, Any]:
    """Poll rollout_state until the rollout is done (failing on a stuck rollout or after the timeout)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_seconds
    state = await target.rollout_state()
    while not (state.done or state.failed) and loop.time() < deadline:
        await asyncio.sleep(0.25)
        state = await target.rollout_state()
    assert state.done, state.message
    return await target.read()


async def set_image(kube_api: Any, namespace: str, image: str) -> None:
    body = {"spec": {"template": {"spec": {"containers": [{"name": "chatapp", "image": image}]}}}}
    await asyncio.to_thread(client.AppsV1Api(kube_api).patch_namespaced_deployment, NAME, namespace, body)


async def test_dry_run_leaves_object_unchanged(target: kube.TargetDeployment) -> None:
    before = await rolled_out(target)
    result = await target.execute(
        Action(type=ActionType.SCALE, scale=ScaleParams(replicas=5)), propose_only=True
    )
    after = await target.read()
    assert not result.applied
    assert '"replicas": 5' in result.diff
    assert after["spec"]["replicas"] == 2
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


async def test_restart_rolls_out_once_per_marker(target: kube.TargetDeployment) -> None:
    await rolled_out(target)
    assert len(await target.revisions()) == 1
    marker = kube.restart_marker(NOW)
    first = await target.execute(Action(type=ActionType.ROLLOUT_RESTART), marker=marker)
    assert first.applied and first.marker == marker
    deployment = await rolled_out(target)
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations[rollout.RESTARTED_AT_ANNOTATION] == marker
    revisions = await target.revisions()
    assert [r.number for r in revisions] == [2, 1]

    again = await target.execute(Action(type=ActionType.ROLLOUT_RESTART), marker=marker)
    assert not again.applied
    assert (await target.read())["metadata"]["generation"] == deployment["metadata"]["generation"]
    assert len(await target.revisions()) == 2


async def test_restart_refused_when_paused(
    kube_api: Any, target: kube.TargetDeployment, namespace: str
) -> None:
    await asyncio.to_thread(
        client.AppsV1Api(kube_api).patch_namespaced_deployment, NAME, namespace, {"spec": {"paused": True}}
    )
    with pytest.raises(kube.DeploymentPausedError):
        await target.execute(Action(type=ActionType.ROLLOUT_RESTART), marker=kube.restart_marker(NOW))


async def test_scale_and_restore(target: kube.TargetDeployment) -> None:
    await rolled_out(target)
    pre = await target.capture_pre_state(now=NOW)
    assert pre.replicas == 2 and pre.revision == 1
    result = await target.execute(Action(type=ActionType.SCALE, scale=ScaleParams(replicas=3)))
    assert result.applied
    assert (await rolled_out(target))["status"]["availableReplicas"] == 3
    assert not (await target.execute(Action(type=ActionType.SCALE, scale=ScaleParams(replicas=3)))).applied

    restored = await target.restore(pre)
    assert restored.applied
    assert (await rolled_out(target))["spec"]["replicas"] == 2
    assert not (await target.restore(pre)).applied


async def test_config_patch_and_restore(kube_api: Any, target: kube.TargetDeployment, namespace: str) -> None:
    await rolled_out(target)
    core = client.CoreV1Api(kube_api)
    pre = await target.capture_pre_state(now=NOW, config_map=CM, keys=["LOG_LEVEL", "POOL_SIZE"])
    assert pre.config_maps[0].data == {"LOG_LEVEL": "info"}
    assert pre.config_maps[0].absent_keys == ["POOL_SIZE"]
    marker = kube.restart_marker(NOW)
    action = Action(
        type=ActionType.CONFIG_PATCH,
        config_patch=ConfigPatchParams(
            config_map_ref=LocalObjectReference(name=CM), key="POOL_SIZE", value="50"
        ),
    )
    result = await target.execute(action, marker=marker, pre_state=pre)
    assert result.applied
    cm = await asyncio.to_thread(core.read_namespaced_config_map, CM, namespace)
    assert cm.data == {"LOG_LEVEL": "info", "POOL_SIZE": "50"}
    deployment = await rolled_out(target)
    assert (
        deployment["spec"]["template"]["metadata"]["annotations"][rollout.RESTARTED_AT_ANNOTATION] == marker
    )
    # Retried after a crash: nothing is written twice (the stale resourceVersion is not even needed).
    assert not (await target.execute(action, marker=marker, pre_state=pre)).applied

    await target.restore(pre)
    cm = await asyncio.to_thread(core.read_namespaced_config_map, CM, namespace)
    assert cm.data == {"LOG_LEVEL": "info"}
    deployment = await rolled_out(target)
    assert rollout.RESTARTED_AT_ANNOTATION not in (
        deployment["spec"]["template"]["metadata"].get("annotations") or {}
    )


async def test_config_patch_conflicts_when_configmap_changed(
    kube_api: Any, target: kube.TargetDeployment, namespace: str
) -> None:
    pre = await target.capture_pre_state(now=NOW, config_map=CM, keys=["LOG_LEVEL"])
    await asyncio.to_thread(
        client.CoreV1Api(kube_api).patch_namespaced_config_map, CM, namespace, {"data": {"OTHER": "x"}}
    )
    action = Action(
        type=ActionType.CONFIG_PATCH,
        config_patch=ConfigPatchParams(
            config_map_ref=LocalObjectReference(name=CM), key="LOG_LEVEL", value="debug"
        ),
    )
    with pytest.raises(kube.ConfigChanged):
        await target.execute(action, marker=kube.restart_marker(NOW), pre_state=pre)


async def test_rollback_to_previous_revision(
    kube_api: Any, target: kube.TargetDeployment, namespace: str
) -> None:
    await rolled_out(target)
    await set_image(kube_api, namespace, "chatapp:2.0")
    await rolled_out(target)
    rollback = Action(type=ActionType.ROLLBACK, rollback=RollbackParams(to_revision=1))
    result = await target.execute(rollback)
    assert result.applied
    deployment = await rolled_out(target)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "chatapp:1.0"
    assert "pod-template-hash" not in deployment["spec"]["template"]["metadata"]["labels"]
    # Revision 1's ReplicaSet is now revision 3 (history "1"): a retry finds it and does nothing.
    assert (await target.find_revision(1)).number == 3
    assert not (await target.execute(rollback)).applied

    with pytest.raises(kube.RevisionNotFound, match="revision 9"):
        await target.execute(Action(type=ActionType.ROLLBACK, rollback=RollbackParams(to_revision=9)))


async def test_restore_after_restart_returns_to_previous_template(target: kube.TargetDeployment) -> None:
    before = await rolled_out(target)
    pre = await target.capture_pre_state(now=NOW)
    await target.execute(Action(type=ActionType.ROLLOUT_RESTART), marker=kube.restart_marker(NOW))
    await rolled_out(target)
    result = await target.restore(pre)
    assert result.applied
    after = await rolled_out(target)
    assert rollout.template_equal_ignoring_hash(after["spec"]["template"], before["spec"]["template"])
    assert not (await target.restore(pre)).applied


async def test_lease_exclusive_until_release_or_expiry(kube_api: Any, namespace: str) -> None:
    first = kube.TargetLease(
        kube_api, namespace=namespace, deployment=NAME, holder="rem-a", duration_seconds=30
    )
    second = kube.TargetLease(
        kube_api, namespace=namespace, deployment=NAME, holder="rem-b", duration_seconds=30
    )
    assert await first.acquire(now=NOW)
    assert await first.acquire(now=NOW + timedelta(seconds=5))  # ours: renewed
    assert not await second.acquire(now=NOW + timedelta(seconds=10))
    assert await first.current_holder(now=NOW + timedelta(seconds=10)) == "rem-a"
    assert not await second.release()
    assert await first.release()
    assert await second.acquire(now=NOW + timedelta(seconds=11))
    assert not await first.renew(now=NOW + timedelta(seconds=12))
    # Expired (renewTime 11s + 30s): the next holder takes over.
    assert await first.acquire(now=NOW + timedelta(seconds=42))
    lease = await first.read()
    assert lease is not None
    assert lease["spec"]["holderIdentity"] == "rem-a"
    assert lease["spec"]["leaseTransitions"] == 2  # rem-a -> rem-b -> rem-a


async def test_the_planner_sees_one_target_model_with_revisions(
    kube_api: Any, target: kube.TargetDeployment, namespace: str
) -> None:
    await rolled_out(target)
    await set_image(kube_api, namespace, "chatapp:2.0")
    await rolled_out(target)
    state = await target.state(now=datetime.now(UTC))
    snapshot = await target.snapshot()
    assert isinstance(state, rollout.TargetSnapshot)
    assert (state.name, state.replicas, state.revision, state.rollout_done) == (NAME, 2, 2, True)
    assert state.model_dump(exclude={"image", "containers", "revisions", "current_revision_age_seconds"}) == (
        snapshot.model_dump(exclude={"image", "containers", "revisions", "current_revision_age_seconds"})
    )
    assert state.image == "chatapp:2.0" and state.containers == {"chatapp": {"requests": {}, "limits": {}}}
    assert [(r.revision, r.image) for r in sorted(state.revisions, key=lambda r: r.revision)] == [
        (1, "chatapp:1.0"),
        (2, "chatapp:2.0"),
    ]
    assert state.current_revision_age_seconds is not None and state.current_revision_age_seconds >= 0
