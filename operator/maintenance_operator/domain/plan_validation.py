"""Every plan, offline or LLM, is checked against the policy's allowlist and the target's state here.

A plan with any violation is never executed. Messages name the rule that failed and the offending value
in operator terms; they never echo free text from the plan.
"""

from __future__ import annotations

import unicodedata

from maintenance_operator.api.v1alpha1 import Action, ActionType, Plan
from maintenance_operator.domain.planning import PlanningContext

MAX_CONFIG_VALUE_BYTES = 8192
_ALLOWED_CONTROL = frozenset("\n\t")


def _has_control_characters(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROL for ch in value)


def _enabled(action: Action, ctx: PlanningContext) -> bool:
    spec = ctx.actions
    return {
        ActionType.ROLLOUT_RESTART: spec.restart.enabled,
        ActionType.SCALE: spec.scale.enabled,
        ActionType.CONFIG_PATCH: spec.config_patch.enabled,
        ActionType.ROLLBACK: spec.rollback.enabled,
        ActionType.NO_ACTION: True,
        ActionType.ESCALATE: True,
    }[action.type]


def _scale_violations(index: int, action: Action, ctx: PlanningContext) -> list[str]:
    assert action.scale is not None
    spec = ctx.actions.scale
    replicas = action.scale.replicas
    current = ctx.target.replicas
    out: list[str] = []
    floor = max(1, spec.min)
    if replicas < floor:
        out.append(f"actions[{index}]: Scale to {replicas} is below the minimum of {floor} replicas")
    if replicas > spec.max:
        out.append(f"actions[{index}]: Scale to {replicas} is above the policy maximum of {spec.max}")
    if abs(replicas - current) > spec.max_step:
        out.append(f"actions[{index}]: Scale from {current} to {replicas} exceeds maxStep {spec.max_step}")
    if replicas == current:
        out.append(f"actions[{index}]: Scale to the current {current} replicas changes nothing")
    if ctx.target.has_hpa:
        out.append(f"actions[{index}]: Scale is not allowed while an HorizontalPodAutoscaler owns replicas")
    return out


def _config_violations(index: int, action: Action, ctx: PlanningContext) -> list[str]:
    assert action.config_patch is not None
    spec = ctx.actions.config_patch
    patch = action.config_patch
    out: list[str] = []
    if spec.config_map_ref is None or patch.config_map_ref.name != spec.config_map_ref.name:
        out.append(f"actions[{index}]: ConfigPatch may only touch the policy's ConfigMap")
    if patch.key not in spec.allowed_keys:
        out.append(f"actions[{index}]: ConfigPatch key is not in configPatch.allowedKeys")
    if len(patch.value.encode()) > MAX_CONFIG_VALUE_BYTES:
        out.append(f"actions[{index}]: ConfigPatch value is larger than {MAX_CONFIG_VALUE_BYTES} bytes")
    if _has_control_characters(patch.value):
        out.append(f"actions[{index}]: ConfigPatch value contains control characters")
    return out


def _rollback_violations(index: int, action: Action, ctx: PlanningContext) -> list[str]:
    assert action.rollback is not None
    to = action.rollback.to_revision
    current = ctx.target.revision
    known = {r.revision for r in ctx.target.revisions}
    out: list[str] = []
    if to not in known:
        out.append(f"actions[{index}]: Rollback to revision {to}, which does not exist")
        return out
    if current is not None and to == current:
        out.append(f"actions[{index}]: Rollback to the current revision {to} changes nothing")
        return out
    older = sorted((r for r in known if current is None or r < current), reverse=True)
    limit = ctx.actions.rollback.max_revisions_back
    if to not in older[:limit]:
        out.append(f"actions[{index}]: Rollback to revision {to} is beyond maxRevisionsBack {limit}")
    return out


def validate_plan(plan: Plan, ctx: PlanningContext) -> list[str]:
    """Violations of the policy's allowlist and bounds and of the target's state; empty means valid."""
    out: list[str] = []
    mutating = [a for a in plan.actions if a.mutating]
    passive = [a for a in plan.actions if not a.mutating]
    if mutating and passive:
        out.append("NoAction and Escalate cannot be combined with actions that change the cluster")
    if mutating and ctx.target.paused:
        out.append("the target Deployment is paused: no action may change it")
    if sum(1 for a in plan.actions if a.type is ActionType.ROLLBACK) > 1:
        out.append("at most one Rollback per plan")
    if sum(1 for a in plan.actions if a.type is ActionType.SCALE) > 1:
        out.append("at most one Scale per plan")
    seen: list[Action] = []
    for index, action in enumerate(plan.actions):
        if action in seen:
            out.append(f"actions[{index}]: duplicate of an earlier action")
        seen.append(action)
        if not _enabled(action, ctx):
            out.append(f"actions[{index}]: {action.type.value} is not enabled in the policy's actions")
            continue
        if action.type is ActionType.SCALE:
            out.extend(_scale_violations(index, action, ctx))
        elif action.type is ActionType.CONFIG_PATCH:
            out.extend(_config_violations(index, action, ctx))
        elif action.type is ActionType.ROLLBACK:
            out.extend(_rollback_violations(index, action, ctx))
    config_keys = [a.config_patch.key for a in plan.actions if a.config_patch is not None]
    if len(config_keys) != len(set(config_keys)):
        out.append("a ConfigMap key is patched more than once")
    return out
