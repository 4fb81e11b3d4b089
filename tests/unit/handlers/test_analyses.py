"""Scheduling and recording of the periodic analyses (handlers/analyses.py), with in-memory ports."""

from __future__ import annotations

import asyncio
import contextvars
import copy
from typing import Any

import kopf

from maintenance_operator import metrics
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import cadence
from maintenance_operator.handlers import analyses
from tests.fixtures import fakes
from tests.fixtures.analysis_fakes import GOOD, FakeRanges, FakeWorkload, policy

NOW = 1_900_000_000.0
DAY = 86400.0
A = cadence.Analysis
TARGET: dict[str, Any] = copy.deepcopy(GOOD) | {"metadata": {"generation": 4}}


HANDLER_CONTEXT: contextvars.ContextVar[str] = contextvars.ContextVar("handler_context")


async def test_the_heap_starts_once_in_the_context_of_a_policy_event() -> None:
    """kopf keeps its Event queue in context variables set for each object it handles: the heap's task must
    start inside a handler, not at startup, or every ``kopf.event`` it posts raises LookupError."""
    memo = kopf.Memo()
    await analyses.start_analyses(memo=memo)
    loop = analyses.loop_of(memo)
    assert loop.task is None  # nothing runs before a policy event
    seen: list[str | None] = []

    async def run_heap() -> None:
        seen.append(HANDLER_CONTEXT.get(None))

    loop.scheduler.run = run_heap  # type: ignore[method-assign]
    body = kopf.Body({"metadata": {"namespace": "shop", "name": "p"}})

    async def handler() -> None:
        HANDLER_CONTEXT.set("inside a kopf handler")
        await analyses.watch_policy_analyses(event={"type": "ADDED"}, body=body, memo=memo)

    await asyncio.create_task(handler())
    first = loop.task
    assert first is not None
    await analyses.watch_policy_analyses(event={"type": "MODIFIED"}, body=body, memo=memo)
    assert loop.task is first  # started once
    await first
    assert seen == ["inside a kopf handler"]


async def no_prometheus() -> FakeRanges:
    return FakeRanges({})


def typed(status: dict[str, Any]) -> api.MaintenancePolicyStatus:
    return api.MaintenancePolicyStatus.model_validate(status)


async def run(status: dict[str, Any], target: FakeWorkload | None = None, **spec: Any) -> analyses.Outcome:
    return await analyses.run_due(
        policy=policy(**spec),
        status=typed(status),
        name="p",
        namespace="shop",
        target=target or FakeWorkload(TARGET, pdb=True),
        prometheus=no_prometheus,
        now=NOW,
    )


def test_one_loop_not_a_timer_per_policy() -> None:
    registry = kopf.get_default_registry()
    assert "analyses" not in [h.id for h in registry._spawning.get_all_handlers()]
    assert "analyses" in [h.id for h in registry._watching.get_all_handlers()]


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def loop_on(
    store: fakes.FakeStore, target: FakeWorkload | None = None
) -> tuple[analyses.AnalysesLoop, list[tuple[str, str, str]]]:
    posted: list[tuple[str, str, str]] = []

    async def prometheus_of(namespace: str, spec: Any) -> FakeRanges:
        return FakeRanges({})

    loop = analyses.AnalysesLoop(
        resources=lambda: store,
        target_of=lambda namespace, name: target or FakeWorkload(TARGET, pdb=True),
        prometheus_of=prometheus_of,
        clock=Clock(),
        post_events=lambda body, events: posted.extend(events),
    )
    return loop, posted


def policy_body(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "maintenance.chatapp.io/v1alpha1",
        "kind": "MaintenancePolicy",
        "metadata": {"name": "p", "namespace": "shop", "uid": "u1"},
        "spec": policy(**spec).wire(),
    }


def test_policies_are_spread_over_one_tick_after_the_initial_delay() -> None:
    loop, _ = loop_on(fakes.FakeStore())
    keys = [("shop", f"p{i}") for i in range(200)]
    for key in keys:
        loop.observe(key, present=True)
    dues = [loop.scheduler.due(k) for k in keys]
    start = NOW + analyses.ANALYSES_INITIAL_DELAY_SECONDS
    assert all(d is not None and start <= d < start + analyses.ANALYSES_TICK_SECONDS for d in dues)
    assert len({int(((d or 0) - start) // 30) for d in dues}) == 10  # every 30 s slot used: no herd
    first = loop.scheduler.due(keys[0])
    loop.observe(keys[0], present=True)  # a status update does not postpone the check
    assert loop.scheduler.due(keys[0]) == first
    loop.observe(keys[0], present=False)
    assert loop.scheduler.due(keys[0]) is None


async def test_a_due_check_records_reports_and_the_condition_then_nothing_until_due() -> None:
    store = fakes.FakeStore()
    store.put("MaintenancePolicy", policy_body())
    loop, posted = loop_on(store)
    loop.observe(("shop", "p"), present=True)
    await loop.fire(("shop", "p"), NOW)
    status = store.status("MaintenancePolicy", "shop", "p")
    assert {"capacity", "configAudit", "security"} <= status.keys()
    [condition] = [c for c in status["conditions"] if c["type"] == "Analyses"]
    assert (condition["status"], condition["reason"]) == ("True", "AnalysesSucceeded")
    assert "ConfigAudited" in [reason for _, reason, _ in posted]
    assert loop.scheduler.due(("shop", "p")) == NOW + analyses.ANALYSES_TICK_SECONDS
    loop.observe(("shop", "p"), present=True)  # the watch event of our own status write
    assert loop.scheduler.due(("shop", "p")) == NOW + analyses.ANALYSES_TICK_SECONDS
    writes = len(store.patches)
    await loop.fire(("shop", "p"), NOW + analyses.ANALYSES_TICK_SECONDS)
    assert len(store.patches) == writes  # nothing due an interval later: nothing written


async def test_other_writers_conditions_are_kept() -> None:
    store = fakes.FakeStore()
    body = policy_body() | {
        "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Accepted"}]}
    }
    store.put("MaintenancePolicy", body)
    loop, _ = loop_on(store)
    await loop.analyze(("shop", "p"))
    types = {c["type"] for c in store.status("MaintenancePolicy", "shop", "p")["conditions"]}
    assert types == {"Ready", "Analyses"}


class Unreadable(FakeWorkload):
    async def deployment(self) -> dict[str, Any]:
        raise RuntimeError("deployments.apps chatapp not found")


async def test_an_unreadable_target_is_reported_once_not_every_tick() -> None:
    store = fakes.FakeStore()
    store.put("MaintenancePolicy", policy_body())
    loop, _ = loop_on(store, Unreadable(TARGET))
    await loop.analyze(("shop", "p"))
    [condition] = store.status("MaintenancePolicy", "shop", "p")["conditions"]
    assert (condition["status"], condition["reason"]) == ("False", "TargetUnreadable")
    assert "not found" in condition["message"]
    writes = len(store.patches)
    await loop.analyze(("shop", "p"))
    assert len(store.patches) == writes


async def test_a_deleted_or_suspended_policy_is_left_alone() -> None:
    store = fakes.FakeStore()
    loop, _ = loop_on(store)
    loop.observe(("shop", "p"), present=True)
    await loop.analyze(("shop", "p"))  # gone: dropped from the heap
    assert loop.scheduler.due(("shop", "p")) is None
    store.put("MaintenancePolicy", policy_body(suspend=True))
    await loop.analyze(("shop", "p"))
    assert store.patches == []


def test_everything_is_due_at_first_then_nothing() -> None:
    assert analyses.due_analyses(policy=policy(), status=typed({}), now=NOW, target_fingerprint="4/") == [
        A.CAPACITY,
        A.CONFIG_AUDIT,
        A.SECURITY,
    ]
    fresh = {"analyzedAt": "2030-03-17T17:46:40Z", "targetFingerprint": "4/"}  # NOW
    status = typed(
        {
            "capacity": fresh | {"sufficient": True},
            "configAudit": fresh | {"score": 10},
            "security": fresh | {"score": 10},
        }
    )
    assert (
        analyses.due_analyses(policy=policy(), status=status, now=NOW + 3600, target_fingerprint="4/") == []
    )
    assert analyses.due_analyses(policy=policy(), status=status, now=NOW + DAY, target_fingerprint="4/") == [
        A.CAPACITY,
        A.SECURITY,
    ]
    # A changed target re-runs the configuration audit at once.
    assert analyses.due_analyses(policy=policy(), status=status, now=NOW + 60, target_fingerprint="5/") == [
        A.CONFIG_AUDIT
    ]


def test_disabled_analyses_never_run() -> None:
    spec = policy(analyses={"capacity": {"enabled": False}, "security": {"enabled": False}})
    assert analyses.due_analyses(policy=spec, status=typed({}), now=NOW, target_fingerprint="") == [
        A.CONFIG_AUDIT
    ]


async def test_first_tick_writes_three_reports_events_and_metrics() -> None:
    out = await run({})
    assert set(out.status) == {"capacity", "configAudit", "security"} and out.failed == []
    assert (
        out.status["configAudit"]["score"] == 10.0 and out.status["configAudit"]["targetFingerprint"] == "4/"
    )
    assert out.status["capacity"]["sufficient"] is False and "loadQuery" in out.status["capacity"]["message"]
    assert "not installed" in out.status["security"]["message"]
    reasons = [reason for _, reason, _ in out.events]
    assert reasons == ["CapacityUnknown", "ConfigAudited", "SecurityReviewed"]
    assert metrics.CONFIG_SCORE.labels("shop", "p")._value.get() == 10.0
    security_score = out.status["security"]["score"]
    assert metrics.SECURITY_SCORE.labels("shop", "p")._value.get() == security_score < 10


class BrokenWorkload(FakeWorkload):
    async def risky_permissions(self, service_account: str) -> list[str]:
        raise RuntimeError("authorization API down")


async def test_a_failing_analysis_is_reported_and_the_others_still_run() -> None:
    out = await run({}, BrokenWorkload(TARGET, pdb=True))
    assert out.failed == ["security"] and set(out.status) == {"capacity", "configAudit"}
    [warning] = [e for e in out.events if e[0] == "Warning"]
    assert warning[1] == "AnalysisFailed" and "authorization API down" in warning[2]


async def test_config_drift_is_judged_against_the_known_good_config_in_status() -> None:
    spec = {
        "actions": {"configPatch": {"enabled": True, "configMapRef": {"name": "cm"}, "allowedKeys": ["POOL"]}}
    }
    target = FakeWorkload(TARGET, pdb=True, config={"POOL": "10"})
    without = await run({}, target, **spec)
    assert without.status["configAudit"]["findingCount"] == 0
    known = {"configMap": "cm", "data": {"POOL": "20"}, "recordedAt": "2030-01-01T00:00:00Z"}
    drifted = await run({"knownGoodConfig": known}, target, **spec)
    [finding] = drifted.status["configAudit"]["findings"]
    assert (finding["check"], finding["subject"]) == ("config-drift", "POOL")


async def test_a_changed_config_map_re_runs_the_configuration_audit_early() -> None:
    spec = policy(
        actions={"configPatch": {"enabled": True, "configMapRef": {"name": "cm"}, "allowedKeys": ["POOL"]}}
    )
    target = FakeWorkload(TARGET, pdb=True, config={"POOL": "10"}, config_version="7")
    first = await analyses.run_due(
        policy=spec,
        status=typed({}),
        name="p",
        namespace="shop",
        target=target,
        prometheus=no_prometheus,
        now=NOW,
    )
    assert first.status["configAudit"]["targetFingerprint"] == "4/7"
    later = NOW + 3600
    assert (
        analyses.due_analyses(policy=spec, status=typed(first.status), now=later, target_fingerprint="4/7")
        == []
    )
    target.config_version = "8"
    again = await analyses.run_due(
        policy=spec,
        status=typed(first.status),
        name="p",
        namespace="shop",
        target=target,
        prometheus=no_prometheus,
        now=later,
    )
    assert set(again.status) == {"configAudit"} and again.status["configAudit"]["targetFingerprint"] == "4/8"


async def test_audit_and_security_findings_are_raised_as_remediations() -> None:
    store = fakes.FakeStore()
    body = {"metadata": {"name": "p", "namespace": "shop", "uid": "u1"}}
    out = await analyses.run_due(
        policy=policy(),
        status=typed({}),
        name="p",
        namespace="shop",
        target=FakeWorkload(TARGET, pdb=False),
        prometheus=no_prometheus,
        now=NOW,
        findings_to=store,
        policy_body=body,
    )
    items = await store.list("Remediation", "shop")
    assert len(items) == len(out.raised) >= 2
    indicators = {i["spec"]["issue"]["indicator"] for i in items}
    assert "configAudit.pdb" in indicators and any(i.startswith("security.") for i in indicators)
    assert all(i["spec"]["issue"]["dimension"] == "operational" for i in items)
