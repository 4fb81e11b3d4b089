"""adapters/kube_rest.py against the real local cluster: the same answers and errors as the generated API
classes it replaces, and Secret values read through it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from maintenance_operator.adapters import crs, kube_rest

pytestmark = pytest.mark.e2e


def _json(response: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(response.data)
    return data


def test_reads_are_the_generated_clients_json(kube_api: Any, namespace: str) -> None:
    config_map: Any = {"metadata": {"name": "settings", "labels": {"a": "b"}}, "data": {"K": "v"}}
    client.CoreV1Api(kube_api).create_namespaced_config_map(namespace, config_map)
    core = kube_rest.CoreV1(kube_api)

    ours = _json(core.read_namespaced_config_map("settings", namespace))
    generated = _json(
        client.CoreV1Api(kube_api).read_namespaced_config_map("settings", namespace, _preload_content=False)
    )

    assert ours == generated
    assert ours["data"] == {"K": "v"}


def test_a_missing_object_raises_the_api_exception_with_its_status(kube_api: Any, namespace: str) -> None:
    with pytest.raises(ApiException) as raised:
        kube_rest.AppsV1(kube_api).read_namespaced_deployment("absent", namespace)

    assert raised.value.status == 404
    assert "absent" in str(raised.value.body)


def test_patch_dry_run_changes_nothing_and_the_field_manager_is_recorded(
    kube_api: Any, namespace: str
) -> None:
    config_map: Any = {"metadata": {"name": "settings"}, "data": {"K": "v"}}
    client.CoreV1Api(kube_api).create_namespaced_config_map(namespace, config_map)
    core = kube_rest.CoreV1(kube_api)
    patch = {"data": {"K": "w"}}

    dry = _json(
        core.patch_namespaced_config_map(
            "settings", namespace, patch, dry_run="All", _content_type="application/merge-patch+json"
        )
    )
    assert dry["data"] == {"K": "w"}
    assert client.CoreV1Api(kube_api).read_namespaced_config_map("settings", namespace).data == {"K": "v"}

    core.patch_namespaced_config_map(
        "settings", namespace, patch, field_manager="rest-test", _content_type="application/merge-patch+json"
    )
    stored = client.CoreV1Api(kube_api).read_namespaced_config_map("settings", namespace)
    assert stored.data == {"K": "w"}
    assert "rest-test" in [m.manager for m in stored.metadata.managed_fields]


def test_list_filters_by_label_selector(kube_api: Any, namespace: str) -> None:
    core = client.CoreV1Api(kube_api)
    for name, app in (("one", "x"), ("two", "y")):
        body: Any = {"metadata": {"name": name, "labels": {"app": app}}}
        core.create_namespaced_config_map(namespace, body)
    # ReplicaSets are listed the same way; ConfigMaps keep this test free of controllers.
    listed = _json(
        kube_rest.request(
            kube_api,
            "GET",
            "/api/v1/namespaces/{namespace}/configmaps",
            path_params={"namespace": namespace},
            query={"labelSelector": "app=x", "limit": None},
        )
    )

    assert [i["metadata"]["name"] for i in listed["items"]] == ["one"]
    replica_sets = _json(
        kube_rest.AppsV1(kube_api).list_namespaced_replica_set(namespace, label_selector="app=x")
    )
    assert (replica_sets["kind"], replica_sets["items"]) == ("ReplicaSetList", [])


async def test_secret_values_are_read_through_it(kube_api: Any, namespace: str) -> None:
    secret: Any = {"metadata": {"name": "creds"}, "stringData": {"token": "s3cr3t"}}
    client.CoreV1Api(kube_api).create_namespaced_secret(namespace, secret)
    resources = crs.CustomResources(kube_api)

    assert await resources.read_secret(namespace, "creds", "token") == "s3cr3t"
    assert await resources.read_secret(namespace, "creds", "other") is None
    assert await resources.read_secret(namespace, "absent", "token") is None
