"""The Remediation state machine and condition bookkeeping (Kubernetes API conventions).

Pure: callers pass the current phase and the time; nothing here reads a clock or the cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from maintenance_operator.api.v1alpha1 import (
    TERMINAL_PHASES,
    AssessmentPhase,
    Condition,
    ConditionStatus,
    RemediationPhase,
)
from maintenance_operator.domain import timestamps

P = RemediationPhase

#: Phases in which nothing has been written to the cluster yet: terminating just stops.
PRE_EXECUTION = frozenset({P.PROPOSED, P.AWAITING_APPROVAL, P.SCHEDULED, P.BACKLOG, P.APPROVED})
#: Phases in which the target may have been changed: terminating rolls back (or stops if nothing changed).
CHANGING = frozenset({P.EXECUTING, P.VERIFYING, P.PAUSED})
#: Phases that wait for a human decision or a maintenance window before anything runs.
WAITING = frozenset({P.AWAITING_APPROVAL, P.SCHEDULED, P.BACKLOG})
#: Phases a human may still approve or reject (the admission webhook accepts a decision only here).
DECIDABLE = frozenset({P.PROPOSED, *WAITING})
#: Phases that hold the target: executing, verifying, rolling back or paused mid-change.
ACTIVE = frozenset({*CHANGING, P.ROLLING_BACK})
#: Phases about to run or running: a new issue with the same change joins such a Remediation.
ABSORBING = frozenset({P.PROPOSED, P.APPROVED, P.EXECUTING, P.VERIFYING})
#: HealthAssessment phases after which an assessment never runs again (str members: they match stored values).
ASSESSMENT_FINISHED = frozenset(
    {AssessmentPhase.COMPLETED, AssessmentPhase.INCONCLUSIVE, AssessmentPhase.FAILED}
)


def values(phases: frozenset[RemediationPhase]) -> frozenset[str]:
    """The phases as stored in status.phase."""
    return frozenset(p.value for p in phases)


TRANSITIONS: dict[RemediationPhase, frozenset[RemediationPhase]] = {
    # Succeeded straight from Proposed: a NoAction plan has nothing to execute.
    # Failed from Proposed: the plan did not validate against the policy and the live target.
    P.PROPOSED: frozenset(
        {
            P.AWAITING_APPROVAL,
            P.SCHEDULED,
            P.BACKLOG,
            P.APPROVED,
            P.ESCALATED,
            P.REJECTED,
            P.SUCCEEDED,
            P.FAILED,
        }
    ),
    # Escalated from a waiting phase: the approval expired after the resolution deadline (SLA).
    P.AWAITING_APPROVAL: frozenset({P.APPROVED, P.REJECTED, P.EXPIRED, P.ESCALATED}),
    P.SCHEDULED: frozenset({P.APPROVED, P.EXPIRED, P.REJECTED, P.ESCALATED}),
    # A backlog item runs only if a human approves it later.
    P.BACKLOG: frozenset({P.APPROVED, P.REJECTED, P.EXPIRED, P.ESCALATED}),
    # Escalated/Failed: a guard that can never pass (e.g. an HPA owns the replicas) needs a human.
    # Rejected from Approved: the operator declines a stale plan whose issue is gone before execution.
    P.APPROVED: frozenset({P.EXECUTING, P.ESCALATED, P.FAILED, P.REJECTED}),
    # Escalated from Executing: every write was recorded as a proposed change (GitOps-managed target).
    P.EXECUTING: frozenset({P.VERIFYING, P.ROLLING_BACK, P.FAILED, P.ESCALATED}),
    P.VERIFYING: frozenset({P.SUCCEEDED, P.ROLLING_BACK, P.PAUSED}),
    P.PAUSED: frozenset({P.ROLLING_BACK, P.SUCCEEDED}),
    P.ROLLING_BACK: frozenset({P.ROLLED_BACK, P.FAILED}),
}
# spec.terminate: stop before execution, roll back (or stop, when nothing was applied) after it started.
for _phase in PRE_EXECUTION:
    TRANSITIONS[_phase] = TRANSITIONS[_phase] | {P.TERMINATED}
for _phase in CHANGING:
    TRANSITIONS[_phase] = TRANSITIONS[_phase] | {P.TERMINATED, P.ROLLING_BACK}


class IllegalTransition(ValueError):
    """The state machine does not allow this phase change."""

    def __init__(self, current: RemediationPhase, target: RemediationPhase) -> None:
        allowed = ", ".join(sorted(TRANSITIONS.get(current, frozenset()))) or "nothing (terminal)"
        super().__init__(f"illegal transition {current} -> {target}; allowed from {current}: {allowed}")
        self.current = current
        self.target = target


def is_terminal(phase: RemediationPhase | None) -> bool:
    """True once the remediation will never change phase again."""
    return phase in TERMINAL_PHASES


def can_transition(current: RemediationPhase | None, target: RemediationPhase) -> bool:
    """Whether ``current -> target`` is allowed. None (no status yet) is Proposed; staying put is allowed."""
    source = current or P.PROPOSED
    return source == target or target in TRANSITIONS.get(source, frozenset())


def transition(current: RemediationPhase | None, target: RemediationPhase) -> RemediationPhase:
    """Return ``target`` if the move is legal (a repeat of the current phase is a no-op), else raise
    :class:`IllegalTransition`."""
    if not can_transition(current, target):
        raise IllegalTransition(current or P.PROPOSED, target)
    return target


def on_terminate(current: RemediationPhase | None, *, changed: bool) -> RemediationPhase | None:
    """Phase to move to when spec.terminate is set; None when already terminal or rolling back.

    ``changed`` says whether anything was applied to the target (a step Applied or RolledOut).
    """
    source = current or P.PROPOSED
    if is_terminal(source) or source == P.ROLLING_BACK:
        return None
    if source in CHANGING and changed:
        return P.ROLLING_BACK
    return P.TERMINATED


def condition_status(value: bool | None) -> ConditionStatus:
    """True, False or Unknown (None) as a condition status."""
    if value is None:
        return ConditionStatus.UNKNOWN
    return ConditionStatus.TRUE if value else ConditionStatus.FALSE


def condition(
    *,
    previous: Condition | None,
    type: str,
    status: ConditionStatus,
    reason: str,
    message: str = "",
    now: datetime,
    observed_generation: int | None = None,
) -> Condition:
    """A condition whose lastTransitionTime moves only when ``status`` changes."""
    keep = previous is not None and previous.status == status and previous.last_transition_time
    return Condition(
        type=type,
        status=status,
        reason=reason,
        message=message[:4096],
        last_transition_time=previous.last_transition_time if keep and previous else timestamps.rfc3339(now),
        observed_generation=observed_generation,
    )


def set_condition(
    conditions: Sequence[Condition],
    *,
    type: str,
    status: ConditionStatus,
    reason: str,
    message: str = "",
    now: datetime,
    observed_generation: int | None = None,
) -> list[Condition]:
    """``conditions`` with the one of ``type`` replaced (or appended), order otherwise unchanged."""
    previous = next((c for c in conditions if c.type == type), None)
    new = condition(
        previous=previous,
        type=type,
        status=status,
        reason=reason,
        message=message,
        now=now,
        observed_generation=observed_generation,
    )
    if previous is None:
        return [*conditions, new]
    return [new if c.type == type else c for c in conditions]
