"""The category -> action table, its parameter checks, and the offline planner obeying the same table."""

from __future__ import annotations

import itertools

import pytest

from maintenance_operator.api.v1alpha1 import (
    Action,
    ActionType,
    ConfigPatchParams,
    EscalateParams,
    LocalObjectReference,
    Plan,
    PlannerKind,
    RollbackParams,
    ScaleParams,
    Severity,
)
from maintenance_operator.domain import fit, planning
from maintenance_operator.domain.planning import IndicatorSummary
from tests.fixtures import planning_cases as cases

RESTART = Action(type=ActionType.ROLLOUT_RESTART)
SCALE_UP = Action(type=ActionType.SCALE, scale=ScaleParams(replicas=5))
SCALE_DOWN = Action(type=ActionType.SCALE, scale=ScaleParams(replicas=2))
ROLLBACK_1 = Action(type=ActionType.ROLLBACK, rollback=RollbackParams(to_revision=4))
ROLLBACK_2 = Action(type=ActionType.ROLLBACK, rollback=RollbackParams(to_revision=3))
PATCH_GOOD = Action(
    type=ActionType.CONFIG_PATCH,
    config_patch=ConfigPatchParams(
        config_map_ref=LocalObjectReference(name=cases.CONFIG_MAP),
        key=cases.CONFIG_KEY,
        value=cases.GOOD_CONFIG,
    ),
)
PATCH_NEW = Action(
    type=ActionType.CONFIG_PATCH,
    config_patch=ConfigPatchParams(
        config_map_ref=LocalObjectReference(name=cases.CONFIG_MAP), key=cases.CONFIG_KEY, value="debug: true"
    ),
)
NO_ACTION = Action(type=ActionType.NO_ACTION)
ESCALATE = Action(type=ActionType.ESCALATE, escalate=EscalateParams(reason="human"))


def plan(*actions: Action) -> Plan:
    return Plan(actions=list(actions), rationale="r", confidence=10, planner=PlannerKind.CLAUDE)


# category, action, fits (target: 3 replicas on revision 5, previous 4 and 3; known-good config)
TABLE = [
    ("memory", RESTART, True),
    ("memory", ROLLBACK_1, True),
    ("memory", ROLLBACK_2, False),
    ("memory", SCALE_UP, False),
    ("memory", PATCH_GOOD, False),
    ("queue", SCALE_UP, True),
    ("queue", SCALE_DOWN, False),
    ("queue", RESTART, False),
    ("queue", ROLLBACK_1, False),
    ("latency", SCALE_UP, True),
    ("latency", SCALE_DOWN, False),
    ("sessions", SCALE_UP, True),
    ("sessions", RESTART, False),
    ("error-rate", ROLLBACK_1, True),
    ("error-rate", ROLLBACK_2, False),
    ("error-rate", RESTART, True),
    ("error-rate", PATCH_GOOD, True),
    ("error-rate", PATCH_NEW, False),
    ("error-rate", SCALE_UP, False),
    ("plugins", ROLLBACK_1, True),
    ("config", PATCH_GOOD, True),
    ("config", PATCH_NEW, False),
    ("config", ROLLBACK_1, True),
    ("config", RESTART, False),
    ("external-dependency", RESTART, False),
    ("external-dependency", SCALE_UP, False),
    ("external-dependency", NO_ACTION, True),
    ("external-dependency", ESCALATE, True),
    ("logging", RESTART, False),
    ("general", ROLLBACK_1, False),
    ("never-heard-of-it", RESTART, False),
    ("never-heard-of-it", NO_ACTION, True),
]


@pytest.mark.parametrize(("category", "action", "fits"), TABLE, ids=lambda v: getattr(v, "type", v))
def test_category_action_table(category: str, action: Action, fits: bool) -> None:
    verdict = fit.plan_fits(plan(action), cases.ctx(category))
    assert verdict.fits is fits
    assert bool(verdict.reasons) is not fits


def test_reasons_name_the_rule() -> None:
    verdict = fit.plan_fits(plan(SCALE_DOWN), cases.ctx("queue"))
    assert verdict.reasons == [
        "actions[0]: Scale 3->2 removes capacity during a queue issue: "
        "load issues are fixed by scaling up, never down"
    ]
    verdict = fit.plan_fits(plan(RESTART), cases.ctx("external-dependency"))
    assert "fits: no automatic action (a human decides)" in verdict.reasons[0]


def test_one_bad_action_spoils_the_plan() -> None:
    assert not fit.plan_fits(plan(RESTART, SCALE_UP), cases.ctx("memory")).fits


def test_scale_up_does_not_fit_while_a_dependency_fails() -> None:
    ctx = cases.ctx("queue")
    failing = IndicatorSummary(name="llm-api", dimension="integration", phase="Failed", category="general")
    ctx = ctx.model_copy(update={"indicator_summary": [*ctx.indicator_summary, failing]})
    assert not fit.plan_fits(plan(SCALE_UP), ctx).fits


def test_unknown_category_allows_nothing() -> None:
    assert fit.allowed_actions("whatever") == frozenset()
    assert fit.allowed_actions("memory") == {ActionType.ROLLOUT_RESTART, ActionType.ROLLBACK}


# the offline planner must satisfy the same table in every situation it can meet
_CATEGORIES = list(cases.INDICATOR_BY_CATEGORY)
_SITUATIONS = {
    "plain": {},
    "recent-revision": {"current_revision_age_seconds": 600.0},
    "drift": {"config": {cases.CONFIG_KEY: cases.BAD_CONFIG}},
    "restart-failed": {"outcomes": "RolloutRestart"},
    "rollback-failed": {"outcomes": "Rollback"},
    "at-max": {"replicas": 8, "available_replicas": 8},
    "no-revisions": {"revisions": [], "revision": None},
}


@pytest.mark.parametrize(
    ("category", "situation", "severity"),
    list(itertools.product(_CATEGORIES, _SITUATIONS, [Severity.CRITICAL, Severity.MEDIUM])),
)
def test_offline_planner_obeys_the_table(category: str, situation: str, severity: Severity) -> None:
    extra = dict(_SITUATIONS[situation])
    failed = extra.pop("outcomes", None)
    ctx = cases.ctx(category, severity=severity, **extra)
    if isinstance(failed, str):
        ctx = ctx.model_copy(
            update={"outcomes": [cases.outcome(ctx.issue.fingerprint, failed, "RolledBack")]}
        )
    offline = planning.offline_plan(ctx)
    verdict = fit.plan_fits(offline, ctx)
    assert verdict.fits, (offline.actions, verdict.reasons)
