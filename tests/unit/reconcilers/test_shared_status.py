"""Shared conditions written by type under a resourceVersion precondition (reconcilers/shared_status.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from maintenance_operator.reconcilers import shared_status
from tests.fixtures.fakes import FakeStore

NOW = datetime(2030, 1, 1, tzinfo=UTC)
KIND = "MaintenancePolicy"


def _store() -> FakeStore:
    store = FakeStore()
    store.put(KIND, {"metadata": {"name": "p", "namespace": "ns"}, "status": {}})
    store.yield_on_get = True  # every read gives way: the two writers interleave
    return store


async def _write(store: FakeStore, change: shared_status.ConditionChange, **fields: object) -> bool:
    return await shared_status.write(
        store, kind=KIND, namespace="ns", name="p", changes=[change], fields=fields, now=NOW
    )


async def test_two_interleaved_writers_keep_both_conditions() -> None:
    store = _store()
    ready = shared_status.ConditionChange("Ready", True, "Accepted")
    alert = shared_status.ConditionChange("HealthAlert", False, "Healthy")
    assert all(await asyncio.gather(_write(store, ready), _write(store, alert, overallScore=9.0)))
    status = store.status(KIND, "ns", "p")
    assert sorted(c["type"] for c in status["conditions"]) == ["HealthAlert", "Ready"]
    assert status["overallScore"] == 9.0


async def test_a_changed_type_is_replaced_not_appended() -> None:
    store = _store()
    await _write(store, shared_status.ConditionChange("HealthAlert", False, "Healthy"))
    await _write(store, shared_status.ConditionChange("HealthAlert", True, "Critical", "overall 2"))
    [alert] = store.status(KIND, "ns", "p")["conditions"]
    assert (alert["status"], alert["reason"], alert["message"]) == ("True", "Critical", "overall 2")


async def test_a_missing_object_is_not_written() -> None:
    store = FakeStore()
    assert not await _write(store, shared_status.ConditionChange("Ready", True, "Accepted"))
    assert store.patches == []


class _CountingStore(FakeStore):
    def __init__(self) -> None:
        super().__init__()
        self.gets = 0
        self.preconditions: list[str | None] = []

    async def get(self, kind: str, namespace: str, name: str) -> dict[str, object] | None:
        self.gets += 1
        return await super().get(kind, namespace, name)

    async def patch_status(
        self,
        kind: str,
        namespace: str,
        name: str,
        status: dict[str, object],
        *,
        resource_version: str | None = None,
    ) -> None:
        self.preconditions.append(resource_version)
        await super().patch_status(kind, namespace, name, status, resource_version=resource_version)


async def test_update_of_a_held_condition_patches_only_the_fields_without_a_read() -> None:
    store = _CountingStore()
    alert = shared_status.ConditionChange("HealthAlert", False, "ScoreOK", "overall score at or above 7")
    store.put(KIND, {"metadata": {"name": "p", "namespace": "ns"}, "status": {}})
    assert await _write(store, alert)
    read = await store.get(KIND, "ns", "p")
    assert read is not None
    before = store.status(KIND, "ns", "p")["conditions"]
    store.gets, store.preconditions = 0, []
    assert await shared_status.update(
        store, kind=KIND, read=read, changes=[alert], fields={"overallScore": 9.1}, now=NOW
    )
    assert store.gets == 0 and store.preconditions == [None], "one plain merge patch"
    assert store.patches[-1][2] == {"overallScore": 9.1}, "the condition list is not sent"
    status = store.status(KIND, "ns", "p")
    assert status["conditions"] == before and status["overallScore"] == 9.1


async def test_update_of_a_changed_condition_reads_fresh_and_writes_under_a_precondition() -> None:
    store = _CountingStore()
    store.put(KIND, {"metadata": {"name": "p", "namespace": "ns"}, "status": {}})
    read = await store.get(KIND, "ns", "p")
    assert read is not None
    await _write(store, shared_status.ConditionChange("Ready", True, "Accepted"))  # written meanwhile
    store.gets, store.preconditions = 0, []
    alert = shared_status.ConditionChange("HealthAlert", True, "ScoreBelow7", "overall score below 7")
    assert await shared_status.update(store, kind=KIND, read=read, changes=[alert], fields={}, now=NOW)
    assert store.gets == 1 and store.preconditions[0] is not None
    assert sorted(c["type"] for c in store.status(KIND, "ns", "p")["conditions"]) == ["HealthAlert", "Ready"]


async def test_update_of_a_deleted_object_writes_nothing() -> None:
    store = _CountingStore()
    alert = shared_status.ConditionChange("HealthAlert", None, "InsufficientData", "no score")
    held = {"type": "HealthAlert", "status": "Unknown", "reason": "InsufficientData", "message": "no score"}
    read = {"metadata": {"name": "gone", "namespace": "ns"}, "status": {"conditions": [held]}}
    assert not await shared_status.update(
        store, kind=KIND, read=read, changes=[alert], fields={"x": 1}, now=NOW
    )
