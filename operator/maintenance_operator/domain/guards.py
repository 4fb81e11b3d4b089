"""Safety guards checked before every write. An empty list of violations means the plan may run now.

Decisions worth knowing:

- Plans that write nothing (NoAction, Escalate) pass every guard.
- Argo CD-managed targets: Scale, ConfigPatch and Rollback are *proposed only* (the diff is recorded, not
  applied, because Argo CD would revert it or fight over it); RolloutRestart runs (Argo CD ignores the
  restartedAt annotation drift by default, and it changes no desired state in Git). Write-specific guards
  (paused, HPA, availability) apply only to actions that are really applied.
- Availability storm: when fewer replicas than safety.minAvailable are available *now*, only Rollback
  and scaling up may run, the two ways out of a storm; a restart or config patch would take more pods down.
  Otherwise each rolling action must keep ``min(available, replicas - maxUnavailable)`` at or above
  minAvailable, and a scale down ``min(available, replicas)``; actions are projected in order.
- The allowlist and parameter bounds are not checked here: ``plan_validation.validate_plan`` does that
  for every plan before it is proposed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from maintenance_operator.api.v1alpha1 import (
    Action,
    ActionType,
    MaintenancePolicySpec,
    Plan,
    parse_duration,
)
from maintenance_operator.domain import timestamps
from maintenance_operator.domain.rollout import TargetSnapshot

PROPOSED_ONLY_ON_GITOPS = frozenset(
    {ActionType.SCALE, ActionType.CONFIG_PATCH, ActionType.ROLLBACK, ActionType.SET_RESOURCES}
)
_ROLLING = frozenset(
    {ActionType.ROLLOUT_RESTART, ActionType.CONFIG_PATCH, ActionType.ROLLBACK, ActionType.SET_RESOURCES}
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ExecutionRecord(_Frozen):
    """A past execution on the same target (start of its Executing phase)."""

    at: datetime = Field(description="When execution started (aware).")
    remediation: str = Field(description="Remediation name.")


class GuardViolation(_Frozen):
    """Why the plan may not run now."""

    reason: str = Field(description="CamelCase reason.")
    message: str = Field(description="Human-readable explanation.")
    action_index: int | None = Field(default=None, description="Offending action, if one in particular.")


def proposed_only_actions(*, plan: Plan, target: TargetSnapshot) -> list[int]:
    """Indices of actions to record as a proposed change instead of applying (GitOps-managed target)."""
    if not target.argo_managed:
        return []
    return [i for i, a in enumerate(plan.actions) if a.type in PROPOSED_ONLY_ON_GITOPS]


def _pause_active(until: str | None, now: datetime) -> bool:
    if until is None:
        return True
    try:
        return timestamps.parse(until) > now
    except ValueError:
        return True  # an unreadable expiry keeps the pause: fail safe


def _shrinks(action: Action, replicas: int) -> bool:
    return action.scale is not None and action.scale.replicas < replicas


def _availability(
    *, policy: MaintenancePolicySpec, target: TargetSnapshot, plan: Plan, applied: Sequence[int]
) -> list[GuardViolation]:
    floor = policy.safety.min_available
    available = target.available_replicas
    if available < floor:
        return [
            GuardViolation(
                reason="AvailabilityStorm",
                message=f"only {available} replicas available, below safety.minAvailable {floor}: "
                f"only Rollback or scaling up may run, not {plan.actions[i].type}",
                action_index=i,
            )
            for i in applied
            if plan.actions[i].type in (ActionType.ROLLOUT_RESTART, ActionType.CONFIG_PATCH)
            or _shrinks(plan.actions[i], target.replicas)
        ]
    violations = []
    replicas, unavailable = target.replicas, target.max_unavailable
    for i in applied:
        action = plan.actions[i]
        if action.scale is not None:
            replicas = action.scale.replicas
            # New pods are not available yet: scaling never adds availability within the action.
            available = min(available, replicas)
            if target.strategy == "Recreate":
                unavailable = replicas
            after, what = available, f"scaling to {replicas}"
        elif action.type in _ROLLING:
            after = min(available, max(replicas - unavailable, 0))
            what = f"{action.type} with maxUnavailable {unavailable}"
        else:
            continue
        if after < floor:
            violations.append(
                GuardViolation(
                    reason="MinAvailable",
                    message=f"{what} may leave {after} replicas available, below safety.minAvailable {floor}",
                    action_index=i,
                )
            )
    return violations


def check_guards(
    *,
    policy_spec: MaintenancePolicySpec,
    target: TargetSnapshot,
    plan: Plan,
    history: Sequence[ExecutionRecord],
    open_executing: int,
    now: datetime,
    remediation: str | None = None,
) -> list[GuardViolation]:
    """Every reason the plan may not run on ``target`` at ``now``; empty means go.

    ``history``: past executions on this target; records of ``remediation`` itself are ignored (a retry after
    an operator restart must not rate-limit itself). ``open_executing``: *other* remediations executing on
    the target now.
    """
    if not plan.mutating:
        return []
    policy = policy_spec
    violations: list[GuardViolation] = []
    if policy.suspend:
        violations.append(
            GuardViolation(reason="Suspended", message="the policy is suspended (spec.suspend)")
        )
    proposed = set(proposed_only_actions(plan=plan, target=target))
    applied = [i for i, a in enumerate(plan.actions) if a.mutating and i not in proposed]
    if not applied:
        return violations  # everything is proposed only: nothing will be written
    pauses = [p for p in policy.safety.pause_requests if _pause_active(p.until, now)]
    if pauses:
        names = ", ".join(f"{p.name}" + (f" ({p.reason})" if p.reason else "") for p in pauses)
        violations.append(GuardViolation(reason="PauseRequested", message=f"paused by {names}"))
    mine = [r for r in history if r.remediation != remediation]
    last_hour = [r for r in mine if r.at > now - timedelta(hours=1)]
    limit = policy.rate_limit.max_per_hour
    if len(last_hour) >= limit:
        violations.append(
            GuardViolation(
                reason="RateLimited",
                message=f"{len(last_hour)} executions in the last hour, rateLimit.maxPerHour is {limit}",
            )
        )
    if mine:
        last = max(r.at for r in mine)
        cooldown = timedelta(seconds=parse_duration(policy.rate_limit.cooldown))
        if now < last + cooldown:
            violations.append(
                GuardViolation(
                    reason="CooldownActive",
                    message=f"last execution {int((now - last).total_seconds())}s ago, "
                    f"rateLimit.cooldown is {policy.rate_limit.cooldown}",
                )
            )
    if open_executing >= policy.rate_limit.max_concurrent:
        violations.append(
            GuardViolation(
                reason="ConcurrencyLimit",
                message=f"{open_executing} other remediation(s) executing on the target "
                f"(rateLimit.maxConcurrent {policy.rate_limit.max_concurrent})",
            )
        )
    if target.paused:
        violations.append(
            GuardViolation(
                reason="DeploymentPaused", message=f"Deployment {target.name} is paused: resume it first"
            )
        )
    for i in applied:
        action = plan.actions[i]
        if action.type is ActionType.SCALE and target.has_hpa and action.scale is not None:
            violations.append(
                GuardViolation(
                    reason="HPAManaged",
                    message=f"a HorizontalPodAutoscaler scales {target.name}: set its minReplicas to "
                    f"{action.scale.replicas} instead of scaling the Deployment",
                    action_index=i,
                )
            )
    violations.extend(_availability(policy=policy, target=target, plan=plan, applied=applied))
    return violations
