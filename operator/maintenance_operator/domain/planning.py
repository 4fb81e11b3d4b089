"""What a planner sees about one incident, and the deterministic offline planner.

`offline_plan` is the embedded default planner and the fallback whenever Claude is off, down, over
budget or wrong. It is a pure function of `PlanningContext`: the same context always gives the same plan.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from maintenance_operator.api.v1alpha1 import (
    SEVERITY_ORDER,
    Action,
    ActionsSpec,
    ActionType,
    ConfigPatchParams,
    EscalateParams,
    Issue,
    LocalObjectReference,
    Outcome,
    Plan,
    PlannerKind,
    RollbackParams,
    ScaleParams,
    Severity,
    SuccessCriteria,
)
from maintenance_operator.domain import rollout, timestamps

RECENT_REVISION_SECONDS = 2 * 3600.0
"""A revision younger than this is a suspect for error-rate and plugin issues."""
FLAP_WINDOW_SECONDS = 6 * 3600.0
"""Successful remediations of one fingerprint inside this window count towards flapping."""
FLAP_THRESHOLD = 2
"""This many prior successes followed by a recurrence make an issue flapping."""
FAILED_RESULTS = frozenset({"RolledBack", "Failed", "Rejected"})
"""Results that rule an action type out for the fingerprint: it did not work, or a human said no."""
MAX_CONFIG_VALUE_BYTES = 8192

MEMORY = frozenset({"memory"})
RELEASE_SENSITIVE = frozenset({"error-rate", "plugins"})
LOAD = frozenset({"latency", "queue", "sessions"})

CONFIDENCE = {
    "restart-memory": 8.5,
    "restart-errors": 7.5,
    "rollback-recent": 9.0,
    "rollback": 7.5,
    "scale": 8.0,
    "config": 8.5,
    "no-action": 6.0,
    "escalate": 3.0,
}
ALTERNATIVE_PENALTY = 1.5
"""Confidence drops by this much when the first choice was ruled out by the knowledge base."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IndicatorSummary(_Frozen):
    """One computed indicator result, as numbers."""

    name: str
    dimension: str
    phase: str
    category: str = "general"
    value: float | None = None
    warning: float | None = None
    critical: float | None = None


class PlanningContext(_Frozen):
    """Everything a planner may use for one issue. Built by the operator; strings in it are untrusted."""

    namespace: str
    target_name: str
    issue: Issue
    target: rollout.TargetSnapshot
    actions: ActionsSpec = Field(default_factory=ActionsSpec)
    config: dict[str, str] = Field(default_factory=dict, description="Current values of allowlisted keys.")
    known_good_config: dict[str, str] = Field(default_factory=dict, description="Last healthy values.")
    outcomes: list[Outcome] = Field(default_factory=list, description="Knowledge base for this issue.")
    indicator_summary: list[IndicatorSummary] = Field(default_factory=list)
    now: datetime | None = Field(default=None, description="Reference time for the flapping window.")


# ---------------------------------------------------------------- facts derived from the context


def previous_revisions(ctx: PlanningContext) -> list[int]:
    """Revisions older than the current one, newest first, limited to rollback.maxRevisionsBack."""
    current = ctx.target.revision
    older = sorted(
        {r.revision for r in ctx.target.revisions if current is None or r.revision < current}, reverse=True
    )
    return older[: ctx.actions.rollback.max_revisions_back]


EXTERNAL_CATEGORY = "external-dependency"


def external(indicator: IndicatorSummary) -> bool:
    """It measures a dependency outside the target: category external-dependency, or, for an indicator
    left in the default category, the integration dimension."""
    if indicator.category == EXTERNAL_CATEGORY:
        return True
    return indicator.category == "general" and indicator.dimension == "integration"


def integration_degraded(ctx: PlanningContext) -> bool:
    """An indicator of an external dependency is failing in the same assessment."""
    return any(external(i) and i.phase == "Failed" for i in ctx.indicator_summary)


def revision_is_recent(ctx: PlanningContext) -> bool:
    age = ctx.target.current_revision_age_seconds
    return age is not None and age < RECENT_REVISION_SECONDS


def failed_action_types(ctx: PlanningContext) -> frozenset[str]:
    """Action types that were rolled back, failed or rejected by a human for this fingerprint: never
    repeat them."""
    fp = ctx.issue.fingerprint
    return frozenset(o.action for o in ctx.outcomes if o.fingerprint == fp and o.result in FAILED_RESULTS)


def is_flapping(ctx: PlanningContext) -> bool:
    """The issue was remediated successfully at least FLAP_THRESHOLD times in the window and is back."""
    fp = ctx.issue.fingerprint
    successes = 0
    for o in ctx.outcomes:
        if o.fingerprint != fp or o.result != "Succeeded":
            continue
        at = timestamps.parse_or_none(o.at)
        comparable = (
            ctx.now is not None and at is not None and (at.tzinfo is None) == (ctx.now.tzinfo is None)
        )
        if comparable and ctx.now - at > timedelta(seconds=FLAP_WINDOW_SECONDS):  # type: ignore[operator]
            continue
        successes += 1
    return successes >= FLAP_THRESHOLD


def state_digest(ctx: PlanningContext) -> str:
    """Digest of the decision-relevant, slowly changing state (not the drifting telemetry values).

    Two assessments of the same incident with the same digest would get the same plan, so the
    planner can reuse an answer instead of calling the LLM again.
    """
    stable = {
        "fingerprint": ctx.issue.fingerprint,
        "severity": ctx.issue.severity.value,
        "category": ctx.issue.category,
        "target": [ctx.namespace, ctx.target_name],
        "replicas": ctx.target.replicas,
        "paused": ctx.target.paused,
        "hpa": ctx.target.has_hpa,
        "revision": ctx.target.revision,
        "revisions": sorted(r.revision for r in ctx.target.revisions),
        "recent": revision_is_recent(ctx),
        "actions": ctx.actions.model_dump(mode="json"),
        "config": ctx.config,
        "knownGood": ctx.known_good_config,
        "outcomes": sorted((o.action, o.result, o.at) for o in ctx.outcomes),
    }
    blob = json.dumps(stable, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


# ---------------------------------------------------------------- candidate actions


class _Choice:
    """One candidate: the actions, the rule's confidence and its explanation."""

    def __init__(
        self, *, actions: list[Action], confidence: float, rationale: str, rollback_plan: str
    ) -> None:
        self.actions = actions
        self.confidence = confidence
        self.rationale = rationale
        self.rollback_plan = rollback_plan


_Candidate = Callable[[PlanningContext], "_Choice | str"]
"""Returns a choice, or a one-line reason why this candidate does not apply."""


def _restart(ctx: PlanningContext) -> _Choice | str:
    if not ctx.actions.restart.enabled:
        return "rollout restart is disabled by the policy"
    memory = ctx.issue.category in MEMORY
    what = "predicted memory exhaustion" if ctx.issue.predicted else f"{ctx.issue.category} issue"
    return _Choice(
        actions=[Action(type=ActionType.ROLLOUT_RESTART)],
        confidence=CONFIDENCE["restart-memory" if memory else "restart-errors"],
        rationale=f"A rollout restart replaces every pod, which clears the {what} "
        "(leaked memory, wedged workers, stale connections) without changing the release.",
        rollback_plan="A restart cannot be undone; if verification fails the operator escalates.",
    )


def _rollback(ctx: PlanningContext) -> _Choice | str:
    if not ctx.actions.rollback.enabled:
        return "rollback is disabled by the policy"
    previous = previous_revisions(ctx)
    if ctx.target.revision is None or not previous:
        return "no previous revision to roll back to"
    to = previous[0]
    recent = revision_is_recent(ctx)
    age = ctx.target.current_revision_age_seconds
    why = (
        f"the current revision {ctx.target.revision} is recent ({age / 60:.0f} min old)"
        if recent and age is not None
        else f"the issue persists on revision {ctx.target.revision}"
    )
    return _Choice(
        actions=[Action(type=ActionType.ROLLBACK, rollback=RollbackParams(to_revision=to))],
        confidence=CONFIDENCE["rollback-recent" if recent else "rollback"],
        rationale=f"{ctx.issue.category} issue and {why}: roll back to the previous revision {to}.",
        rollback_plan=f"Roll forward to revision {ctx.target.revision}'s pod template if verification fails.",
    )


def scale_target(ctx: PlanningContext) -> int | str:
    """Replica count to scale to for a load issue, or why scaling does not apply."""
    spec = ctx.actions.scale
    if not spec.enabled:
        return "scaling is disabled by the policy"
    if ctx.target.has_hpa:
        return "an HorizontalPodAutoscaler owns the replica count"
    current = ctx.target.replicas
    if current >= spec.max:
        return f"already at the policy maximum of {spec.max} replicas"
    step = min(spec.max_step, max(1, math.ceil(current / 2)))
    desired = min(spec.max, max(spec.min, 1, current + step))
    if desired - current > spec.max_step:
        desired = current + spec.max_step
    if desired <= current:
        return "no headroom to scale up within the policy bounds"
    return desired


def _scale(ctx: PlanningContext) -> _Choice | str:
    desired = scale_target(ctx)
    if isinstance(desired, str):
        return desired
    current = ctx.target.replicas
    return _Choice(
        actions=[Action(type=ActionType.SCALE, scale=ScaleParams(replicas=desired))],
        confidence=CONFIDENCE["scale"],
        rationale=f"{ctx.issue.category} pressure: add capacity from {current} to {desired} replicas "
        f"(policy bounds {ctx.actions.scale.min}-{ctx.actions.scale.max}, max step "
        f"{ctx.actions.scale.max_step}).",
        rollback_plan=f"Scale back to {current} replicas.",
    )


def config_drift(ctx: PlanningContext) -> dict[str, str]:
    """Allowlisted keys whose current value differs from the known-good value, with that value."""
    spec = ctx.actions.config_patch
    drift: dict[str, str] = {}
    for key in sorted(spec.allowed_keys):
        good = ctx.known_good_config.get(key)
        if good is None or len(good.encode()) > MAX_CONFIG_VALUE_BYTES:
            continue
        if ctx.config.get(key) != good:
            drift[key] = good
    return drift


def _config_patch(ctx: PlanningContext) -> _Choice | str:
    spec = ctx.actions.config_patch
    if not spec.enabled or spec.config_map_ref is None:
        return "ConfigMap patches are disabled by the policy"
    drift = config_drift(ctx)
    if not drift:
        return "no allowlisted key differs from its known-good value"
    keys = list(drift)[:5]
    ref = LocalObjectReference(name=spec.config_map_ref.name)
    actions = [
        Action(
            type=ActionType.CONFIG_PATCH,
            config_patch=ConfigPatchParams(config_map_ref=ref, key=k, value=drift[k]),
        )
        for k in keys
    ]
    more = f" ({len(drift) - 5} more keys left for a follow-up)" if len(drift) > 5 else ""
    return _Choice(
        actions=actions,
        confidence=CONFIDENCE["config"],
        rationale=f"ConfigMap {ref.name} drifted from its last healthy values: restore "
        f"{', '.join(keys)} to the known-good values{more}.",
        rollback_plan=f"Restore the recorded previous values of {', '.join(keys)} in {ref.name}.",
    )


_CANDIDATE_TYPES: dict[_Candidate, ActionType] = {
    _restart: ActionType.ROLLOUT_RESTART,
    _rollback: ActionType.ROLLBACK,
    _scale: ActionType.SCALE,
    _config_patch: ActionType.CONFIG_PATCH,
}


def _candidates(ctx: PlanningContext) -> list[_Candidate]:
    category = ctx.issue.category
    if category in MEMORY:
        return [_restart, _rollback]
    if category in RELEASE_SENSITIVE:
        # live config that differs from the known-good values is the prime suspect, before any release
        first = [_config_patch] if ctx.actions.config_patch.enabled and config_drift(ctx) else []
        if revision_is_recent(ctx) and previous_revisions(ctx):
            return [*first, _rollback, _restart]
        return [*first, _restart, _rollback]
    if category in LOAD:
        return [_scale]
    if category == "config":
        return [_config_patch]
    return []


# ---------------------------------------------------------------- plans


def _plan(ctx: PlanningContext, choice: _Choice) -> Plan:
    return Plan(
        actions=choice.actions,
        rationale=choice.rationale[:2000],
        expected_effect=f"{ctx.issue.indicator} returns inside its thresholds.",
        success_criteria=SuccessCriteria(indicators=[ctx.issue.indicator]),
        rollback_plan=choice.rollback_plan[:1000],
        confidence=choice.confidence,
        planner=PlannerKind.OFFLINE,
    )


def _escalate(ctx: PlanningContext, reason: str) -> Plan:
    reason = reason[:1024]
    return _plan(
        ctx,
        _Choice(
            actions=[Action(type=ActionType.ESCALATE, escalate=EscalateParams(reason=reason))],
            confidence=CONFIDENCE["escalate"],
            rationale=f"No safe automatic action: {reason}"[:2000],
            rollback_plan="Nothing is changed, so there is nothing to undo.",
        ),
    )


def _no_action(ctx: PlanningContext, reason: str) -> Plan:
    return _plan(
        ctx,
        _Choice(
            actions=[Action(type=ActionType.NO_ACTION)],
            confidence=CONFIDENCE["no-action"],
            rationale=reason[:2000],
            rollback_plan="Nothing is changed, so there is nothing to undo.",
        ),
    )


def _high(severity: Severity) -> bool:
    return SEVERITY_ORDER[severity] >= SEVERITY_ORDER[Severity.HIGH]


def _hands_off(ctx: PlanningContext, why: str) -> Plan:
    """Escalate high and critical issues, record the rest without acting."""
    if _high(ctx.issue.severity):
        return _escalate(ctx, f"{why}; severity {ctx.issue.severity.value} needs a human")
    return _no_action(ctx, f"{why}; severity {ctx.issue.severity.value} does not warrant escalation.")


def change_identity(plan: Plan) -> str:
    """What a plan changes, not by how much. Plans with one identity turn the same knob (Scale to 3 and
    to 4; two values for one ConfigMap key; two rollbacks), so one Remediation serves them all: the first,
    made for the most severe issue, since issues come ordered by severity."""
    parts = [
        f"{a.type.value}:{a.config_patch.config_map_ref.name}/{a.config_patch.key}"
        if a.config_patch is not None
        else a.type.value
        for a in plan.actions
    ]
    return "|".join(sorted(parts))


def offline_plan(ctx: PlanningContext) -> Plan:
    """The deterministic plan for the issue in `ctx`.

    Guarantees: only actions the policy enables, inside its bounds; never an action type that was rolled
    back or failed for the same fingerprint; flapping issues and paused targets are never acted on.
    """
    category = ctx.issue.category
    if category == "external-dependency":
        return _hands_off(ctx, "an external dependency is degraded and nothing in the cluster fixes it")
    if category in LOAD and integration_degraded(ctx):
        return _hands_off(
            ctx,
            f"{category} follows a degraded external dependency (integration indicators failing); "
            "adding pods would only hide it",
        )
    candidates = _candidates(ctx)
    if not candidates:
        return _hands_off(ctx, f"no automatic remediation exists for {category} issues")
    if is_flapping(ctx):
        return _escalate(
            ctx,
            f"issue {ctx.issue.fingerprint} is flapping: it recurred after {FLAP_THRESHOLD} or more "
            "successful remediations, so repeating them only hides the cause",
        )
    if ctx.target.paused:
        return _escalate(ctx, "the target Deployment is paused; the operator does not write to it")
    avoided = failed_action_types(ctx)
    reasons: list[str] = []
    for rank, candidate in enumerate(candidates):
        kind = _CANDIDATE_TYPES[candidate]
        if kind.value in avoided:
            reasons.append(
                f"{kind.value} was rolled back or failed (or a human rejected it) before for this issue"
            )
            continue
        choice = candidate(ctx)
        if isinstance(choice, str):
            reasons.append(choice)
            continue
        if rank > 0:
            choice.confidence = max(0.0, choice.confidence - ALTERNATIVE_PENALTY)
            choice.rationale = f"{choice.rationale} (first choice ruled out: {'; '.join(reasons)})"
        return _plan(ctx, choice)
    return _escalate(ctx, "; ".join(reasons))
