"""Every plan, offline or LLM, is checked against the policy's allowlist and the target's state here.

A plan with any violation is never executed. Messages name the rule that failed and the offending value
in operator terms; they never echo free text from the plan.
"""

from __future__ import annotations

import unicodedata

from maintenance_operator.api.v1alpha1 import Action, ActionType, Plan
from maintenance_operator.domain import capacity
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
        ActionType.SET_RESOURCES: spec.set_resources.enabled,
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


def _resources_violations(index: int, action: Action, ctx: PlanningContext) -> list[str]:
    assert action.set_resources is not None
    params, spec = action.set_resources, ctx.actions.set_resources
    where = f"actions[{index}]: SetResources"
    current = ctx.target.containers.get(params.container)
    if current is None:
        return [f"{where} names container {params.container}, which the target does not have"]
    out: list[str] = []
    ceiling = {"cpu": spec.max_cpu_cores, "memory": spec.max_memory_gib * 1024.0**3}
    wanted = params.values()
    for kind, values in wanted.items():
        for resource, text in values.items():
            value = capacity.parse_quantity(text)
            if value is None or value <= 0:
                out.append(f"{where} {kind}.{resource} {text} is not a positive quantity")
                continue
            if value > ceiling[resource]:
                out.append(f"{where} {kind}.{resource} {text} is above the policy maximum")
            before = capacity.parse_quantity(current.get(kind, {}).get(resource))
            if before and max(value / before, before / value) > spec.max_change_factor:
                factor = spec.max_change_factor
                out.append(f"{where} {kind}.{resource} changes by more than maxChangeFactor {factor:g}")
    for resource in ("cpu", "memory"):
        request = wanted.get("requests", {}).get(resource) or current.get("requests", {}).get(resource)
        limit = wanted.get("limits", {}).get(resource) or current.get("limits", {}).get(resource)
        r, lim = capacity.parse_quantity(request), capacity.parse_quantity(limit)
        if r is not None and lim is not None and r > lim:
            out.append(f"{where} {resource} request would be above its limit")
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
        elif action.type is ActionType.SET_RESOURCES:
            out.extend(_resources_violations(index, action, ctx))
    containers = [a.set_resources.container for a in plan.actions if a.set_resources is not None]
    if len(containers) != len(set(containers)):
        out.append("at most one SetResources per container")
    config_keys = [a.config_patch.key for a in plan.actions if a.config_patch is not None]
    if len(config_keys) != len(set(config_keys)):
        out.append("a ConfigMap key is patched more than once")
    return out
