"""The Remediation handler (handlers/remediation.py): which Remediations the timer keeps ticking, and one
tick on real kopf Body objects with fake ports: parse, advance the state machine, write, post Events."""

from __future__ import annotations

import kopf
import pytest

from maintenance_operator import metrics
from maintenance_operator.adapters import crs
from maintenance_operator.handlers import remediation as handler
from tests.fixtures import fakes, handler_runtime, kopf_events
from tests.fixtures.remediation_world import NS, P, remediation, stored, world


@pytest.fixture(autouse=True)  # kopf posts Events only inside a running operator
def events(monkeypatch: pytest.MonkeyPatch) -> list[kopf_events.Event]:
    return kopf_events.record(monkeypatch)


def test_escalations_are_ticked_until_acknowledged() -> None:
    escalated_status = {"phase": "Escalated"}
    assert handler._open(status=escalated_status, annotations={})
    assert not handler._open(status=escalated_status, annotations={crs.ACK_ANNOTATION: "alice"})
    assert not handler._open(status={"phase": "Succeeded"}, annotations={})
    assert handler._open(status={"phase": "AwaitingApproval"}, annotations={})


def test_an_unreadable_phase_keeps_the_remediation_ticking_instead_of_crashing_the_filter() -> None:
    assert handler._open(status={"phase": "NoSuchPhase"}, annotations={})


async def tick(w: fakes.FakeWorld, name: str = "fix-1") -> None:
    found = await w.store.get("Remediation", NS, name)
    assert found is not None
    await handler.remediation_tick(body=kopf.Body(found), memo=handler_runtime.memo(w))


async def test_a_high_issue_is_routed_to_a_human_with_a_warning_event(
    events: list[kopf_events.Event],
) -> None:
    w = world()
    remediation(w, severity="high")
    await tick(w)
    status = stored(w)
    assert status.phase is P.AWAITING_APPROVAL and status.observed_generation == 1
    assert [(e.type, e.message.split(":")[0]) for e in events] == [("Warning", "AwaitingApproval")]


async def test_an_invalid_spec_fails_the_remediation_once(events: list[kopf_events.Event]) -> None:
    w = world()
    remediation(w, plan={"actions": [], "rationale": "", "confidence": 42})
    await tick(w)
    status = w.store.status("Remediation", NS, "fix-1")
    assert status["phase"] == "Failed" and status["message"].startswith("plan.")
    assert events == []


async def test_a_missing_policy_warns_and_writes_nothing(events: list[kopf_events.Event]) -> None:
    w = world()
    remediation(w, policyRef={"name": "gone"})
    await tick(w)
    assert w.store.status("Remediation", NS, "fix-1") == {}
    assert [(e.type, e.reason) for e in events] == [("Warning", "PolicyUnavailable")]
    assert "gone: not found" in events[0].message


async def test_a_malformed_status_field_is_dropped_and_the_tick_goes_on() -> None:
    w = world()
    remediation(w, severity="high", status={"slaNotices": [{"not": "a string"}], "message": "kept"})
    await tick(w)
    assert w.store.status("Remediation", NS, "fix-1")["phase"] == "AwaitingApproval"


async def test_a_tick_that_raises_is_counted_and_re_raised() -> None:
    w = world()
    remediation(w)
    w.target(namespace=NS, name="chatapp").read_error = RuntimeError("boom")
    before = metrics.HANDLER_ERRORS.labels(handler="remediation")._value.get()
    with pytest.raises(RuntimeError, match="boom"):
        await tick(w)
    assert metrics.HANDLER_ERRORS.labels(handler="remediation")._value.get() == before + 1
