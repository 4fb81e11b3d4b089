"""Sharded replicas: which objects a replica handles, kopf state written only on owned objects."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import kopf

from maintenance_operator.handlers import common, probes, schedule, sharding
from maintenance_operator.reconcilers import shards as shards_lib


def body(kind: str, name: str, *, labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "metadata": {"namespace": "shop", "name": name, "labels": labels or {}},
        "spec": spec,
    }


def test_an_object_is_in_its_policys_shard() -> None:
    label = {"maintenance.chatapp.io/policy": "web"}
    assert common.owner_key(body("MaintenancePolicy", "web", labels={"x": "y"})) == ("shop", "web")
    assert common.owner_key(body("HealthAssessment", "web-hc-1", labels=label)) == ("shop", "web")
    assert common.owner_key(body("Remediation", "r-1", policyRef={"name": "web"})) == ("shop", "web")
    assert common.owner_key(body("MaintenanceReport", "weekly", selector={})) == ("shop", "weekly")


def test_owned_is_true_without_sharding_and_follows_held_shards_with_it() -> None:
    policy = body("MaintenancePolicy", "web")
    assert common.owned(policy, SimpleNamespace())
    store = SimpleNamespace(identity="replica-0")
    shards = shards_lib.Shards(count=3, store=store, duration=15.0)  # type: ignore[arg-type]
    assert shards.held == set()  # enabled, holding nothing yet
    memo = SimpleNamespace(shards=shards)
    assert not common.owned(policy, memo)
    shards.held = {shards.shard_of("shop", "web")}
    assert common.owned(policy, memo)
    assert common.owned(
        body("HealthAssessment", "web-1", labels={"maintenance.chatapp.io/policy": "web"}), memo
    )


def test_kopf_state_is_written_only_on_owned_objects() -> None:
    settings = kopf.OperatorSettings()
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="maintenance.chatapp.io")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="maintenance.chatapp.io", key="last-handled-configuration"
    )
    sharding.guard_storages(settings, lambda b: b["metadata"]["name"] == "mine")
    for name, written in (("mine", True), ("theirs", False)):
        patch = kopf.Patch()
        obj = kopf.Body(body("MaintenancePolicy", name))
        settings.persistence.diffbase_storage.store(body=obj, patch=patch, essence={"spec": {}})
        settings.persistence.progress_storage.store(
            key=kopf.HandlerId("h"), record={"started": "2026-01-01T00:00:00"}, body=obj, patch=patch
        )
        settings.persistence.progress_storage.touch(body=obj, patch=patch, value="x")
        annotations = dict(patch.get("metadata", {}).get("annotations", {}))
        assert bool(annotations) is written
        if written:
            assert "maintenance.chatapp.io/last-handled-configuration" in annotations


def test_sharding_starts_after_the_runtime_and_the_scheduler() -> None:
    order = [h.fn for h in kopf.get_default_registry()._activities.get_all_handlers()]
    start = order.index(sharding.start_sharding)
    assert order.index(probes.startup) < start and order.index(schedule.start_scheduler) < start


def test_the_sharded_replica_names_itself_and_an_unsharded_one_does_not() -> None:
    assert common.sharded_replica(SimpleNamespace()) is None
    assert common.sharded_replica(SimpleNamespace(shards=shards_lib.Shards.single())) is None
    store = SimpleNamespace(identity="replica-1")
    shards = shards_lib.Shards(count=3, store=store, duration=15.0)  # type: ignore[arg-type]
    assert common.sharded_replica(SimpleNamespace(shards=shards)) == "replica-1"
