from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maintenance_operator.api.v1alpha1 import PauseRequest, Plan, RateLimitSpec, SafetySpec
from maintenance_operator.domain import guards
from maintenance_operator.domain.rollout import TargetSnapshot
from tests.fixtures.remediation_cases import (
    NO_ACTION,
    RESTART,
    config_patch,
    escalate,
    plan,
    policy,
    rollback,
    scale,
    target,
)

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def check(
    p: Plan,
    *,
    snap: TargetSnapshot | None = None,
    history: list[guards.ExecutionRecord] | None = None,
    open_executing: int = 0,
    remediation: str | None = None,
    **policy_fields: object,
) -> list[str]:
    found = guards.check_guards(
        policy_spec=policy(**policy_fields),
        target=snap or target(),
        plan=p,
        history=history or [],
        open_executing=open_executing,
        now=NOW,
        remediation=remediation,
    )
    return [v.reason for v in found]


def ago(minutes: float, name: str = "older") -> guards.ExecutionRecord:
    return guards.ExecutionRecord(at=NOW - timedelta(minutes=minutes), remediation=name)


def test_healthy_target_passes() -> None:
    assert check(plan(RESTART)) == []


@pytest.mark.parametrize("action", [NO_ACTION, escalate()])
def test_plans_that_write_nothing_always_pass(action: object) -> None:
    p = plan(action)  # type: ignore[arg-type]
    assert check(p, suspend=True, snap=target(paused=True, available_replicas=0), open_executing=3) == []


def test_suspended() -> None:
    assert check(plan(RESTART), suspend=True) == ["Suspended"]


def test_active_pause_requests_block_and_expired_ones_do_not() -> None:
    active = PauseRequest(name="release-freeze", reason="launch")
    open_ended = PauseRequest(name="sre", until="not-a-time")  # unreadable: fail safe, still paused
    lapsed = PauseRequest(name="old", until="2030-01-01T11:00:00Z")
    later = PauseRequest(name="later", until="2030-01-01T13:00:00Z")
    found = guards.check_guards(
        policy_spec=policy(safety=SafetySpec(pause_requests=[active, open_ended, lapsed, later])),
        target=target(),
        plan=plan(RESTART),
        history=[],
        open_executing=0,
        now=NOW,
    )
    assert [v.reason for v in found] == ["PauseRequested"]
    assert found[0].message == "paused by release-freeze (launch), sre, later"
    assert check(plan(RESTART), safety=SafetySpec(pause_requests=[lapsed])) == []


def test_rate_limit_counts_a_rolling_hour() -> None:
    limits = RateLimitSpec(max_per_hour=2, cooldown="0s")
    assert check(plan(RESTART), history=[ago(10), ago(50)], rate_limit=limits) == ["RateLimited"]
    assert check(plan(RESTART), history=[ago(10), ago(61)], rate_limit=limits) == []


def test_zero_per_hour_never_executes() -> None:
    assert check(plan(RESTART), rate_limit=RateLimitSpec(max_per_hour=0)) == ["RateLimited"]


def test_cooldown_since_last_execution() -> None:
    assert check(plan(RESTART), history=[ago(9), ago(100)]) == ["CooldownActive"]  # default 10m
    assert check(plan(RESTART), history=[ago(10)]) == []


def test_own_history_is_ignored_on_retry() -> None:
    assert check(plan(RESTART), history=[ago(1, "me")], remediation="me") == []


def test_concurrency_limit() -> None:
    assert check(plan(RESTART), open_executing=1) == ["ConcurrencyLimit"]


def test_paused_deployment_blocks_writes() -> None:
    assert check(plan(scale(5)), snap=target(paused=True)) == ["DeploymentPaused"]


def test_hpa_owned_target_cannot_be_scaled() -> None:
    found = guards.check_guards(
        policy_spec=policy(),
        target=target(has_hpa=True),
        plan=plan(RESTART, scale(6)),
        history=[],
        open_executing=0,
        now=NOW,
    )
    assert [(v.reason, v.action_index) for v in found] == [("HPAManaged", 1)]
    assert "minReplicas to 6" in found[0].message
    assert check(plan(RESTART), snap=target(has_hpa=True)) == []


def test_argo_managed_target_proposes_declarative_changes_only() -> None:
    argo = target(argo_managed=True)
    p = plan(RESTART, scale(5), config_patch(), rollback(4))
    assert guards.proposed_only_actions(plan=p, target=argo) == [1, 2, 3]
    assert guards.proposed_only_actions(plan=p, target=target()) == []


def test_proposed_only_actions_skip_write_guards() -> None:
    argo = target(argo_managed=True, paused=True, has_hpa=True)
    assert check(plan(scale(1)), snap=argo, open_executing=1) == []
    assert check(plan(scale(1)), snap=argo, suspend=True) == ["Suspended"]
    assert check(plan(RESTART, scale(1)), snap=argo) == ["DeploymentPaused"]


def test_rolling_action_must_keep_min_available() -> None:
    # 4 replicas, maxUnavailable 1: a restart keeps 3 available.
    assert check(plan(RESTART), safety=SafetySpec(min_available=3)) == []
    assert check(plan(RESTART), safety=SafetySpec(min_available=4)) == ["MinAvailable"]
    recreate = target(strategy="Recreate", max_unavailable=4)
    assert check(plan(config_patch()), snap=recreate, safety=SafetySpec(min_available=1)) == ["MinAvailable"]


def test_scale_down_must_keep_min_available() -> None:
    assert check(plan(scale(2)), safety=SafetySpec(min_available=2)) == []
    assert check(plan(scale(1)), safety=SafetySpec(min_available=2)) == ["MinAvailable"]


def test_actions_are_projected_in_order() -> None:
    # After scaling to 2, a restart with maxUnavailable 1 leaves 1 available.
    found = guards.check_guards(
        policy_spec=policy(safety=SafetySpec(min_available=2)),
        target=target(),
        plan=plan(scale(2), RESTART),
        history=[],
        open_executing=0,
        now=NOW,
    )
    assert [(v.reason, v.action_index) for v in found] == [("MinAvailable", 1)]
    assert "may leave 1 replicas" in found[0].message


def test_recreate_after_scale_takes_all_new_replicas_down() -> None:
    recreate = target(strategy="Recreate", max_unavailable=4)
    assert check(plan(scale(6), RESTART), snap=recreate, safety=SafetySpec(min_available=1)) == [
        "MinAvailable"
    ]


def test_storm_allows_only_rollback_and_scale_up() -> None:
    storm = target(available_replicas=1)
    safety = SafetySpec(min_available=2)
    assert check(plan(rollback(4)), snap=storm, safety=safety) == []
    assert check(plan(scale(6)), snap=storm, safety=safety) == []
    found = guards.check_guards(
        policy_spec=policy(safety=safety),
        target=storm,
        plan=plan(RESTART, config_patch(), scale(3), rollback(4)),
        history=[],
        open_executing=0,
        now=NOW,
    )
    assert [(v.reason, v.action_index) for v in found] == [
        ("AvailabilityStorm", 0),
        ("AvailabilityStorm", 1),
        ("AvailabilityStorm", 2),
    ]


def test_every_violation_is_reported() -> None:
    reasons = check(
        plan(scale(1)),
        snap=target(paused=True, has_hpa=True),
        history=[ago(1)],
        open_executing=1,
        suspend=True,
        rate_limit=RateLimitSpec(max_per_hour=1),
        safety=SafetySpec(min_available=2, pause_requests=[PauseRequest(name="x")]),
    )
    assert reasons == [
        "Suspended",
        "PauseRequested",
        "RateLimited",
        "CooldownActive",
        "ConcurrencyLimit",
        "DeploymentPaused",
        "HPAManaged",
        "MinAvailable",
    ]
