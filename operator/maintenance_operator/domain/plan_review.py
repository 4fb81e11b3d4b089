"""One review of a plan before routing: may it be auto-approved? The same rules for every planner.

A review passes only when all of these hold (each failure adds a reason, shown in the approval request):

1. the plan passes ``plan_validation.validate_plan`` (allowlist, bounds, target state);
2. it fits the issue (``fit.plan_fits``: category -> actions table and parameters);
3. for a Claude plan with ``requirePlannerAgreement``: the offline planner, asked about the same incident,
   picks the same writing action types (a plan that changes nothing needs no agreement);
4. no action type of the plan failed, was rolled back or was rejected for the same fingerprint within
   ``failedActionWindow`` (outcomes without a parseable time count as recent: never act on missing data).

The effective confidence (``confidence.effective_confidence``) is recorded here and gated by
``approval.decide`` against autoApprove.minConfidence; risk stays with ``approval.decide`` as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from maintenance_operator.api.v1alpha1 import (
    Agreement,
    AutoApproveSpec,
    MaintenancePolicySpec,
    Outcome,
    Plan,
    PlannerKind,
    PlanReview,
    Risk,
    parse_duration,
)
from maintenance_operator.domain import approval, confidence, fit, plan_validation, planning, timestamps
from maintenance_operator.domain import risk as risk_rules
from maintenance_operator.domain.planning import PlanningContext
from maintenance_operator.domain.rollout import TargetSnapshot

BLOCKING_RESULTS = frozenset({"Failed", "RolledBack", "Rejected"})


def writing_types(plan: Plan) -> frozenset[str]:
    """The action types of ``plan`` that write to the cluster."""
    return frozenset(a.type.value for a in plan.actions if a.mutating)


def agreement(plan: Plan, second_opinion: Plan | None) -> Agreement:
    """Agree when both plans write the same action types (an offline plan agrees with itself)."""
    if plan.planner is PlannerKind.OFFLINE:
        return Agreement.AGREE
    if second_opinion is None:
        return Agreement.NOT_CHECKED
    return Agreement.AGREE if writing_types(plan) == writing_types(second_opinion) else Agreement.DISAGREE


def recent_failures(
    *, outcomes: Sequence[Outcome], fingerprint: str, action_types: frozenset[str], now: datetime, window: str
) -> list[Outcome]:
    """Outcomes that block a repeat: same fingerprint and action type, bad result, inside the window."""
    since = now - timedelta(seconds=parse_duration(window))
    out = []
    for o in outcomes:
        if o.fingerprint != fingerprint or o.action not in action_types or o.result not in BLOCKING_RESULTS:
            continue
        at = timestamps.parse_or_none(o.at)
        if at is None or at.tzinfo is None or at >= since:
            out.append(o)
    return out


def review_plan(
    *,
    plan: Plan,
    ctx: PlanningContext,
    auto: AutoApproveSpec,
    now: datetime,
    second_opinion: Plan | None = None,
) -> PlanReview:
    """The review of ``plan`` for ``ctx.issue`` (see the module docstring for the rules).

    For a Claude plan without ``second_opinion``, the offline planner is asked here (it is pure).
    """
    if second_opinion is None and plan.planner is PlannerKind.CLAUDE:
        second_opinion = planning.offline_plan(ctx)
    reasons = [f"invalid: {v}" for v in plan_validation.validate_plan(plan, ctx)]
    verdict = fit.plan_fits(plan, ctx)
    reasons.extend(f"does not fit the issue: {r}" for r in verdict.reasons)
    agree = agreement(plan, second_opinion)
    types = writing_types(plan)
    if (
        plan.mutating
        and plan.planner is PlannerKind.CLAUDE
        and auto.require_planner_agreement
        and agree is not Agreement.AGREE
    ):
        other = (
            "no second opinion"
            if second_opinion is None
            else f"the offline planner proposes {_describe(second_opinion)}"
        )
        reasons.append(
            f"planners disagree: Claude proposes {_describe(plan)}, {other} "
            "(autoApprove.requirePlannerAgreement)"
        )
    for o in recent_failures(
        outcomes=ctx.outcomes,
        fingerprint=ctx.issue.fingerprint,
        action_types=types,
        now=now,
        window=auto.failed_action_window,
    ):
        reasons.append(
            f"{o.action} was {o.result} for this issue at {o.at or 'an unknown time'} "
            f"(within autoApprove.failedActionWindow {auto.failed_action_window})"
        )
    effective, notes = confidence.effective_confidence(
        planner_confidence=plan.confidence,
        agreement=agree,
        issue=ctx.issue,
        outcomes=ctx.outcomes,
        action_types=types,
    )
    return PlanReview(
        passed=not reasons,
        fits=verdict.fits,
        agreement=agree,
        second_opinion="" if second_opinion is None else _describe(second_opinion)[:512],
        planner_confidence=plan.confidence,
        effective_confidence=effective,
        reasons=reasons,
        notes=notes,
    )


def _describe(plan: Plan) -> str:
    return "+".join(a.type.value for a in plan.actions)


_KINDS = (
    ("invalid: ", "invalid"),
    ("does not fit the issue: ", "unfit"),
    ("planners disagree: ", "disagreement"),
)


def result_kind(review: PlanReview) -> str:
    """``passed`` or the kind of the first reason that holds the plan (a metric label, bounded)."""
    if review.passed:
        return "passed"
    first = review.reasons[0] if review.reasons else ""
    return next((kind for prefix, kind in _KINDS if first.startswith(prefix)), "recent-failure")


class Gated(BaseModel):
    """Everything the operator decided about one plan before anything runs."""

    model_config = ConfigDict(frozen=True)

    review: PlanReview
    risk: Risk
    decision: approval.Decision


def gate(
    *,
    plan: Plan,
    ctx: PlanningContext,
    snapshot: TargetSnapshot,
    policy: MaintenancePolicySpec,
    now: datetime,
    second_opinion: Plan | None = None,
) -> Gated:
    """Review, risk (raised by the effective confidence, not the model's) and routing of ``plan``, in one
    call: what the reconciler does when a Remediation is Proposed."""
    review = review_plan(plan=plan, ctx=ctx, auto=policy.auto_approve, now=now, second_opinion=second_opinion)
    scored = risk_rules.raise_with_planner(
        risk_rules.score_risk(plan=plan, target=snapshot, issue=ctx.issue, now=now),
        review.effective_confidence,
    )
    decision = approval.decide(
        issue=ctx.issue,
        route=policy.severity_routing.route(ctx.issue.severity),
        plan=plan,
        risk=scored,
        auto=policy.auto_approve,
        windows=policy.maintenance_windows,
        now=now,
        review=review,
    )
    return Gated(review=review, risk=scored, decision=decision)
