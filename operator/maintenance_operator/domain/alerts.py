"""Alertmanager webhook notifications: parse, authenticate, and match firing alerts to policies (pure)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import machine

POLICY_LABEL = "maintenance_policy"  # set by the rules rendered from a policy's indicators
NAMESPACE_LABEL = "namespace"
DEPLOYMENT_LABEL = "deployment"  # kube-state-metrics' name for the Deployment of a series
INDICATOR_LABEL = "maintenance_indicator"
COOLDOWN_SECONDS = 60.0
MAX_ALERTS = 1000


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Alert(BaseModel):
    """One alert of a notification (Alertmanager webhook payload version 4)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    status: AlertStatus = Field(description="firing or resolved.")
    labels: dict[str, str] = Field(default_factory=dict, description="Identifying labels.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Informational annotations.")
    starts_at: str = Field(default="", alias="startsAt", description="When the alert started firing.")
    fingerprint: str = Field(default="", description="Alertmanager's identity of the alert.")


class Notification(BaseModel):
    """An Alertmanager webhook notification (payload version 4)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    version: str = Field(description="Payload version; only 4 is understood.")
    group_key: str = Field(default="", alias="groupKey", description="Key of the alert group.")
    status: AlertStatus = Field(description="firing when at least one alert fires.")
    receiver: str = Field(default="", description="Name of the Alertmanager receiver.")
    alerts: list[Alert] = Field(max_length=MAX_ALERTS, description="The alerts of the group.")


class InvalidNotification(ValueError):
    """The body is not an Alertmanager v4 notification; the message is safe to return to the sender."""


def parse(raw: object) -> Notification:
    """A validated notification, or InvalidNotification with a one-line reason."""
    if not isinstance(raw, dict):
        raise InvalidNotification("the body must be a JSON object")
    try:
        notification = Notification.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise InvalidNotification(f"{where}: {first.get('msg')}") from exc
    if notification.version != "4":
        raise InvalidNotification(f"unsupported payload version {notification.version!r}: expected '4'")
    return notification


def authorized(header: str | None, *, token: str) -> bool:
    """Whether an Authorization header carries the bearer token (constant-time; an empty token allows
    nobody)."""
    if not token or not header:
        return False
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(credentials.strip().encode(), token.encode())


@dataclass(frozen=True)
class PolicyRef:
    """What matching needs to know about one MaintenancePolicy."""

    namespace: str
    name: str
    target: str
    suspended: bool = False


@dataclass(frozen=True)
class Match:
    """A policy to assess now, and the firing alerts that asked for it."""

    policy: PolicyRef
    alertnames: tuple[str, ...]


def _matches(alert: Alert, policy: PolicyRef) -> bool:
    labels = alert.labels
    if labels.get(NAMESPACE_LABEL) != policy.namespace:
        return False
    if POLICY_LABEL in labels:
        return labels[POLICY_LABEL] == policy.name
    return labels.get(DEPLOYMENT_LABEL) == policy.target


def match(notification: Notification, policies: list[PolicyRef]) -> list[Match]:
    """Policies to assess for the firing alerts, one entry per policy, in a stable order.

    An alert names its policy with `maintenance_policy` (rules rendered from indicators), or its target
    with `deployment`; either way `namespace` must be the policy's. Resolved alerts and suspended policies
    trigger nothing.
    """
    wanted: dict[PolicyRef, list[str]] = {}
    for alert in notification.alerts:
        if alert.status is not AlertStatus.FIRING:
            continue
        for policy in policies:
            if not policy.suspended and _matches(alert, policy):
                names = wanted.setdefault(policy, [])
                alertname = alert.labels.get("alertname", "")
                if alertname not in names:
                    names.append(alertname)
    ordered = sorted(wanted, key=lambda p: (p.namespace, p.name))
    return [Match(policy=p, alertnames=tuple(wanted[p])) for p in ordered]


def namespaces(notification: Notification) -> list[str]:
    """The namespaces the firing alerts point at: only there can a policy match."""
    found = {
        a.labels[NAMESPACE_LABEL]
        for a in notification.alerts
        if a.status is AlertStatus.FIRING and a.labels.get(NAMESPACE_LABEL)
    }
    return sorted(found)


def assessment_name(policy: str, *, now: datetime, cooldown_seconds: float = COOLDOWN_SECONDS) -> str:
    """The name of the alert-triggered assessment of `policy` at `now`.

    The same within one cooldown slot, so identical notifications (retries, several replicas, several
    alert groups) create one assessment: the API server refuses the second create.
    """
    slot = int(now.timestamp() // max(cooldown_seconds, 1.0))
    return f"{policy[: 253 - 24]}-al-{slot}"


def in_flight(phases: list[api.AssessmentPhase | None]) -> bool:
    """Whether one of a policy's assessments (given by phase) has not finished yet."""
    return any(phase not in machine.ASSESSMENT_FINISHED for phase in phases)


# ---------------------------------------------------------------- rules rendered from a policy's indicators

RULE_GROUP_SUFFIX = ".maintenance-indicators"
_COMPARE = {api.Direction.HIGHER_IS_WORSE: ">", api.Direction.LOWER_IS_WORSE: "<"}


def _threshold(value: float) -> str:
    return repr(float(value))


def indicator_rules(
    *, policy: str, namespace: str, indicators: list[tuple[api.Indicator, str]]
) -> dict[str, object]:
    """The spec of a PrometheusRule with two alerts per indicator (past warning, past critical, each held
    for the indicator's `for`), labelled so that the receiver matches them back to `policy`.

    `indicators` pairs each indicator with its query, $namespace and $deployment already substituted.
    """
    rules: list[dict[str, object]] = []
    for indicator, query in indicators:
        for severity, value in (("warning", indicator.warning), ("critical", indicator.critical)):
            rules.append(
                {
                    "alert": f"MaintenanceIndicator{severity.capitalize()}",
                    "expr": f"({query}) {_COMPARE[indicator.direction]} {_threshold(value)}",
                    "for": indicator.for_,
                    "labels": {
                        "severity": severity,
                        NAMESPACE_LABEL: namespace,
                        POLICY_LABEL: policy,
                        INDICATOR_LABEL: indicator.name,
                    },
                    "annotations": {
                        "summary": f"{namespace}/{policy}: {indicator.name} past {severity} ({value})",
                        "description": indicator.description or f"{indicator.dimension.value} indicator",
                    },
                }
            )
    return {"groups": [{"name": f"{namespace}.{policy}{RULE_GROUP_SUFFIX}", "rules": rules}]}
