"""What goes into the knowledge base when a Remediation ends, human decisions included.

Recorded: every remediation that started executing, plus Succeeded and Escalated ones (as before), plus
Rejected and Expired ones (a human said no, or nobody answered): planning and review read them, and
calibration counts them apart. The outcome carries the planner, its confidence and the operator's effective
confidence, so calibration can compare stated confidence with what happened.
"""

from __future__ import annotations

from maintenance_operator.api.v1alpha1 import Issue, Outcome, Plan, PlanReview, RemediationPhase

ALWAYS_RECORDED = frozenset(
    {
        RemediationPhase.SUCCEEDED,
        RemediationPhase.ESCALATED,
        RemediationPhase.REJECTED,
        RemediationPhase.EXPIRED,
    }
)


def recorded(result: RemediationPhase, *, started: bool) -> bool:
    """Whether a remediation ending in ``result`` goes into the knowledge base."""
    return started or result in ALWAYS_RECORDED


def first_action(plan: Plan) -> str:
    """The action an outcome is filed under: the first writing action, else the first action."""
    return next((a.type.value for a in plan.actions if a.mutating), plan.actions[0].type.value)


def outcome(
    *,
    issue: Issue,
    plan: Plan,
    result: RemediationPhase,
    at: str,
    remediation: str,
    review: PlanReview | None = None,
    time_to_recover_seconds: float | None = None,
) -> Outcome:
    """The knowledge-base entry of one finished remediation."""
    return Outcome(
        fingerprint=issue.fingerprint,
        category=issue.category,
        action=first_action(plan),
        result=result.value,
        time_to_recover_seconds=time_to_recover_seconds,
        at=at,
        remediation=remediation,
        planner=plan.planner,
        confidence=plan.confidence,
        effective_confidence=None if review is None else review.effective_confidence,
    )
