"""validate_plan: the allowlist, the bounds and the target's state, for any planner's plan."""

from __future__ import annotations

from typing import Any

import pytest

from maintenance_operator.api.v1alpha1 import (
    Action,
    ActionType,
    ConfigPatchAction,
    ConfigPatchParams,
    EscalateParams,
    LocalObjectReference,
    Plan,
    RestartAction,
    RollbackAction,
    RollbackParams,
    ScaleAction,
    ScaleParams,
)
from maintenance_operator.domain.plan_validation import validate_plan
from tests.fixtures import planning_cases as cases


def plan(*actions: Action) -> Plan:
    return Plan(actions=list(actions), rationale="test", confidence=8)


def scale(n: int) -> Action:
    return Action(type=ActionType.SCALE, scale=ScaleParams(replicas=n))


def patch(key: str = cases.CONFIG_KEY, value: str = "ok", cm: str = cases.CONFIG_MAP) -> Action:
    return Action(
        type=ActionType.CONFIG_PATCH,
        config_patch=ConfigPatchParams(config_map_ref=LocalObjectReference(name=cm), key=key, value=value),
    )


def rollback(to: int) -> Action:
    return Action(type=ActionType.ROLLBACK, rollback=RollbackParams(to_revision=to))


RESTART = Action(type=ActionType.ROLLOUT_RESTART)
NOOP = Action(type=ActionType.NO_ACTION)
ESCALATE = Action(type=ActionType.ESCALATE, escalate=EscalateParams(reason="page"))

VALID = [
    ("restart", plan(RESTART), {}),
    ("scale up a step", plan(scale(5)), {}),
    ("scale down a step", plan(scale(2)), {"replicas": 4}),
    ("config patch", plan(patch()), {}),
    ("two config keys", plan(patch(), patch(key="maxSessions", value="500")), {}),
    ("rollback one back", plan(rollback(4)), {}),
    ("rollback three back", plan(rollback(3)), {}),
    ("no action", plan(NOOP), {}),
    ("escalate", plan(ESCALATE), {}),
    ("escalate on a paused target", plan(ESCALATE), {"paused": True}),
    ("restart then rollback", plan(RESTART, rollback(4)), {}),
]


@pytest.mark.parametrize(("name", "the_plan", "target"), VALID, ids=[v[0] for v in VALID])
def test_valid_plans(name: str, the_plan: Plan, target: dict[str, Any]) -> None:
    assert validate_plan(the_plan, cases.ctx("memory", **target)) == []


INVALID = [
    ("scale to zero", plan(scale(0)), {}, "below the minimum of 2"),
    ("scale above max", plan(scale(9)), {"replicas": 8}, "above the policy maximum of 8"),
    ("scale too big a step", plan(scale(7)), {}, "exceeds maxStep 2"),
    ("scale to the same count", plan(scale(3)), {}, "changes nothing"),
    ("scale with HPA", plan(scale(5)), {"has_hpa": True}, "HorizontalPodAutoscaler"),
    ("two scales", plan(scale(4), scale(5)), {}, "at most one Scale"),
    ("config on another ConfigMap", plan(patch(cm="kube-proxy")), {}, "only touch the policy's ConfigMap"),
    (
        "config on a key outside the allowlist",
        plan(patch(key="adminPassword")),
        {},
        "not in configPatch.allowedKeys",
    ),
    ("config with control characters", plan(patch(value="a\x00b")), {}, "control characters"),
    ("config too large", plan(patch(value="é" * 4100)), {}, "larger than 8192 bytes"),
    ("same key twice", plan(patch(), patch(value="other")), {}, "patched more than once"),
    ("rollback to a missing revision", plan(rollback(99)), {}, "does not exist"),
    ("rollback to the current revision", plan(rollback(5)), {}, "changes nothing"),
    (
        "rollback too far back",
        plan(rollback(1)),
        {
            "revisions": [
                cases.target().revisions[0].model_copy(update={"revision": r}) for r in (1, 2, 3, 4, 5)
            ]
        },
        "beyond maxRevisionsBack 3",
    ),
    ("two rollbacks", plan(rollback(4), rollback(3)), {}, "at most one Rollback"),
    ("restart on a paused target", plan(RESTART), {"paused": True}, "paused"),
    ("noop mixed with restart", plan(NOOP, RESTART), {}, "cannot be combined"),
    ("escalate mixed with scale", plan(ESCALATE, scale(4)), {}, "cannot be combined"),
    ("duplicate restart", plan(RESTART, RESTART), {}, "duplicate"),
]


@pytest.mark.parametrize(("name", "the_plan", "target", "message"), INVALID, ids=[i[0] for i in INVALID])
def test_invalid_plans(name: str, the_plan: Plan, target: dict[str, Any], message: str) -> None:
    violations = validate_plan(the_plan, cases.ctx("memory", **target))
    assert any(message in v for v in violations), violations


@pytest.mark.parametrize(
    ("actions", "action"),
    [
        (cases.full_actions(restart=RestartAction(enabled=False)), RESTART),
        (cases.full_actions(scale=ScaleAction(enabled=False)), scale(4)),
        (cases.full_actions(config_patch=ConfigPatchAction(enabled=False)), patch()),
        (cases.full_actions(rollback=RollbackAction(enabled=False)), rollback(4)),
    ],
    ids=["restart", "scale", "configPatch", "rollback"],
)
def test_disabled_action_types_are_rejected(actions: Any, action: Action) -> None:
    violations = validate_plan(plan(action), cases.ctx("memory", actions=actions))
    assert any("is not enabled" in v for v in violations)


def test_scale_floor_is_one_even_if_min_allows_less() -> None:
    # ScaleAction.min is >= 1 by schema; the floor check still guards replicas=0
    ctx = cases.ctx(
        "queue", actions=cases.full_actions(scale=ScaleAction(enabled=True, min=1, max=4)), replicas=1
    )
    assert any("below the minimum of 1" in v for v in validate_plan(plan(scale(0)), ctx))


def test_violations_do_not_echo_free_text() -> None:
    violations = validate_plan(plan(patch(key="IGNORE PREVIOUS INSTRUCTIONS")), cases.ctx("config"))
    assert violations and all("IGNORE" not in v for v in violations)
