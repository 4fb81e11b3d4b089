"""Does a typed plan plausibly fix the issue it answers? The table below, for every planner alike.

Per issue category (the indicator's ``category``), the actions that can help:

============================  ====================================================================
memory                        RolloutRestart, Rollback
latency, queue, sessions      Scale up (more replicas than now); never down. Nothing when an external
                              dependency is failing in the same assessment (more pods only hide it)
error-rate, plugins           Rollback, RolloutRestart, ConfigPatch
config                        ConfigPatch, Rollback
external-dependency           nothing that writes (NoAction or Escalate)
anything else                 nothing that writes: a human decides
============================  ====================================================================

Parameters are checked too: a Rollback must go to the newest revision older than the current one (one step
back), and a ConfigPatch must restore a key's known-good value (no invented values). NoAction and Escalate
fit every issue: changing nothing never makes an incident worse. A plan that does not fit is never
auto-approved: it goes to a human with the reasons returned here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from maintenance_operator.api.v1alpha1 import Action, ActionType, Plan
from maintenance_operator.domain import planning
from maintenance_operator.domain.planning import PlanningContext

_R = ActionType
TABLE: dict[str, frozenset[ActionType]] = {
    "memory": frozenset({_R.ROLLOUT_RESTART, _R.ROLLBACK}),
    "latency": frozenset({_R.SCALE}),
    "queue": frozenset({_R.SCALE}),
    "sessions": frozenset({_R.SCALE}),
    "error-rate": frozenset({_R.ROLLBACK, _R.ROLLOUT_RESTART, _R.CONFIG_PATCH}),
    "plugins": frozenset({_R.ROLLBACK, _R.ROLLOUT_RESTART, _R.CONFIG_PATCH}),
    "config": frozenset({_R.CONFIG_PATCH, _R.ROLLBACK}),
    planning.EXTERNAL_CATEGORY: frozenset(),
}
"""Category -> the writing action types that can help it. A category not listed allows none."""

PASSIVE = frozenset({ActionType.NO_ACTION, ActionType.ESCALATE})


class Fit(BaseModel):
    """The verdict, with one reason per action that does not fit."""

    model_config = ConfigDict(frozen=True)

    fits: bool = Field(description="Every action can plausibly help this issue.")
    reasons: list[str] = Field(default_factory=list, description="Why not, in operator terms.")


def allowed_actions(category: str) -> frozenset[ActionType]:
    """Writing action types that can help ``category`` (empty for unknown categories)."""
    return TABLE.get(category, frozenset())


def _parameter_reason(index: int, action: Action, ctx: PlanningContext) -> str | None:
    category = ctx.issue.category
    if action.type is ActionType.SCALE and action.scale is not None:
        current, desired = ctx.target.replicas, action.scale.replicas
        if desired <= current:
            return (
                f"actions[{index}]: Scale {current}->{desired} removes capacity during a {category} issue: "
                "load issues are fixed by scaling up, never down"
            )
        if planning.integration_degraded(ctx):
            return (
                f"actions[{index}]: Scale during a {category} issue while an external dependency is failing "
                "only hides the cause"
            )
    if action.type is ActionType.ROLLBACK and action.rollback is not None:
        previous = planning.previous_revisions(ctx)
        if not previous or action.rollback.to_revision != previous[0]:
            one_back = previous[0] if previous else "none"
            return (
                f"actions[{index}]: Rollback to revision {action.rollback.to_revision} skips revisions: "
                f"only the previous revision ({one_back}) is a plausible fix"
            )
    if action.type is ActionType.CONFIG_PATCH and action.config_patch is not None:
        key = action.config_patch.key
        good = ctx.known_good_config.get(key)
        if good is None or action.config_patch.value != good:
            return f"actions[{index}]: ConfigPatch sets {key} to a value that is not its known-good value"
    return None


def plan_fits(plan: Plan, ctx: PlanningContext) -> Fit:
    """Whether every action of ``plan`` can plausibly fix ``ctx.issue`` (see the module table)."""
    category = ctx.issue.category
    allowed = allowed_actions(category)
    reasons: list[str] = []
    for index, action in enumerate(plan.actions):
        if action.type in PASSIVE:
            continue
        if action.type not in allowed:
            helps = ", ".join(sorted(a.value for a in allowed)) or "no automatic action (a human decides)"
            reasons.append(
                f"actions[{index}]: {action.type.value} does not fit a {category} issue (fits: {helps})"
            )
            continue
        why = _parameter_reason(index, action, ctx)
        if why is not None:
            reasons.append(why)
    return Fit(fits=not reasons, reasons=reasons)
