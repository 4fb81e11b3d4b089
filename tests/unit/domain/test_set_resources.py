"""SetResources: the typed action of capacity right-sizing (api, plan validation, risk, approval)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pydantic
import pytest

from maintenance_operator.api.v1alpha1 import (
    Action,
    ActionType,
    AutoApproveSpec,
    Plan,
    RemediationPhase,
    Risk,
    RiskLevel,
    Route,
    SetResourcesAction,
    SetResourcesParams,
    Severity,
)
from maintenance_operator.domain import approval, guards, risk
from maintenance_operator.domain.plan_validation import validate_plan
from tests.fixtures import planning_cases as cases
from tests.fixtures.remediation_cases import issue, target

QUIET = datetime(2030, 1, 5, 3, 0, tzinfo=UTC)  # Saturday night
APP = {"requests": {"cpu": "500m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}}


def set_resources(**params: Any) -> Action:
    return Action(type=ActionType.SET_RESOURCES, set_resources=SetResourcesParams(container="app", **params))


def violations(action: Action, *, enabled: bool = True, **limits: Any) -> list[str]:
    ctx = cases.ctx(
        "latency",
        actions=cases.full_actions(set_resources=SetResourcesAction(enabled=enabled, **limits)),
        containers={"app": APP},
    )
    return validate_plan(Plan(actions=[action], rationale="right-size", confidence=8), ctx)


def test_params_need_a_value_and_valid_quantities() -> None:
    with pytest.raises(pydantic.ValidationError, match="at least one"):
        SetResourcesParams(container="app")
    with pytest.raises(pydantic.ValidationError):
        SetResourcesParams(container="app", cpu_request="lots")
    assert SetResourcesParams(container="app", cpu_request="250m", memory_limit="1Gi").values() == {
        "requests": {"cpu": "250m"},
        "limits": {"memory": "1Gi"},
    }
    with pytest.raises(pydantic.ValidationError, match="setResources must be set"):
        Action(type=ActionType.SET_RESOURCES)


def test_a_bounded_change_of_an_existing_container_is_valid() -> None:
    assert violations(set_resources(cpu_request="750m", memory_request="300Mi", memory_limit="600Mi")) == []


@pytest.mark.parametrize(
    ("action", "limits", "needle"),
    [
        (set_resources(cpu_request="750m"), {"enabled": False}, "not enabled"),
        (
            Action(
                type=ActionType.SET_RESOURCES,
                set_resources=SetResourcesParams(container="sidecar", cpu_request="1"),
            ),
            {},
            "does not have",
        ),
        (
            set_resources(cpu_request="9"),
            {"max_cpu_cores": 8.0, "max_change_factor": 100.0},
            "above the policy",
        ),
        (
            set_resources(memory_limit="4Gi"),
            {"max_memory_gib": 2.0, "max_change_factor": 100.0},
            "above the policy",
        ),
        (set_resources(cpu_request="3"), {}, "maxChangeFactor 4"),
        (set_resources(memory_request="1Gi"), {}, "request would be above its limit"),
        (set_resources(cpu_request="0"), {}, "not a positive quantity"),
    ],
)
def test_out_of_bounds_changes_are_refused(action: Action, limits: dict[str, Any], needle: str) -> None:
    found = violations(action, **({"enabled": True} | limits))
    assert any(needle in v for v in found), found


def test_two_changes_of_one_container_in_one_plan_are_refused() -> None:
    ctx = cases.ctx(
        "latency",
        actions=cases.full_actions(set_resources=SetResourcesAction(enabled=True)),
        containers={"app": APP},
    )
    plan = Plan(
        actions=[set_resources(cpu_request="600m"), set_resources(memory_request="300Mi")],
        rationale="r",
        confidence=8,
    )
    assert "at most one SetResources per container" in validate_plan(plan, ctx)


def test_risk_counts_the_pod_replacement_and_limits_weigh_more() -> None:
    def scored(action: Action) -> Risk:
        return risk.score_risk(
            plan=Plan(actions=[action], rationale="r", confidence=8),
            target=target(),
            issue=issue(),
            now=QUIET,
        )

    requests = scored(set_resources(cpu_request="600m"))
    limits = scored(set_resources(memory_limit="600Mi"))
    assert limits.score > requests.score >= 3.0
    assert any("SetResources" in f for f in requests.factors)
    assert any("pods are replaced" in f for f in requests.factors)
    assert ActionType.SET_RESOURCES in guards.PROPOSED_ONLY_ON_GITOPS


@pytest.mark.parametrize("route", [Route.AUTO_RESOLVE, Route.MAINTENANCE_WINDOW])
def test_set_resources_is_never_auto_approved(route: Route) -> None:
    d = approval.decide(
        issue=issue(Severity.CRITICAL),
        route=route,
        plan=Plan(actions=[set_resources(cpu_request="600m")], rationale="r", confidence=10),
        risk=Risk(score=1, level=RiskLevel.LOW),
        auto=AutoApproveSpec(severities=list(Severity), max_risk=RiskLevel.CRITICAL, min_confidence=0),
        windows=[],
        now=datetime(2030, 1, 1, 12, tzinfo=UTC),
    )
    assert d.phase is RemediationPhase.AWAITING_APPROVAL and d.approved_by is None
