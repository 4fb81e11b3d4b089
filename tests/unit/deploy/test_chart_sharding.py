"""The chart's sharded mode: replicas, the sharding settings the operator reads, and Lease RBAC."""

from __future__ import annotations

from typing import Any

import pytest

from maintenance_operator.config import OperatorConfig
from tests.fixtures.helm import CHART, NEEDS_HELM, helm, of_kind, one, render

pytestmark = NEEDS_HELM
SHARDED = ("--set", "sharding.enabled=true", "--set", "replicas=4", "--set", "sharding.shards=6")


def _env(deployment: dict[str, Any]) -> dict[str, Any]:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_sharded_replicas_get_the_sharding_settings_and_no_peering() -> None:
    docs = render(*SHARDED, "--set", "sharding.leaseDurationSeconds=20")
    deployment = one(docs, "Deployment")
    assert deployment["spec"]["replicas"] == 4
    env = _env(deployment)
    assert env["MAINTENANCE_OPERATOR_SHARDING_ENABLED"] == "true"
    assert env["MAINTENANCE_OPERATOR_SHARDING_SHARDS"] == "6"
    assert env["MAINTENANCE_OPERATOR_SHARDING_LEASE_DURATION_SECONDS"] == "20"
    assert env["MAINTENANCE_OPERATOR_SHARDING_LEASE_NAMESPACE"] == "ops"
    assert env["MAINTENANCE_OPERATOR_SHARDING_LEASE_PREFIX"] == "mo-maintenance-operator-shard"
    assert "MAINTENANCE_OPERATOR_PEERING" not in env
    assert env["POD_NAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}  # the Lease holder identity
    config = OperatorConfig.from_env({k: v for k, v in env.items() if isinstance(v, str)})
    assert (config.sharding_enabled, config.sharding_shards, config.sharding_lease_duration_seconds) == (
        True,
        6,
        20,
    )


def test_sharded_replicas_may_create_and_renew_only_their_shard_leases() -> None:
    docs = render(*SHARDED)
    role = one(docs, "Role", "mo-maintenance-operator-shards")
    assert role["metadata"]["namespace"] == "ops"
    create, renew = role["rules"]
    assert create == {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]}
    assert renew["verbs"] == ["get", "update"]
    assert renew["resourceNames"] == [f"mo-maintenance-operator-shard-{i}" for i in range(6)]
    binding = one(docs, "RoleBinding", "mo-maintenance-operator-shards")
    assert binding["roleRef"]["name"] == "mo-maintenance-operator-shards"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "mo-maintenance-operator", "namespace": "ops"}
    ]


def test_without_sharding_one_replica_and_no_lease_role() -> None:
    docs = render()
    assert one(docs, "Deployment")["spec"]["replicas"] == 1
    assert "MAINTENANCE_OPERATOR_SHARDING_ENABLED" not in _env(one(docs, "Deployment"))
    assert not [r for r in of_kind(docs, "Role") if r["metadata"]["name"].endswith("-shards")]
    peered = _env(one(render("--set", "peering.enabled=true"), "Deployment"))
    assert peered["MAINTENANCE_OPERATOR_PEERING"] == "maintenance-operator"


@pytest.mark.parametrize("other", ["standby.enabled=true", "peering.enabled=true"])
def test_sharding_with_peering_or_standby_fails(other: str) -> None:
    proc = helm("template", "mo", str(CHART), *SHARDED, "--set", other, check=False)
    assert proc.returncode != 0
    assert "sharding.enabled replaces peering and standby" in proc.stderr


@pytest.mark.parametrize("bad", ["sharding.shards=0", "sharding.leaseDurationSeconds=1", "sharding.typo=1"])
def test_schema_rejects_bad_sharding_values(bad: str) -> None:
    proc = helm("template", "mo", str(CHART), "--set", bad, check=False)
    assert proc.returncode != 0
