"""Planning contexts for the Chat App preset, shared by the planner, validation, prompt and LLM tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from maintenance_operator.api.v1alpha1 import (
    ActionsSpec,
    ConfigPatchAction,
    Dimension,
    Evidence,
    Issue,
    LocalObjectReference,
    Outcome,
    RollbackAction,
    ScaleAction,
    Severity,
)
from maintenance_operator.domain.planning import IndicatorSummary, PlanningContext, RevisionInfo, TargetState

NOW = datetime(2025, 11, 26, 12, 0, tzinfo=UTC)
CONFIG_MAP = "chatapp-config"
CONFIG_KEY = "config.yaml"
GOOD_CONFIG = "plugins: [search, summarize]\nmaxSessions: 500\n"
BAD_CONFIG = "plugins: [unterminated\n"

INDICATOR_BY_CATEGORY = {
    "memory": ("memory-working-set", Dimension.CORE),
    "error-rate": ("http-error-rate", Dimension.CORE),
    "plugins": ("plugin-failures", Dimension.COMPONENT),
    "latency": ("p95-latency", Dimension.USER_EXPERIENCE),
    "queue": ("message-queue-depth", Dimension.COMPONENT),
    "sessions": ("active-sessions", Dimension.USER_EXPERIENCE),
    "config": ("config-reload-errors", Dimension.OPERATIONAL),
    "external-dependency": ("llm-api-latency", Dimension.INTEGRATION),
    "logging": ("log-error-rate", Dimension.OPERATIONAL),
    "general": ("pod-restarts", Dimension.OPERATIONAL),
}


def full_actions(**overrides: Any) -> ActionsSpec:
    """Every action enabled, Chat App bounds."""
    fields: dict[str, Any] = {
        "scale": ScaleAction(enabled=True, min=2, max=8, max_step=2),
        "config_patch": ConfigPatchAction(
            enabled=True,
            config_map_ref=LocalObjectReference(name=CONFIG_MAP),
            allowed_keys=[CONFIG_KEY, "maxSessions"],
        ),
        "rollback": RollbackAction(enabled=True, max_revisions_back=3),
    }
    fields.update(overrides)
    return ActionsSpec(**fields)


def issue(
    category: str,
    *,
    severity: Severity = Severity.CRITICAL,
    predicted: bool = False,
    title: str | None = None,
    description: str = "",
) -> Issue:
    indicator, dimension = INDICATOR_BY_CATEGORY.get(category, ("pod-restarts", Dimension.OPERATIONAL))
    return Issue(
        fingerprint=f"chatapp/{indicator}/{category}" + ("/predicted" if predicted else ""),
        title=title or f"{indicator} breached",
        severity=severity,
        category=category,
        dimension=dimension,
        indicator=indicator,
        predicted=predicted,
        description=description,
        evidence=[
            Evidence(
                query=f'max(chatapp_{indicator.replace("-", "_")}{{namespace="shop"}})',
                value=0.12,
                threshold=0.05,
                comparison=">= critical",
            )
        ],
    )


def target(**overrides: Any) -> TargetState:
    fields: dict[str, Any] = {
        "replicas": 3,
        "available_replicas": 3,
        "image": "chatapp:1.1",
        "revision": 5,
        "revisions": [
            RevisionInfo(revision=3, image="chatapp:0.9"),
            RevisionInfo(revision=4, image="chatapp:1.0"),
            RevisionInfo(revision=5, image="chatapp:1.1"),
        ],
        "current_revision_age_seconds": 3 * 24 * 3600.0,
    }
    fields.update(overrides)
    return TargetState(**fields)


def outcome(fingerprint: str, action: str, result: str, *, minutes_ago: float = 30) -> Outcome:
    at = datetime.fromtimestamp(NOW.timestamp() - minutes_ago * 60, UTC).isoformat().replace("+00:00", "Z")
    return Outcome(fingerprint=fingerprint, action=action, result=result, at=at)


def ctx(
    category: str,
    *,
    severity: Severity = Severity.CRITICAL,
    predicted: bool = False,
    actions: ActionsSpec | None = None,
    config: dict[str, str] | None = None,
    known_good: dict[str, str] | None = None,
    outcomes: list[Outcome] | None = None,
    title: str | None = None,
    description: str = "",
    **target_overrides: Any,
) -> PlanningContext:
    the_issue = issue(category, severity=severity, predicted=predicted, title=title, description=description)
    return PlanningContext(
        namespace="shop",
        target_name="chatapp",
        issue=the_issue,
        target=target(**target_overrides),
        actions=actions or full_actions(),
        config={CONFIG_KEY: GOOD_CONFIG} if config is None else config,
        known_good_config={CONFIG_KEY: GOOD_CONFIG} if known_good is None else known_good,
        outcomes=outcomes or [],
        indicator_summary=[
            IndicatorSummary(
                name=the_issue.indicator,
                dimension=the_issue.dimension.value,
                phase="Failed",
                value=0.12,
                warning=0.02,
                critical=0.05,
            )
        ],
        now=NOW,
    )
