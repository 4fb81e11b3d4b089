"""Custom-resource helpers that need no API server."""

from __future__ import annotations

import pathlib

import pytest

from maintenance_operator.adapters import crs
from maintenance_operator.api import v1alpha1 as api


def test_owner_reference_to_a_policy_read_without_kind() -> None:
    body = {"metadata": {"name": "chat", "uid": "u-1", "namespace": "shop"}}
    ref = crs.owner_reference(body, kind="MaintenancePolicy")
    assert ref == {
        "apiVersion": api.API_VERSION,
        "kind": "MaintenancePolicy",
        "name": "chat",
        "uid": "u-1",
        "controller": True,
        "blockOwnerDeletion": False,
    }


def test_owner_reference_keeps_the_body_kind_and_version() -> None:
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "chat", "uid": "u-2"}}
    ref = crs.owner_reference(body, controller=False)
    assert (ref["apiVersion"], ref["kind"], ref["controller"]) == ("apps/v1", "Deployment", False)


def test_owner_reference_needs_a_uid() -> None:
    with pytest.raises(KeyError):
        crs.owner_reference({"kind": "MaintenancePolicy", "metadata": {"name": "chat"}})


def remediation(phase: str | None, **meta: object) -> dict[str, object]:
    return {
        "metadata": {
            "name": "r1",
            "namespace": "shop",
            "labels": {crs.TARGET_LABEL: "chat", crs.FINGERPRINT_LABEL: "abc"},
            "annotations": {crs.ACK_ANNOTATION: "alice", f"{api.GROUP}/planner": "offline"},
            "managedFields": [{"manager": "kopf"}],
            **meta,
        },
        "spec": {
            "targetRef": {"name": "chat"},
            "issue": {"severity": "high", "detectedAt": "t0", "predicted": False, "description": "x" * 2000},
            "plan": {"actions": [{"type": "RolloutRestart"}]},
        },
        "status": {"phase": phase, "startedAt": "t1", "history": [{"phase": "Proposed"}]} if phase else {},
    }


def test_a_remediation_summary_keeps_what_dedupe_and_the_guard_read() -> None:
    summary = crs.remediation_summary(remediation("Executing"))
    assert summary["metadata"]["annotations"] == {crs.ACK_ANNOTATION: "alice"}
    assert summary["metadata"]["labels"][crs.FINGERPRINT_LABEL] == "abc"
    assert summary["spec"]["issue"] == {"severity": "high", "detectedAt": "t0", "predicted": False}
    assert summary["spec"]["plan"] == {"actions": [{"type": "RolloutRestart"}]}  # can absorb an issue
    assert summary["status"] == {"phase": "Executing", "startedAt": "t1"}
    assert "plan" not in crs.remediation_summary(remediation("Succeeded"))["spec"]
    assert "plan" in crs.remediation_summary(remediation(None))["spec"]  # just created, no phase yet


async def test_remediations_come_from_the_watch_without_a_request() -> None:
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = "http://127.0.0.1:9"  # nothing listens: a request would fail the test
    resources = crs.CustomResources(client.ApiClient(configuration))
    other = crs.remediation_summary(remediation("Proposed", name="r2", labels={crs.TARGET_LABEL: "web"}))
    resources.watched_remediations = {"shop": [crs.remediation_summary(remediation("Proposed")), other]}
    found = await resources.remediations("shop", labels={crs.TARGET_LABEL: "chat"})
    assert [r["metadata"]["name"] for r in found] == ["r1"]
    found[0]["status"]["phase"] = "changed by the caller"
    assert [r["status"]["phase"] for r in await resources.remediations("shop")] == ["Proposed", "Proposed"]
    assert await resources.remediations("elsewhere") == []


def test_the_api_client_keeps_one_pooled_connection_per_api_thread(tmp_path: pathlib.Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:6443'}}]\n"
        "users: [{name: u, user: {token: not-a-secret}}]\n"
        "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
    )
    api_client = crs.new_api_client(str(kubeconfig), pool_size=24)
    try:
        assert api_client.configuration.host == "https://127.0.0.1:6443"
        assert api_client.configuration.connection_pool_maxsize == 24
        assert api_client.rest_client.pool_manager.connection_pool_kw["maxsize"] == 24
    finally:
        api_client.close()
