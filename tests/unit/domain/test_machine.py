from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maintenance_operator.api.v1alpha1 import TERMINAL_PHASES, Condition, ConditionStatus, RemediationPhase
from maintenance_operator.domain import machine

P = RemediationPhase
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

HAPPY_PATH = [P.PROPOSED, P.AWAITING_APPROVAL, P.APPROVED, P.EXECUTING, P.VERIFYING, P.SUCCEEDED]
LEGAL = {
    (P.PROPOSED, P.AWAITING_APPROVAL),
    (P.PROPOSED, P.SCHEDULED),
    (P.PROPOSED, P.BACKLOG),
    (P.PROPOSED, P.APPROVED),
    (P.PROPOSED, P.ESCALATED),
    (P.PROPOSED, P.REJECTED),
    (P.PROPOSED, P.SUCCEEDED),
    (P.PROPOSED, P.FAILED),
    (P.AWAITING_APPROVAL, P.APPROVED),
    (P.AWAITING_APPROVAL, P.REJECTED),
    (P.AWAITING_APPROVAL, P.EXPIRED),
    (P.AWAITING_APPROVAL, P.ESCALATED),
    (P.SCHEDULED, P.APPROVED),
    (P.SCHEDULED, P.EXPIRED),
    (P.SCHEDULED, P.REJECTED),
    (P.SCHEDULED, P.ESCALATED),
    (P.BACKLOG, P.APPROVED),
    (P.BACKLOG, P.REJECTED),
    (P.BACKLOG, P.EXPIRED),
    (P.BACKLOG, P.ESCALATED),
    (P.APPROVED, P.EXECUTING),
    (P.APPROVED, P.ESCALATED),
    (P.APPROVED, P.FAILED),
    (P.APPROVED, P.REJECTED),
    (P.EXECUTING, P.VERIFYING),
    (P.EXECUTING, P.ROLLING_BACK),
    (P.EXECUTING, P.FAILED),
    (P.EXECUTING, P.ESCALATED),
    (P.VERIFYING, P.SUCCEEDED),
    (P.VERIFYING, P.ROLLING_BACK),
    (P.VERIFYING, P.PAUSED),
    (P.PAUSED, P.ROLLING_BACK),
    (P.PAUSED, P.SUCCEEDED),
    (P.ROLLING_BACK, P.ROLLED_BACK),
    (P.ROLLING_BACK, P.FAILED),
    *((p, P.TERMINATED) for p in machine.PRE_EXECUTION | machine.CHANGING),
}


@pytest.mark.parametrize("current", list(P))
@pytest.mark.parametrize("target", list(P))
def test_transition_table(current: RemediationPhase, target: RemediationPhase) -> None:
    legal = current == target or (current, target) in LEGAL
    assert machine.can_transition(current, target) is legal
    if legal:
        assert machine.transition(current, target) is target
    else:
        with pytest.raises(machine.IllegalTransition, match=f"{current} -> {target}"):
            machine.transition(current, target)


def test_happy_path() -> None:
    phase: RemediationPhase | None = None
    for step in HAPPY_PATH:
        phase = machine.transition(phase, step)
    assert phase is P.SUCCEEDED


def test_terminal_phases_go_nowhere() -> None:
    for phase in TERMINAL_PHASES:
        assert machine.is_terminal(phase)
        assert phase not in machine.TRANSITIONS
        with pytest.raises(machine.IllegalTransition, match="nothing \\(terminal\\)"):
            machine.transition(phase, P.ROLLING_BACK if phase is not P.ROLLED_BACK else P.EXECUTING)
    assert not machine.is_terminal(None)
    assert not machine.is_terminal(P.PAUSED)


def test_no_status_counts_as_proposed() -> None:
    assert machine.transition(None, P.APPROVED) is P.APPROVED
    with pytest.raises(machine.IllegalTransition):
        machine.transition(None, P.VERIFYING)


@pytest.mark.parametrize(
    ("current", "changed", "expected"),
    [
        (None, False, P.TERMINATED),
        (P.AWAITING_APPROVAL, True, P.TERMINATED),
        (P.APPROVED, False, P.TERMINATED),
        (P.EXECUTING, True, P.ROLLING_BACK),
        (P.EXECUTING, False, P.TERMINATED),
        (P.VERIFYING, True, P.ROLLING_BACK),
        (P.PAUSED, True, P.ROLLING_BACK),
        (P.ROLLING_BACK, True, None),
        (P.SUCCEEDED, True, None),
    ],
)
def test_on_terminate(
    current: RemediationPhase | None, changed: bool, expected: RemediationPhase | None
) -> None:
    assert machine.on_terminate(current, changed=changed) == expected
    if expected is not None:
        assert machine.can_transition(current, expected)


def test_condition_keeps_transition_time_while_status_is_unchanged() -> None:
    first = machine.condition(
        previous=None, type="Approved", status=ConditionStatus.FALSE, reason="AwaitingApproval", now=NOW
    )
    assert first.last_transition_time == "2030-01-01T12:00:00Z"
    later = NOW + timedelta(minutes=5)
    same = machine.condition(
        previous=first,
        type="Approved",
        status=ConditionStatus.FALSE,
        reason="StillWaiting",
        message="m",
        now=later,
        observed_generation=2,
    )
    assert same.last_transition_time == first.last_transition_time
    assert (same.reason, same.message, same.observed_generation) == ("StillWaiting", "m", 2)
    flipped = machine.condition(
        previous=same, type="Approved", status=ConditionStatus.TRUE, reason="Ok", now=later
    )
    assert flipped.last_transition_time == "2030-01-01T12:05:00Z"


def test_condition_truncates_long_messages() -> None:
    c = machine.condition(
        previous=None, type="T", status=ConditionStatus.TRUE, reason="R", message="x" * 5000, now=NOW
    )
    assert len(c.message) == 4096


def test_set_condition_replaces_in_place_or_appends() -> None:
    ready = Condition(type="Ready", status=ConditionStatus.TRUE, last_transition_time="2029-12-31T00:00:00Z")
    approved = Condition(
        type="Approved", status=ConditionStatus.FALSE, last_transition_time="2029-12-31T00:00:00Z"
    )
    updated = machine.set_condition(
        [ready, approved], type="Approved", status=ConditionStatus.TRUE, reason="AutoApproved", now=NOW
    )
    assert [c.type for c in updated] == ["Ready", "Approved"]
    assert updated[0] is ready
    assert updated[1].last_transition_time == "2030-01-01T12:00:00Z"
    unchanged = machine.set_condition(
        [ready], type="Ready", status=ConditionStatus.TRUE, reason="StillReady", now=NOW
    )
    assert unchanged[0].last_transition_time == "2029-12-31T00:00:00Z"
    appended = machine.set_condition(
        [ready], type="Verified", status=ConditionStatus.UNKNOWN, reason="Pending", now=NOW
    )
    assert [c.type for c in appended] == ["Ready", "Verified"]


def test_named_phase_sets_partition_the_open_phases() -> None:
    assert {RemediationPhase.PROPOSED, *machine.WAITING} == machine.DECIDABLE
    assert {*machine.CHANGING, RemediationPhase.ROLLING_BACK} == machine.ACTIVE
    assert not machine.WAITING & machine.ACTIVE and not machine.WAITING & machine.ABSORBING
    assert all(not machine.is_terminal(p) for p in machine.ACTIVE | machine.DECIDABLE | machine.ABSORBING)
    assert machine.values(machine.WAITING) == {"AwaitingApproval", "Scheduled", "Backlog"}
