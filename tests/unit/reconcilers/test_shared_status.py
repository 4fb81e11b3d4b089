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
