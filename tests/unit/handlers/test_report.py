"""The report handler on real kopf Body/Patch objects, with fake ports."""

from __future__ import annotations

from typing import Any

import kopf
import pytest

from maintenance_operator.handlers import report
from maintenance_operator.reconcilers import report as reconciler
from tests.fixtures import kopf_events
from tests.fixtures.report_world import SCORES, FakeNotifier, FakeObjects, FakeScores, world


def body(spec: dict[str, Any], status: dict[str, Any] | None = None, generation: int = 2) -> kopf.Body:
    return kopf.Body(
        {
            "apiVersion": "maintenance.chatapp.io/v1alpha1",
            "kind": "MaintenanceReport",
            "metadata": {"name": "weekly", "namespace": "chatapp", "uid": "u1", "generation": generation},
            "spec": spec,
            "status": status or {},
        }
    )


@pytest.fixture(autouse=True)  # kopf posts Events only inside a running operator
def events(monkeypatch: pytest.MonkeyPatch) -> list[kopf_events.Event]:
    return kopf_events.record(monkeypatch)


async def run(b: kopf.Body, ports: reconciler.Ports) -> kopf.Patch:
    patch = kopf.Patch()
    await report.apply(spec=b.spec, status=b.status, meta=b.meta, body=b, patch=patch, ports=ports)
    return patch


def ports(*, fail: bool = False, notifier: FakeNotifier | None = None) -> reconciler.Ports:
    return reconciler.Ports(
        objects=FakeObjects(world(), fail=fail), scores=FakeScores(SCORES), notifier=notifier
    )


async def test_created_report_is_made_with_condition_event_and_notification(
    events: list[kopf_events.Event],
) -> None:
    notifier = FakeNotifier()
    patch = await run(body({"policyRef": {"name": "chatapp"}, "schedule": "Daily"}), ports(notifier=notifier))
    assert patch.status["phase"] == "Ready" and patch.status["observedGeneration"] == 2
    assert patch.status["remediations"][0]["action"] == "RolloutRestart"
    assert patch.status["nextRunAt"] is not None
    [ready] = patch.status["conditions"]
    assert (ready["type"], ready["status"], ready["reason"]) == ("Ready", "True", "ReportReady")
    assert [(e.reason, e.type) for e in events] == [("ReportReady", "Normal")]
    assert len(notifier.events) == 1


async def test_once_report_clears_next_run() -> None:
    patch = await run(
        body({"policyRef": {"name": "chatapp"}}, {"nextRunAt": "2030-01-01T00:00:00Z"}, generation=3), ports()
    )
    assert patch.status["nextRunAt"] is None


async def test_invalid_spec_is_reported_once_without_raising(events: list[kopf_events.Event]) -> None:
    patch = await run(body({"period": "30m"}), ports())
    assert patch.status["phase"] == "Failed"
    assert patch.status["message"] == "Value error, set exactly one of policyRef and selector"
    assert [(e.reason, e.type) for e in events] == [("InvalidSpec", "Warning")]


async def test_unreachable_api_is_a_warning_and_a_retry(events: list[kopf_events.Event]) -> None:
    patch = await run(body({"policyRef": {"name": "chatapp"}}), ports(fail=True))
    assert patch.status["phase"] == "Failed" and patch.status["nextRunAt"] is not None
    assert patch.status["conditions"][0]["status"] == "False"
    assert [(e.reason, e.type) for e in events] == [("ReportFailed", "Warning")]


async def test_up_to_date_report_is_left_alone(events: list[kopf_events.Event]) -> None:
    status = {"phase": "Ready", "observedGeneration": 2, "generatedAt": "2030-01-01T00:00:00Z"}
    patch = await run(body({"policyRef": {"name": "chatapp"}}, status), ports())
    assert dict(patch) == {} and events == []


def test_timer_only_remakes_reports_of_the_current_generation() -> None:
    made = body({}, {"generatedAt": "2030-01-01T00:00:00Z", "observedGeneration": 2})
    assert report._made_for_this_generation(made.status, made.meta)
    stale = body({}, {"generatedAt": "2030-01-01T00:00:00Z", "observedGeneration": 1})
    assert not report._made_for_this_generation(stale.status, stale.meta)
    assert not report._made_for_this_generation(body({}).status, body({}).meta)
