"""The offline planner: one row per simulator fault, plus knowledge-base avoidance and disabled actions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from maintenance_operator.api.v1alpha1 import (
    ActionType,
    ConfigPatchAction,
    Plan,
    PlannerKind,
    RestartAction,
    RollbackAction,
    ScaleAction,
    Severity,
)
from maintenance_operator.domain import planning
from maintenance_operator.domain.plan_validation import validate_plan
from maintenance_operator.domain.planning import IndicatorSummary, PlanningContext, offline_plan
from tests.fixtures import planning_cases as cases

RECENT = 20 * 60.0


@dataclass(frozen=True)
class Row:
    name: str
    ctx: PlanningContext
    types: tuple[ActionType, ...]
    params: dict[str, Any]
    confidence: float | None = None


def _fp(category: str) -> str:
    return cases.issue(category).fingerprint


ROWS = [
    # memory leak (simulator fault memory_leak)
    Row("memory leak", cases.ctx("memory"), (ActionType.ROLLOUT_RESTART,), {}, 8.5),
    Row(
        "predicted memory exhaustion",
        cases.ctx("memory", predicted=True),
        (ActionType.ROLLOUT_RESTART,),
        {},
        8.5,
    ),
    # bad release (bad_release): recent revision plus error rate
    Row(
        "bad release",
        cases.ctx("error-rate", current_revision_age_seconds=RECENT),
        (ActionType.ROLLBACK,),
        {"to_revision": 4},
        9.0,
    ),
    Row(
        "bad release, plugins",
        cases.ctx("plugins", current_revision_age_seconds=RECENT),
        (ActionType.ROLLBACK,),
        {"to_revision": 4},
        9.0,
    ),
    Row("old release with errors", cases.ctx("error-rate"), (ActionType.ROLLOUT_RESTART,), {}, 7.5),
    Row(
        "recent release without a previous revision",
        cases.ctx("error-rate", current_revision_age_seconds=RECENT, revision=1, revisions=[]),
        (ActionType.ROLLOUT_RESTART,),
        {},
        7.5,
    ),
    # load surge (load_surge): queue or latency
    Row("load surge, queue", cases.ctx("queue"), (ActionType.SCALE,), {"replicas": 5}, 8.0),
    Row("load surge, latency", cases.ctx("latency", replicas=7), (ActionType.SCALE,), {"replicas": 8}, 8.0),
    Row("sessions below min", cases.ctx("sessions", replicas=1), (ActionType.SCALE,), {"replicas": 2}, 8.0),
    Row("load at max", cases.ctx("queue", replicas=8), (ActionType.ESCALATE,), {}, 3.0),
    Row("load with HPA", cases.ctx("latency", has_hpa=True), (ActionType.ESCALATE,), {}, 3.0),
    Row(
        "load, scaling disabled",
        cases.ctx("queue", actions=cases.full_actions(scale=ScaleAction(enabled=False))),
        (ActionType.ESCALATE,),
        {},
        3.0,
    ),
    # config corruption (config_corruption)
    Row(
        "config corruption",
        cases.ctx("config", config={cases.CONFIG_KEY: cases.BAD_CONFIG}),
        (ActionType.CONFIG_PATCH,),
        {"key": cases.CONFIG_KEY, "value": cases.GOOD_CONFIG},
        8.5,
    ),
    Row(
        "config, two keys drifted",
        cases.ctx(
            "config",
            config={cases.CONFIG_KEY: cases.BAD_CONFIG, "maxSessions": "0"},
            known_good={cases.CONFIG_KEY: cases.GOOD_CONFIG, "maxSessions": "500"},
        ),
        (ActionType.CONFIG_PATCH, ActionType.CONFIG_PATCH),
        {},
        8.5,
    ),
    Row("config without drift", cases.ctx("config"), (ActionType.ESCALATE,), {}, 3.0),
    Row(
        "config drift on a key outside the allowlist",
        cases.ctx("config", config={"secretKey": "x"}, known_good={"secretKey": "y"}),
        (ActionType.ESCALATE,),
        {},
        3.0,
    ),
    # external LLM slowdown (llm_slowdown)
    Row("llm slowdown critical", cases.ctx("external-dependency"), (ActionType.ESCALATE,), {}, 3.0),
    Row(
        "llm slowdown medium",
        cases.ctx("external-dependency", severity=Severity.MEDIUM),
        (ActionType.NO_ACTION,),
        {},
        6.0,
    ),
    # flapping
    Row(
        "flapping",
        cases.ctx(
            "memory",
            outcomes=[
                cases.outcome(_fp("memory"), "RolloutRestart", "Succeeded", minutes_ago=50),
                cases.outcome(_fp("memory"), "RolloutRestart", "Succeeded", minutes_ago=20),
            ],
        ),
        (ActionType.ESCALATE,),
        {},
        3.0,
    ),
    # do-nothing cases
    Row("logging low", cases.ctx("logging", severity=Severity.LOW), (ActionType.NO_ACTION,), {}),
    Row("general medium", cases.ctx("general", severity=Severity.MEDIUM), (ActionType.NO_ACTION,), {}),
    Row("logging high", cases.ctx("logging", severity=Severity.HIGH), (ActionType.ESCALATE,), {}),
    Row("unknown category", cases.ctx("gpu-thermals", severity=Severity.LOW), (ActionType.NO_ACTION,), {}),
    Row("paused target", cases.ctx("memory", paused=True), (ActionType.ESCALATE,), {}),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_offline_plan_table(row: Row) -> None:
    plan = offline_plan(row.ctx)

    assert tuple(a.type for a in plan.actions) == row.types
    action = plan.actions[0]
    for name, expected in row.params.items():
        member = action.scale or action.config_patch or action.rollback
        assert getattr(member, name) == expected
    if row.confidence is not None:
        assert plan.confidence == row.confidence
    assert plan.planner is PlannerKind.OFFLINE
    assert plan.success_criteria.indicators == [row.ctx.issue.indicator]
    assert plan.rationale and plan.rollback_plan
    assert validate_plan(plan, row.ctx) == []


def test_offline_plan_is_deterministic() -> None:
    ctx = cases.ctx("error-rate", current_revision_age_seconds=RECENT)
    assert offline_plan(ctx) == offline_plan(ctx)


def test_config_patch_targets_the_policy_configmap() -> None:
    plan = offline_plan(cases.ctx("config", config={cases.CONFIG_KEY: cases.BAD_CONFIG}))
    patch = plan.actions[0].config_patch
    assert patch is not None and patch.config_map_ref.name == cases.CONFIG_MAP


# ---------------------------------------------------------------- knowledge base


def test_memory_restart_that_failed_is_not_repeated() -> None:
    ctx = cases.ctx("memory", outcomes=[cases.outcome(_fp("memory"), "RolloutRestart", "RolledBack")])
    plan = offline_plan(ctx)
    assert [a.type for a in plan.actions] == [ActionType.ROLLBACK]
    assert plan.confidence == 7.5 - planning.ALTERNATIVE_PENALTY
    assert "RolloutRestart was rolled back or failed" in plan.rationale


def test_bad_release_rollback_that_failed_falls_back_to_restart() -> None:
    ctx = cases.ctx(
        "error-rate",
        current_revision_age_seconds=RECENT,
        outcomes=[cases.outcome(_fp("error-rate"), "Rollback", "Failed")],
    )
    assert [a.type for a in offline_plan(ctx).actions] == [ActionType.ROLLOUT_RESTART]


def test_every_alternative_failed_escalates() -> None:
    fp = _fp("memory")
    ctx = cases.ctx(
        "memory",
        outcomes=[cases.outcome(fp, "RolloutRestart", "Failed"), cases.outcome(fp, "Rollback", "RolledBack")],
    )
    plan = offline_plan(ctx)
    assert [a.type for a in plan.actions] == [ActionType.ESCALATE]
    assert plan.confidence == 3.0


def test_failures_of_other_fingerprints_are_ignored() -> None:
    ctx = cases.ctx("memory", outcomes=[cases.outcome("other/issue", "RolloutRestart", "Failed")])
    assert [a.type for a in offline_plan(ctx).actions] == [ActionType.ROLLOUT_RESTART]


def test_scale_that_failed_escalates() -> None:
    ctx = cases.ctx("queue", outcomes=[cases.outcome(_fp("queue"), "Scale", "RolledBack")])
    assert [a.type for a in offline_plan(ctx).actions] == [ActionType.ESCALATE]


def test_old_successes_are_not_flapping() -> None:
    fp = _fp("memory")
    ctx = cases.ctx(
        "memory",
        outcomes=[
            cases.outcome(fp, "RolloutRestart", "Succeeded", minutes_ago=60 * 24),
            cases.outcome(fp, "RolloutRestart", "Succeeded", minutes_ago=20),
        ],
    )
    assert not planning.is_flapping(ctx)
    assert [a.type for a in offline_plan(ctx).actions] == [ActionType.ROLLOUT_RESTART]


# ---------------------------------------------------------------- disabled actions


def test_restart_disabled_memory_uses_rollback() -> None:
    ctx = cases.ctx("memory", actions=cases.full_actions(restart=RestartAction(enabled=False)))
    plan = offline_plan(ctx)
    assert [a.type for a in plan.actions] == [ActionType.ROLLBACK]
    assert "disabled" in plan.rationale


def test_restart_and_rollback_disabled_escalates() -> None:
    actions = cases.full_actions(restart=RestartAction(enabled=False), rollback=RollbackAction(enabled=False))
    plan = offline_plan(cases.ctx("error-rate", current_revision_age_seconds=RECENT, actions=actions))
    assert [a.type for a in plan.actions] == [ActionType.ESCALATE]


def test_config_patch_disabled_escalates() -> None:
    actions = cases.full_actions(config_patch=ConfigPatchAction(enabled=False))
    plan = offline_plan(cases.ctx("config", config={cases.CONFIG_KEY: cases.BAD_CONFIG}, actions=actions))
    assert [a.type for a in plan.actions] == [ActionType.ESCALATE]


@pytest.mark.parametrize("category", sorted(cases.INDICATOR_BY_CATEGORY))
def test_nothing_enabled_never_mutates(category: str) -> None:
    actions = cases.full_actions(
        restart=RestartAction(enabled=False),
        rollback=RollbackAction(enabled=False),
        scale=ScaleAction(enabled=False),
        config_patch=ConfigPatchAction(enabled=False),
    )
    plan = offline_plan(
        cases.ctx(
            category,
            actions=actions,
            config={cases.CONFIG_KEY: cases.BAD_CONFIG},
            current_revision_age_seconds=RECENT,
        )
    )
    assert not plan.mutating


def test_rollback_respects_max_revisions_back() -> None:
    ctx = cases.ctx(
        "error-rate",
        current_revision_age_seconds=RECENT,
        actions=cases.full_actions(rollback=RollbackAction(max_revisions_back=1)),
    )
    assert planning.previous_revisions(ctx) == [4]


def test_state_digest_ignores_drifting_telemetry() -> None:
    a = cases.ctx("memory")
    b = a.model_copy(update={"indicator_summary": [], "now": None})
    assert planning.state_digest(a) == planning.state_digest(b)
    c = cases.ctx("memory", replicas=4)
    assert planning.state_digest(a) != planning.state_digest(c)


def test_error_rate_with_drifted_config_patches_config_before_rolling_back() -> None:
    context = cases.ctx(
        "error-rate", config={cases.CONFIG_KEY: cases.BAD_CONFIG}, current_revision_age_seconds=600.0
    )
    plan = planning.offline_plan(context)
    assert [a.type for a in plan.actions] == [ActionType.CONFIG_PATCH]
    assert plan.actions[0].config_patch is not None
    assert plan.actions[0].config_patch.value == cases.GOOD_CONFIG


def test_error_rate_without_drift_still_rolls_back_a_recent_release() -> None:
    plan = planning.offline_plan(cases.ctx("error-rate", current_revision_age_seconds=600.0))
    assert [a.type for a in plan.actions] == [ActionType.ROLLBACK]


def test_latency_from_a_degraded_external_dependency_is_not_scaled_away() -> None:
    base = cases.ctx("latency", severity=Severity.MEDIUM)
    external = IndicatorSummary(name="llm-error-ratio", dimension="integration", phase="Failed", value=0.4)
    context = base.model_copy(update={"indicator_summary": [*base.indicator_summary, external]})
    plan = planning.offline_plan(context)
    assert [a.type for a in plan.actions] == [ActionType.NO_ACTION]
    assert "external dependency" in plan.rationale


@pytest.mark.parametrize(
    ("dimension", "category", "held_back"),
    [
        ("integration", "external-dependency", True),
        ("component", "external-dependency", True),  # an external API scored as a component
        ("integration", "general", True),  # no category: the integration dimension decides
        ("integration", "plugins", False),  # in-process plugins: scaling may still help
        ("core", "general", False),
    ],
)
def test_only_an_external_dependency_holds_scaling_back(
    dimension: str, category: str, held_back: bool
) -> None:
    base = cases.ctx("latency", severity=Severity.MEDIUM)
    failing = IndicatorSummary(name="dep", dimension=dimension, category=category, phase="Failed", value=0.4)
    context = base.model_copy(update={"indicator_summary": [*base.indicator_summary, failing]})
    types = [a.type for a in planning.offline_plan(context).actions]
    assert types == ([ActionType.NO_ACTION] if held_back else [ActionType.SCALE])


def test_latency_with_healthy_integrations_still_scales() -> None:
    plan = planning.offline_plan(cases.ctx("latency", severity=Severity.MEDIUM))
    assert [a.type for a in plan.actions] == [ActionType.SCALE]


# One Remediation per knob


def _plan_of(*actions: dict[str, Any]) -> Plan:
    return Plan.model_validate({"actions": list(actions), "rationale": "r", "confidence": 8})


def _cm(key: str, value: str, name: str = "chatapp-config") -> dict[str, Any]:
    return {
        "type": "ConfigPatch",
        "configPatch": {"configMapRef": {"name": name}, "key": key, "value": value},
    }


def test_plans_turning_the_same_knob_share_an_identity() -> None:
    identity = planning.change_identity
    scale3 = _plan_of({"type": "Scale", "scale": {"replicas": 3}})
    scale4 = _plan_of({"type": "Scale", "scale": {"replicas": 4}})
    assert identity(scale3) == identity(scale4)
    assert identity(_plan_of(_cm("a", "1"))) == identity(_plan_of(_cm("a", "2")))
    rollback2 = _plan_of({"type": "Rollback", "rollback": {"toRevision": 2}})
    rollback3 = _plan_of({"type": "Rollback", "rollback": {"toRevision": 3}})
    assert identity(rollback2) == identity(rollback3)


def test_different_knobs_have_different_identities() -> None:
    identity = planning.change_identity
    restart = _plan_of({"type": "RolloutRestart"})
    scale = _plan_of({"type": "Scale", "scale": {"replicas": 3}})
    assert len({identity(restart), identity(scale), identity(_plan_of(_cm("a", "1")))}) == 3
    assert identity(_plan_of(_cm("a", "1"))) != identity(_plan_of(_cm("b", "1")))
    assert identity(_plan_of(_cm("a", "1"))) != identity(_plan_of(_cm("a", "1", name="other")))
    # order of actions does not matter, their set does
    both = _plan_of({"type": "RolloutRestart"}, {"type": "Scale", "scale": {"replicas": 3}})
    reversed_ = _plan_of({"type": "Scale", "scale": {"replicas": 5}}, {"type": "RolloutRestart"})
    assert identity(both) == identity(reversed_) != identity(restart)
