"""Every phase of a Remediation's state machine, one tick at a time, on in-memory ports."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from maintenance_operator.adapters import errors, kube
from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import notification, timestamps
from maintenance_operator.reconcilers import remediate
from tests.fixtures import fakes
from tests.fixtures.remediation_cases import RESTART, escalate, plan, scale
from tests.fixtures.remediation_world import (
    NOW,
    NS,
    P,
    S,
    condition,
    executing,
    outcomes,
    remediation,
    stored,
    tick,
    verifying,
    world,
)

# ---------------------------------------------------------------- Proposed


async def test_a_high_issue_waits_for_a_human_and_says_how_to_approve() -> None:
    w = world()
    remediation(w, severity="high")
    await tick(w)
    status = stored(w)
    assert status.phase is P.AWAITING_APPROVAL
    assert status.risk is not None and status.route is api.Route.APPROVAL_REQUIRED
    assert status.approval_expires_at is not None and timestamps.parse(status.approval_expires_at) > NOW
    [note] = w.notifications
    assert note.type is notification.EventType.APPROVAL_NEEDED
    assert "kubectl maintenance approve fix-1 -n shop" in note.text
    assert w.target(namespace=NS, name="chatapp").executed == []


async def test_a_plan_that_escalates_ends_escalated_and_records_the_outcome() -> None:
    w = world()
    remediation(w, actions=plan(escalate("needs a DBA")))
    await tick(w)
    assert stored(w).phase is P.ESCALATED
    assert [o["result"] for o in outcomes(w)] == ["Escalated"]


async def test_an_unreadable_target_fails_the_proposal() -> None:
    w = world()
    remediation(w)
    w.target(namespace=NS, name="chatapp").read_error = errors.ApiError(403, "Forbidden")
    await tick(w)
    status = stored(w)
    assert status.phase is P.FAILED
    assert status.message == "cannot read the target: Forbidden"


async def test_a_plan_outside_the_policy_is_rejected_before_routing() -> None:
    w = world(actions={"scale": {"enabled": False}})
    remediation(w, actions=plan(scale(5)))
    t = await tick(w)
    assert stored(w).phase is P.FAILED
    assert t.events[-1][1] == "PlanRejected"


# ---------------------------------------------------------------- waiting for a decision


async def test_an_unanswered_approval_is_escalated_once_the_resolution_deadline_passed() -> None:
    w = world()
    expired = timestamps.rfc3339(NOW - timedelta(seconds=1))
    remediation(w, severity="critical", status={"phase": "AwaitingApproval", "approvalExpiresAt": expired})
    await tick(w)  # created 5 min ago, critical resolution due after 15 min: asked again
    renewed = stored(w).approval_expires_at
    assert stored(w).phase is P.AWAITING_APPROVAL and renewed is not None and timestamps.parse(renewed) > NOW
    await tick(w, now=timestamps.parse(renewed) + timedelta(seconds=1))
    assert stored(w).phase is P.ESCALATED


async def test_an_approval_without_the_webhook_stamp_is_ignored() -> None:
    w = world()
    approval = {"approved": True, "approvedBy": "mallory"}
    remediation(w, severity="high", status={"phase": "AwaitingApproval"}, approval=approval)
    t = await tick(w)
    status = stored(w)
    assert status.phase is P.AWAITING_APPROVAL
    assert condition(status, "Approved").reason == "ApprovalUnverified"
    assert [e[1] for e in t.events] == ["ApprovalUnverified"]


# ---------------------------------------------------------------- Approved: guards, lease, stale issues


async def test_approved_takes_the_lease_captures_the_pre_state_and_executes() -> None:
    w = world()
    remediation(w, status={"phase": "Approved"})
    await tick(w)
    status = stored(w)
    assert status.phase is P.EXECUTING
    assert status.pre_state is not None and status.pre_state.revision == 2
    assert [(s.type, s.phase) for s in status.steps] == [(api.ActionType.ROLLOUT_RESTART, S.PENDING)]
    assert status.started_at == timestamps.rfc3339(NOW)
    assert w.holders == {"shop/chatapp": "fix-1"}


async def test_a_held_lease_blocks_without_changing_anything() -> None:
    w = world()
    w.holders["shop/chatapp"] = "other-fix"
    remediation(w, status={"phase": "Approved"})
    t = await tick(w)
    status = stored(w)
    assert status.phase is P.APPROVED
    blocked = condition(status, "Blocked")
    assert (blocked.reason, blocked.message) == ("LeaseHeld", "other-fix holds the target's lease")
    assert t.events == [("Normal", "LeaseHeld", "waiting: other-fix holds the target's lease")]
    assert status.pre_state is None and status.started_at is None
    again = await tick(w)
    assert again.events == [], "the same block is announced once"


async def test_a_critical_issue_approved_by_the_policy_starts_in_the_same_tick() -> None:
    w = world()
    remediation(w)
    await tick(w)
    status = stored(w)
    assert status.approved_by is not None and status.phase is P.EXECUTING
    assert status.started_at == timestamps.rfc3339(NOW)
    assert w.holders == {"shop/chatapp": "fix-1"}


async def test_an_approval_in_a_tick_whose_target_is_held_stays_approved_and_blocked() -> None:
    w = world()
    w.holders["shop/chatapp"] = "other-fix"
    remediation(w)
    await tick(w)
    status = stored(w)
    assert status.phase is P.APPROVED and status.approved_by is not None
    assert condition(status, "Blocked").reason == "LeaseHeld"
    assert status.started_at is None and w.target(namespace=NS, name="chatapp").executed == []


async def test_a_stale_issue_is_declined_before_the_first_write() -> None:
    w = world()
    w.answers = {"error_ratio": [0.001]}
    remediation(w, status={"phase": "Approved"}, assessment="assess-1")
    await tick(w)
    status = stored(w)
    assert status.phase is P.REJECTED
    assert condition(status, "Approved").reason == "IssueResolved"
    assert w.target(namespace=NS, name="chatapp").executed == []
    assert w.holders == {}
    assert all(q.closed == 1 for q in w.queriers) and w.queriers


@pytest.mark.parametrize("answer", [[0.03], [], [0.2]])
async def test_an_issue_that_is_not_clearly_gone_still_runs(answer: list[float]) -> None:
    w = world()
    w.answers = {"error_ratio": answer}
    remediation(w, status={"phase": "Approved"}, assessment="assess-1")
    await tick(w)
    assert stored(w).phase is P.EXECUTING


# ---------------------------------------------------------------- Executing


async def test_a_step_is_marked_before_it_is_written_then_rolled_out() -> None:
    w = world()
    remediation(w, status=executing([{"index": 0, "type": "RolloutRestart", "phase": "Pending"}]))
    await tick(w)
    status = stored(w)
    marker = kube.restart_marker(NOW)
    assert w.target(namespace=NS, name="chatapp").executed == [
        (api.ActionType.ROLLOUT_RESTART, marker, False)
    ]
    [step] = status.steps
    assert (step.phase, step.marker) == (S.ROLLED_OUT, marker)
    assert status.phase is P.VERIFYING
    marker_first = next(
        i for i, (_, _, patch) in enumerate(w.store.patches) if patch.get("steps", [{}])[0].get("marker")
    )
    applied = next(
        i
        for i, (_, _, patch) in enumerate(w.store.patches)
        if patch.get("steps", [{}])[0].get("phase") == "Applied"
    )
    assert marker_first < applied


async def test_a_restart_after_the_step_marker_reapplies_the_same_change() -> None:
    w = world()
    marker = "2030-01-01T11:58:00Z"
    target = w.target(namespace=NS, name="chatapp")
    target.applied_markers.add(marker)  # the write landed, then the operator died before recording it
    step = {"index": 0, "type": "RolloutRestart", "phase": "Pending", "marker": marker}
    remediation(w, status=executing([step]))
    t = await tick(w)
    assert target.executed == [(api.ActionType.ROLLOUT_RESTART, marker, False)]
    assert ("Normal", "Applied", "RolloutRestart already applied") in t.events
    assert stored(w).phase is P.VERIFYING


async def test_a_refused_dry_run_fails_without_a_change_and_frees_the_target() -> None:
    w = world()
    w.holders["shop/chatapp"] = "fix-1"
    target = w.target(namespace=NS, name="chatapp")
    target.execute_error = kube.DryRunRejected("admission webhook denied the request")
    remediation(w, status=executing([{"index": 0, "type": "RolloutRestart", "phase": "Pending"}]))
    await tick(w)
    status = stored(w)
    assert status.phase is P.FAILED
    assert status.message == "RolloutRestart failed: admission webhook denied the request"
    assert status.steps[0].phase is S.FAILED
    assert w.holders == {}
    assert [o["result"] for o in outcomes(w)] == ["Failed"]


async def test_a_failure_after_an_applied_step_rolls_back() -> None:
    w = world()
    w.target(namespace=NS, name="chatapp").execute_error = errors.ApiError(500, "Internal Server Error")
    steps = [
        {"index": 0, "type": "Scale", "phase": "RolledOut"},
        {"index": 1, "type": "RolloutRestart", "phase": "Pending"},
    ]
    remediation(w, actions=plan(scale(4), RESTART), status=executing(steps))
    await tick(w)
    assert stored(w).phase is P.ROLLING_BACK


async def test_a_rollout_still_running_waits() -> None:
    w = world()
    w.target(namespace=NS, name="chatapp").rollouts = [fakes.ROLLING]
    step = {"index": 0, "type": "RolloutRestart", "phase": "Applied", "startedAt": timestamps.rfc3339(NOW)}
    remediation(w, status=executing([step]))
    await tick(w)
    assert stored(w).phase is P.EXECUTING


async def test_a_rollout_past_its_deadline_rolls_back() -> None:
    w = world()
    w.target(namespace=NS, name="chatapp").rollouts = [fakes.ROLLING]
    started = NOW - timedelta(seconds=600 + remediate.ROLLOUT_TIMEOUT_MARGIN + 1)
    step = {
        "index": 0,
        "type": "RolloutRestart",
        "phase": "Applied",
        "startedAt": timestamps.rfc3339(started),
    }
    remediation(w, status=executing([step]))
    await tick(w)
    status = stored(w)
    assert status.phase is P.ROLLING_BACK
    assert condition(status, "Verified").reason == "RolloutFailed"


async def test_a_stuck_rollout_rolls_back_at_once() -> None:
    w = world()
    w.target(namespace=NS, name="chatapp").rollouts = [fakes.STUCK]
    step = {"index": 0, "type": "RolloutRestart", "phase": "Applied", "startedAt": timestamps.rfc3339(NOW)}
    remediation(w, status=executing([step]))
    await tick(w)
    assert stored(w).phase is P.ROLLING_BACK


async def test_a_gitops_target_gets_a_proposed_change_for_a_human() -> None:
    w = world()
    target = w.target(namespace=NS, name="chatapp")
    target.body = fakes.deployment(argo=True)
    remediation(
        w, actions=plan(scale(5)), status=executing([{"index": 0, "type": "Scale", "phase": "Pending"}])
    )
    t = await tick(w)
    status = stored(w)
    assert target.executed == [(api.ActionType.SCALE, kube.restart_marker(NOW), True)]
    assert status.steps[0].phase is S.PROPOSED_ONLY
    assert status.proposed_change == "--- a\n+++ b\n"
    assert status.phase is P.ESCALATED
    assert ("Normal", "ProposedChange", "GitOps-managed target: proposed Scale") in t.events
    assert [o["result"] for o in outcomes(w)] == ["Escalated"]


# ---------------------------------------------------------------- Verifying


async def test_healthy_measurements_over_the_window_succeed() -> None:
    w = world()
    w.holders["shop/chatapp"] = "fix-1"
    w.answers = {"error_ratio": [0.001]}
    remediation(w, status=verifying(minutes_ago=2))
    await tick(w)
    assert stored(w).phase is P.VERIFYING, "the window is still open"
    await tick(w, now=NOW + timedelta(minutes=1))
    status = stored(w)
    assert status.phase is P.SUCCEEDED
    assert status.verification is not None and status.verification.successes == 1
    [outcome] = outcomes(w)
    assert (outcome["result"], outcome["action"]) == ("Succeeded", "RolloutRestart")
    assert outcome["timeToRecoverSeconds"] == 360
    assert w.holders == {}


async def test_before_the_initial_delay_nothing_is_measured() -> None:
    w = world()
    remediation(w, status=verifying(minutes_ago=0.1))
    await tick(w)
    assert stored(w).phase is P.VERIFYING
    assert w.queriers == []


async def test_failed_verification_rolls_back() -> None:
    w = world()
    w.answers = {"error_ratio": [0.2]}
    remediation(w, status=verifying(minutes_ago=1))
    await tick(w)
    status = stored(w)
    assert status.phase is P.ROLLING_BACK
    assert condition(status, "Verified").reason == "VerificationFailed"
    assert status.verification is not None and status.verification.failures == 1


async def test_a_query_error_counts_as_a_failed_measurement() -> None:
    w = world()
    w.answers = {"error_ratio": prom.QueryError(prom.ErrorKind.UNAVAILABLE, "connection refused")}
    remediation(w, status=verifying(minutes_ago=1))
    await tick(w)
    assert stored(w).phase is P.ROLLING_BACK


async def test_inconclusive_verification_pauses_for_a_human() -> None:
    w = world()
    w.answers = {"error_ratio": []}  # no samples: neither healthy nor failing
    remediation(w, status=verifying(minutes_ago=1))
    await tick(w)
    status = stored(w)
    assert status.phase is P.PAUSED
    assert "set spec.terminate to roll back" in (status.message or "")
    assert [(n.type, n.title) for n in w.notifications] == [
        (notification.EventType.ESCALATION, "Verification inconclusive for shop/fix-1: paused")
    ]
    await tick(w, now=NOW + timedelta(hours=1))
    assert stored(w).phase is P.PAUSED, "a paused remediation waits for a human, forever"


async def test_terminate_while_paused_rolls_back() -> None:
    w = world()
    remediation(w, status={**verifying(minutes_ago=5), "phase": "Paused"}, terminate=True)
    await tick(w)
    assert stored(w).phase is P.ROLLING_BACK


# ---------------------------------------------------------------- Rolling back


def rolling_back(step_phase: str = "RolledOut") -> dict[str, Any]:
    steps = [{"index": 0, "type": "RolloutRestart", "phase": step_phase}]
    return {**executing(steps), "phase": "RollingBack"}


async def test_rolling_back_restores_the_pre_state() -> None:
    w = world()
    target = w.target(namespace=NS, name="chatapp")
    remediation(w, status=rolling_back())
    t = await tick(w)
    status = stored(w)
    assert [p.revision for p in target.restored] == [2]
    assert status.phase is P.ROLLED_BACK and status.rolled_back
    assert status.message == "pre-state restored (revision 2, 3 replicas)"
    assert ("Warning", "RollingBack", "restored revision 2") in t.events
    assert [o["result"] for o in outcomes(w)] == ["RolledBack"]


async def test_a_failed_restore_fails_the_remediation() -> None:
    w = world()
    w.target(namespace=NS, name="chatapp").restore_error = kube.RestoreIncomplete("ConfigMap gone")
    remediation(w, status=rolling_back())
    await tick(w)
    status = stored(w)
    assert status.phase is P.FAILED
    assert status.message == "could not restore the pre-state: ConfigMap gone"


async def test_nothing_applied_means_nothing_to_undo() -> None:
    w = world()
    remediation(w, status=rolling_back(step_phase="Failed"))
    await tick(w)
    status = stored(w)
    assert status.phase is P.ROLLED_BACK
    assert w.target(namespace=NS, name="chatapp").restored == []


async def test_a_terminal_remediation_is_left_alone() -> None:
    w = world()
    remediation(w, status={"phase": "Succeeded"})
    t = await tick(w)
    assert t.events == [] and w.store.patches == []


# ---------------------------------------------------------------- outcomes


async def test_two_outcomes_finishing_together_are_both_recorded() -> None:
    w = world()
    remediation(w, "fix-1", status=rolling_back(step_phase="Failed"))
    remediation(w, "fix-2", status=rolling_back(step_phase="Failed"))
    w.store.yield_on_get = True  # both read the policy before either writes
    await asyncio.gather(tick(w, "fix-1"), tick(w, "fix-2"))
    assert sorted(o["remediation"] for o in outcomes(w)) == ["fix-1", "fix-2"]
