"""The fleet scheduler: due times from policy status, creation, stamping and pruning without LIST."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import kopf
import pytest

from maintenance_operator.adapters import crs, errors
from maintenance_operator.config import OperatorConfig
from maintenance_operator.domain import retention, scheduling, timestamps
from maintenance_operator.domain import schedule as schedule_domain
from maintenance_operator.handlers import schedule
from tests.fixtures import fakes

KEY = ("chatapp", "chatapp")
SPEC: dict[str, Any] = {
    "targetRef": {"name": "chatapp"},
    "schedule": {"healthCheck": "5m", "performanceAnalysis": "15m"},
    "historyLimit": 2,
    "indicators": [{"name": "err", "dimension": "core", "query": "q", "warning": 0.01, "critical": 0.05}],
}


def policy_body(status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "maintenance.chatapp.io/v1alpha1",
        "kind": "MaintenancePolicy",
        "metadata": {"name": "chatapp", "namespace": "chatapp", "uid": "u1"},
        "spec": {**SPEC, **spec},
        "status": status or {},
    }


def fleet_with(store: fakes.FakeStore, **config: Any) -> schedule.Fleet:
    return schedule.Fleet(lambda: cast(crs.CustomResources, store), config=OperatorConfig(**config))


def test_due_time_spreads_new_policies_and_follows_status() -> None:
    now = time.time()
    jitter = scheduling.jitter_fraction("chatapp/chatapp")
    assert schedule.due_time(KEY, policy_body(), now=now, spread=10.0) == pytest.approx(now + jitter * 10)
    recent = timestamps.rfc3339(datetime.fromtimestamp(now - 60, UTC))
    status = {"lastHealthCheckTime": recent, "lastPerformanceAnalysisTime": recent}
    due = schedule.due_time(KEY, policy_body(status), now=now, spread=10.0)
    assert due == pytest.approx(now - 60 + 300, abs=1)  # seconds precision of the stamp
    assert schedule.due_time(KEY, policy_body(suspend=True), now=now, spread=10.0) is None
    assert schedule.due_time(KEY, policy_body(indicators=[]), now=now, spread=10.0) is None


def test_observe_upserts_and_removes() -> None:
    fleet = fleet_with(fakes.FakeStore())
    fleet.observe(KEY, policy_body())
    assert fleet.scheduler.due(KEY) is not None
    fleet.observe(KEY, policy_body(suspend=True))
    assert fleet.scheduler.due(KEY) is None
    fleet.observe(KEY, policy_body())
    fleet.observe(KEY, None)
    assert fleet.scheduler.due(KEY) is None and KEY not in fleet.bodies


async def test_fire_creates_stamps_reschedules_and_prunes_from_the_inventory() -> None:
    store = fakes.FakeStore()
    store.put("MaintenancePolicy", policy_body())
    fleet = fleet_with(store)
    old = datetime.now(UTC) - timedelta(days=60)
    for i in range(4):  # finished history beyond historyLimit=2
        fleet.inventory.put_assessment(
            KEY,
            schedule_domain.AssessmentRef(name=f"old-{i}", created=f"2026-01-0{i + 1}", phase="Completed"),
        )
    fleet.inventory.put_remediation(
        KEY, retention.RemediationRef(name="ancient", created=old, phase="Succeeded", completed=old)
    )
    fleet.inventory.put_remediation(
        KEY, retention.RemediationRef(name="open", created=old, phase="Executing")
    )
    fleet.observe(KEY, policy_body())
    due = time.time() - 1.0
    await fleet.fire(KEY, due)

    created = [o for (kind, _, _), o in store.objects.items() if kind == "HealthAssessment"]
    assert len(created) == 1
    assessment = created[0]
    assert assessment["spec"]["analysis"] == "PerformanceAnalysis"
    stamped_due = timestamps.parse(assessment["metadata"]["annotations"][schedule.DUE_ANNOTATION])
    assert stamped_due.timestamp() == pytest.approx(due, abs=1e-3)
    status = store.status("MaintenancePolicy", *KEY)
    assert status["lastHealthCheckTime"] == status["lastPerformanceAnalysisTime"]
    next_due = fleet.scheduler.due(KEY)
    assert next_due is not None and next_due > time.time() + 200  # next health check, 5m later
    assert sorted(store.deleted) == [
        ("HealthAssessment", "old-0"),
        ("HealthAssessment", "old-1"),
        ("Remediation", "ancient"),
    ]
    assert [r.name for r in fleet.inventory.remediations_of(KEY)] == ["open"]


async def test_fire_again_in_the_same_slot_creates_nothing_and_prunes_nothing() -> None:
    store = fakes.FakeStore()
    store.put("MaintenancePolicy", policy_body())
    fleet = fleet_with(store)
    fleet.observe(KEY, policy_body())
    await fleet.fire(KEY, time.time())
    fleet.bodies[KEY] = policy_body()  # a stale watch event: the status stamp not seen yet
    store.deleted.clear()
    await fleet.fire(KEY, time.time())
    assert sum(1 for (kind, _, _) in store.objects if kind == "HealthAssessment") == 1
    assert store.deleted == []


async def test_fire_for_a_deleted_or_suspended_policy_does_nothing() -> None:
    store = fakes.FakeStore()
    fleet = fleet_with(store)
    await fleet.fire(KEY, time.time())
    fleet.bodies[KEY] = policy_body(suspend=True)
    await fleet.fire(KEY, time.time())
    assert store.objects == {} and fleet.scheduler.due(KEY) is None


async def test_watch_handlers_keep_the_inventory_and_the_heap() -> None:
    memo = kopf.Memo()
    fleet = fleet_with(fakes.FakeStore())
    memo.fleet = fleet
    labels = {crs.POLICY_LABEL: "chatapp"}
    assessment = kopf.Body(
        {
            "metadata": {"name": "a1", "namespace": "chatapp", "labels": labels, "creationTimestamp": "t"},
            "status": {"phase": "Completed"},
        }
    )
    await schedule.watch_assessment(event={"type": "ADDED"}, body=assessment, memo=memo)
    assert [r.phase for r in fleet.inventory.assessments_of(KEY)] == ["Completed"]
    await schedule.watch_assessment(event={"type": "DELETED"}, body=assessment, memo=memo)
    assert fleet.inventory.assessments_of(KEY) == []

    remediation = kopf.Body(
        {
            "metadata": {
                "name": "r1",
                "namespace": "chatapp",
                "labels": labels,
                "creationTimestamp": "2026-01-01T00:00:00Z",
            },
            "status": {"phase": "Succeeded", "completedAt": "2026-01-02T00:00:00Z"},
        }
    )
    await schedule.watch_remediation(event={"type": "MODIFIED"}, body=remediation, memo=memo)
    assert [r.completed for r in fleet.inventory.remediations_of(KEY)] == [datetime(2026, 1, 2, tzinfo=UTC)]

    await schedule.watch_policy(event={"type": None}, body=kopf.Body(policy_body()), memo=memo)
    assert fleet.scheduler.due(KEY) is not None
    await schedule.watch_policy(event={"type": "DELETED"}, body=kopf.Body(policy_body()), memo=memo)
    assert fleet.scheduler.due(KEY) is None


def test_the_fleet_keeps_a_compact_copy_of_each_policy() -> None:
    from pathlib import Path

    import yaml

    samples = Path(__file__).resolve().parents[3] / "crds" / "samples"
    sample = next(
        d
        for d in yaml.safe_load_all((samples / "chatapp-policy.yaml").read_text())
        if d and d.get("kind") == "MaintenancePolicy"
    )
    stamp = "2030-01-01T00:00:00Z"
    body = {
        **sample,
        "metadata": {**sample["metadata"], "uid": "u1", "managedFields": [{"manager": "kubectl"}]},
        "status": {"lastHealthCheckTime": stamp, "indicatorStates": [{"name": "x"}], "conditions": []},
    }
    kept = schedule.compact(cast(kopf.Body, body))
    assert kept is not None
    assert kept["metadata"] == {"name": "chatapp", "namespace": "chatapp", "uid": "u1"}
    assert kept["status"] == {"lastHealthCheckTime": stamp}
    assert len(kept["spec"]["indicators"]) == 1 < len(sample["spec"]["indicators"])
    assert len(str(kept)) * 4 < len(str(body))
    # what the scheduler decides from the copy is what it decided from the whole policy
    now = time.time()
    assert schedule.due_time(KEY, kept, now=now, spread=10) == schedule.due_time(
        KEY, body, now=now, spread=10
    )
    invalid = {**body, "spec": {**sample["spec"], "indicators": []}}
    assert schedule.compact(cast(kopf.Body, invalid)) is None


async def test_a_replica_schedules_only_owned_policies_and_drops_a_lost_shard_at_once() -> None:
    store = fakes.FakeStore()
    fleet = fleet_with(store)
    owned = {KEY}
    fleet.owns = lambda key: key in owned
    other = ("chatapp", "other")
    fleet.observe(KEY, policy_body())
    fleet.observe(other, policy_body())
    assert fleet.scheduler.due(KEY) is not None and fleet.scheduler.due(other) is None
    owned.clear()
    fleet.reshard()
    assert len(fleet.scheduler) == 0 and set(fleet.bodies) == {KEY, other}  # bodies kept for a takeover
    await fleet.fire(KEY, time.time())  # popped just before the shard was lost: nothing is created
    assert store.objects == {} and store.patches == []
    owned.add(other)
    fleet.reshard()
    assert fleet.scheduler.due(other) is not None and fleet.scheduler.due(KEY) is None


def test_creations_at_once_follow_the_api_calls_in_flight() -> None:
    store = fakes.FakeStore()
    assert fleet_with(store).scheduler.max_concurrent_fires == 8, "16 API calls in flight by default"
    assert fleet_with(store, api_max_in_flight=40).scheduler.max_concurrent_fires == 20
    assert fleet_with(store, api_max_in_flight=2).scheduler.max_concurrent_fires == 4


def assessment_body(name: str, *, phase: str | None = None, labelled: bool = False) -> kopf.Body:
    meta: dict[str, Any] = {"name": name, "namespace": "chatapp", "creationTimestamp": "t"}
    if labelled:
        meta["labels"] = {crs.POLICY_LABEL: "chatapp"}
    return kopf.Body(
        {
            "kind": "HealthAssessment",
            "metadata": meta,
            "spec": {"policyRef": {"name": "chatapp"}},
            "status": {"phase": phase} if phase else {},
        }
    )


async def test_every_unfinished_assessment_is_tracked_by_its_policy_labelled_or_not() -> None:
    memo = kopf.Memo()
    fleet = fleet_with(fakes.FakeStore())
    memo.fleet = fleet
    await schedule.watch_assessment(event={"type": "ADDED"}, body=assessment_body("by-hand"), memo=memo)
    await schedule.watch_assessment(
        event={"type": "ADDED"}, body=assessment_body("scheduled", labelled=True), memo=memo
    )
    assert fleet.inventory.unfinished == {("chatapp", "by-hand"): KEY, ("chatapp", "scheduled"): KEY}
    # only the scheduler's own (labelled) assessments are in the history it prunes
    assert [r.name for r in fleet.inventory.assessments_of(KEY)] == ["scheduled"]
    await schedule.watch_assessment(
        event={"type": "MODIFIED"}, body=assessment_body("by-hand", phase="Completed"), memo=memo
    )
    await schedule.watch_assessment(
        event={"type": "DELETED"}, body=assessment_body("scheduled", labelled=True), memo=memo
    )
    assert fleet.inventory.unfinished == {}
    assert fleet.inventory.assessments_of(KEY) == []


async def test_a_takeover_touches_the_owned_unfinished_assessments_so_kopf_runs_them_again() -> None:
    store = fakes.FakeStore()
    fleet = fleet_with(store)
    theirs = ("chatapp", "other")
    fleet.owns = lambda key: key == KEY
    for name in ("left", "gone"):
        fleet.inventory.note_progress(("chatapp", name), policy=KEY, finished=False)
    fleet.inventory.note_progress(("chatapp", "not-ours"), policy=theirs, finished=False)
    store.put("HealthAssessment", {"metadata": {"name": "left", "namespace": "chatapp"}})
    store.put("HealthAssessment", {"metadata": {"name": "not-ours", "namespace": "chatapp"}})
    # "gone" was deleted before the takeover: nothing to touch, no error
    touched = await fleet.adopt("replica-1")
    assert touched == [("chatapp", "left")]
    assert store.annotated == [
        ("HealthAssessment", "chatapp", "left", {schedule.ADOPTED_BY_ANNOTATION: "replica-1"})
    ]
    left = await store.get("HealthAssessment", "chatapp", "left")
    assert left is not None and left["metadata"]["annotations"][schedule.ADOPTED_BY_ANNOTATION] == "replica-1"


async def test_an_api_error_while_adopting_skips_that_assessment_only() -> None:
    store = fakes.FakeStore()
    fleet = fleet_with(store)
    for name in ("a1", "a2"):
        fleet.inventory.note_progress(("chatapp", name), policy=KEY, finished=False)
        store.put("HealthAssessment", {"metadata": {"name": name, "namespace": "chatapp"}})
    real = store.annotate

    async def flaky(kind: str, namespace: str, name: str, annotations: dict[str, str]) -> bool:
        if name == "a1":
            raise errors.ApiError(503, "Service Unavailable")
        return await real(kind, namespace, name, annotations)

    store.annotate = flaky  # type: ignore[method-assign]
    assert await fleet.adopt("replica-1") == [("chatapp", "a2")]


async def test_adopt_soon_runs_in_a_task_that_is_kept_until_done() -> None:
    store = fakes.FakeStore()
    fleet = fleet_with(store)
    fleet.inventory.note_progress(("chatapp", "a1"), policy=KEY, finished=False)
    store.put("HealthAssessment", {"metadata": {"name": "a1", "namespace": "chatapp"}})
    fleet.adopt_soon("replica-1")
    [task] = fleet.adoptions
    assert await task == [("chatapp", "a1")]
    assert fleet.adoptions == set()
