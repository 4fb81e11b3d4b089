"""Builders shared by the remediation domain tests (risk, approval, guards, verification)."""

from __future__ import annotations

from typing import Any

from maintenance_operator.api.v1alpha1 import (
    Action,
    ActionType,
    ConfigPatchParams,
    Dimension,
    EscalateParams,
    Indicator,
    Issue,
    LocalObjectReference,
    MaintenancePolicySpec,
    Plan,
    RollbackParams,
    ScaleParams,
    Severity,
    TargetRef,
)
from maintenance_operator.domain.rollout import TargetSnapshot

RESTART = Action(type=ActionType.ROLLOUT_RESTART)
NO_ACTION = Action(type=ActionType.NO_ACTION)


def scale(replicas: int) -> Action:
    return Action(type=ActionType.SCALE, scale=ScaleParams(replicas=replicas))


def rollback(to: int) -> Action:
    return Action(type=ActionType.ROLLBACK, rollback=RollbackParams(to_revision=to))


def config_patch(key: str = "POOL_SIZE", value: str = "50", config_map: str = "chatapp-config") -> Action:
    return Action(
        type=ActionType.CONFIG_PATCH,
        config_patch=ConfigPatchParams(
            config_map_ref=LocalObjectReference(name=config_map), key=key, value=value
        ),
    )


def escalate(reason: str = "needs a DBA") -> Action:
    return Action(type=ActionType.ESCALATE, escalate=EscalateParams(reason=reason))


def plan(*actions: Action, confidence: float = 9.0) -> Plan:
    return Plan(actions=list(actions), rationale="because", confidence=confidence)


def issue(severity: Severity = Severity.CRITICAL, *, predicted: bool = False) -> Issue:
    return Issue(
        fingerprint="chatapp/error-rate",
        title="error rate high",
        severity=severity,
        category="error-rate",
        dimension=Dimension.CORE,
        indicator="error-rate",
        predicted=predicted,
    )


def target(**overrides: Any) -> TargetSnapshot:
    """A healthy 4-replica Deployment at revision 5 (maxUnavailable 1, maxSurge 1)."""
    fields: dict[str, Any] = {
        "name": "chatapp",
        "namespace": "prod",
        "replicas": 4,
        "status_replicas": 4,
        "available_replicas": 4,
        "updated_replicas": 4,
        "ready_replicas": 4,
        "max_unavailable": 1,
        "max_surge": 1,
        "ready": True,
        "rollout_done": True,
        "generation": 7,
        "observed_generation": 7,
        "revision": 5,
    }
    fields.update(overrides)
    return TargetSnapshot(**fields)


def policy(**overrides: Any) -> MaintenancePolicySpec:
    fields: dict[str, Any] = {
        "target_ref": TargetRef(name="chatapp"),
        "indicators": [
            Indicator(name="error-rate", dimension=Dimension.CORE, query="up", warning=0.01, critical=0.05)
        ],
    }
    fields.update(overrides)
    return MaintenancePolicySpec(**fields)
