"""SetResources against the real local cluster: dry run, apply once, refuse unknown containers, restore."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes import client

from maintenance_operator.adapters import kube
from maintenance_operator.api.v1alpha1 import Action, ActionType, SetResourcesParams
from maintenance_operator.domain import rollout

pytestmark = pytest.mark.e2e

NAME = "chatapp"
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
LABELS = {"app.kubernetes.io/name": "chatapp", "app.kubernetes.io/instance": NAME}
RESOURCES = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}


def set_resources(container: str = "app", **values: str) -> Action:
    return Action(
        type=ActionType.SET_RESOURCES, set_resources=SetResourcesParams(container=container, **values)
    )


@pytest.fixture
def target(kube_api: Any, namespace: str) -> kube.TargetDeployment:
    body: Any = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "labels": LABELS},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": LABELS},
            "progressDeadlineSeconds": 60,
            "template": {
                "metadata": {"labels": LABELS},
                "spec": {
                    "containers": [
                        {"name": "sidecar", "image": "proxy:1.0"},
                        {"name": "app", "image": "chatapp:1.0", "resources": RESOURCES},
                    ]
                },
            },
        },
    }
    client.AppsV1Api(kube_api).create_namespaced_deployment(namespace, body)
    return kube.TargetDeployment(kube_api, namespace=namespace, name=NAME)


async def rolled_out(target: kube.TargetDeployment, *, within_seconds: float = 60) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_seconds
    state = await target.rollout_state()
    while not (state.done or state.failed) and loop.time() < deadline:
        await asyncio.sleep(0.25)
        state = await target.rollout_state()
    assert state.done, state.message
    return await target.read()


def app_resources(deployment: dict[str, Any]) -> dict[str, Any]:
    [app] = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "app"]
    return dict(app.get("resources") or {})


async def test_state_lists_each_containers_resources(target: kube.TargetDeployment) -> None:
    await rolled_out(target)
    state = await target.state(now=NOW)
    assert state.containers["app"] == {"requests": RESOURCES["requests"], "limits": RESOURCES["limits"]}
    assert state.containers["sidecar"] == {"requests": {}, "limits": {}}


async def test_dry_run_changes_nothing(target: kube.TargetDeployment) -> None:
    before = await rolled_out(target)
    result = await target.execute(set_resources(cpu_request="250m"), propose_only=True)
    assert not result.applied and "250m" in result.diff
    assert app_resources(await target.read()) == app_resources(before) == RESOURCES


async def test_set_resources_applies_once_and_restore_undoes_it(target: kube.TargetDeployment) -> None:
    before = await rolled_out(target)
    pre = await target.capture_pre_state(now=NOW)
    action = set_resources(cpu_request="250m", memory_request="192Mi", memory_limit="384Mi")
    result = await target.execute(action)
    assert result.applied and result.marker == "app"
    after = await rolled_out(target)
    assert app_resources(after) == {
        "requests": {"cpu": "250m", "memory": "192Mi"},
        "limits": {"memory": "384Mi"},
    }
    [sidecar] = [c for c in after["spec"]["template"]["spec"]["containers"] if c["name"] == "sidecar"]
    assert "resources" not in sidecar or not sidecar["resources"]
    assert not (await target.execute(action)).applied  # idempotent: already there
    restored = await target.restore(pre)
    assert restored.applied
    back = await rolled_out(target)
    assert app_resources(back) == RESOURCES
    assert rollout.template_equal_ignoring_hash(back["spec"]["template"], before["spec"]["template"])


async def test_unknown_container_is_refused_before_any_write(target: kube.TargetDeployment) -> None:
    before = await rolled_out(target)
    with pytest.raises(kube.ContainerNotFound, match="no container web"):
        await target.execute(set_resources("web", cpu_request="250m"))
    assert (await target.read())["metadata"]["generation"] == before["metadata"]["generation"]
