"""Alertmanager notifications: parsing, the bearer token, matching alerts to policies, dedupe names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import alerts

CHATAPP = alerts.PolicyRef(namespace="chatapp", name="chatapp", target="chatapp")
OTHER = alerts.PolicyRef(namespace="chatapp", name="gateway", target="gateway")
ELSEWHERE = alerts.PolicyRef(namespace="staging", name="chatapp", target="chatapp")
SUSPENDED = alerts.PolicyRef(namespace="chatapp", name="paused", target="paused", suspended=True)
POLICIES = [CHATAPP, OTHER, ELSEWHERE, SUSPENDED]


def alert(labels: dict[str, str], status: str = "firing") -> dict[str, Any]:
    return {
        "status": status,
        "labels": labels,
        "annotations": {"summary": "s"},
        "startsAt": "2026-12-06T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus/graph",
        "fingerprint": "f" * 16,
    }


def payload(*items: dict[str, Any], version: str = "4") -> dict[str, Any]:
    return {
        "version": version,
        "groupKey": '{}:{alertname="HighErrorRatio"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "maintenance-operator",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager",
        "alerts": list(items),
    }


def test_parses_a_version_4_notification() -> None:
    parsed = alerts.parse(payload(alert({"alertname": "HighErrorRatio", "namespace": "chatapp"})))
    assert parsed.receiver == "maintenance-operator"
    assert parsed.alerts[0].status is alerts.AlertStatus.FIRING
    assert parsed.alerts[0].labels["alertname"] == "HighErrorRatio"
    assert parsed.alerts[0].starts_at == "2026-12-06T10:00:00Z"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ([], "JSON object"),
        ({"status": "firing", "alerts": []}, "version"),
        (payload(version="3"), "unsupported payload version"),
        (payload(alert({}, status="pending")), "alerts.0.status"),
        ({**payload(), "alerts": "nope"}, "alerts"),
        ({**payload(), "alerts": [alert({})] * (alerts.MAX_ALERTS + 1)}, "alerts"),
    ],
)
def test_rejects_what_is_not_a_v4_notification(raw: object, reason: str) -> None:
    with pytest.raises(alerts.InvalidNotification, match=reason):
        alerts.parse(raw)


@pytest.mark.parametrize(
    ("header", "token", "ok"),
    [
        ("Bearer s3cret", "s3cret", True),
        ("bearer s3cret", "s3cret", True),
        ("Bearer s3cret ", "s3cret", True),
        ("Bearer wrong", "s3cret", False),
        ("Bearer s3cre", "s3cret", False),
        ("Basic s3cret", "s3cret", False),
        ("s3cret", "s3cret", False),
        (None, "s3cret", False),
        ("", "s3cret", False),
        ("Bearer ", "", False),
        ("Bearer anything", "", False),
    ],
)
def test_bearer_token(header: str | None, token: str, ok: bool) -> None:
    assert alerts.authorized(header, token=token) is ok


@pytest.mark.parametrize(
    ("labels", "status", "expected"),
    [
        ({"namespace": "chatapp", "maintenance_policy": "chatapp"}, "firing", [CHATAPP]),
        ({"namespace": "chatapp", "deployment": "gateway"}, "firing", [OTHER]),
        ({"namespace": "staging", "deployment": "chatapp"}, "firing", [ELSEWHERE]),
        # the policy label wins over the deployment label
        (
            {"namespace": "chatapp", "maintenance_policy": "gateway", "deployment": "chatapp"},
            "firing",
            [OTHER],
        ),
        ({"namespace": "chatapp", "maintenance_policy": "nope"}, "firing", []),
        ({"deployment": "chatapp"}, "firing", []),  # no namespace: no policy
        ({"namespace": "chatapp", "deployment": "chatapp"}, "resolved", []),
        ({"namespace": "chatapp", "deployment": "paused"}, "firing", []),  # suspended
        ({"namespace": "chatapp", "pod": "chatapp-1"}, "firing", []),
    ],
)
def test_match_by_policy_or_target(
    labels: dict[str, str], status: str, expected: list[alerts.PolicyRef]
) -> None:
    notification = alerts.parse(payload(alert({"alertname": "A", **labels}, status=status)))
    assert [m.policy for m in alerts.match(notification, POLICIES)] == expected


def test_one_match_per_policy_with_every_alertname() -> None:
    notification = alerts.parse(
        payload(
            alert({"alertname": "HighErrorRatio", "namespace": "chatapp", "deployment": "chatapp"}),
            alert({"alertname": "HighLatency", "namespace": "chatapp", "deployment": "chatapp"}),
            alert({"alertname": "HighLatency", "namespace": "chatapp", "maintenance_policy": "chatapp"}),
            alert({"alertname": "Down", "namespace": "chatapp", "deployment": "gateway"}),
            alert({"alertname": "Old", "namespace": "staging", "deployment": "chatapp"}, status="resolved"),
        )
    )
    matches = alerts.match(notification, POLICIES)
    assert [(m.policy.name, m.alertnames) for m in matches] == [
        ("chatapp", ("HighErrorRatio", "HighLatency")),
        ("gateway", ("Down",)),
    ]


def test_namespaces_of_firing_alerts_only() -> None:
    notification = alerts.parse(
        payload(
            alert({"namespace": "b"}),
            alert({"namespace": "a"}),
            alert({"namespace": "a"}),
            alert({"namespace": "c"}, status="resolved"),
            alert({}),
        )
    )
    assert alerts.namespaces(notification) == ["a", "b"]


def test_assessment_name_is_stable_within_a_cooldown_slot() -> None:
    at = datetime(2026, 12, 6, 10, 0, 5, tzinfo=UTC)
    later = datetime(2026, 12, 6, 10, 0, 55, tzinfo=UTC)
    next_slot = datetime(2026, 12, 6, 10, 1, 0, tzinfo=UTC)
    name = alerts.assessment_name("chatapp", now=at)
    assert name == alerts.assessment_name("chatapp", now=later)
    assert name != alerts.assessment_name("chatapp", now=next_slot)
    assert name.startswith("chatapp-al-")
    assert len(alerts.assessment_name("p" * 253, now=at)) <= 253


@pytest.mark.parametrize(
    ("phases", "busy"),
    [
        ([], False),
        (["Completed", "Failed", "Inconclusive"], False),
        (["Completed", "Running"], True),
        (["Pending"], True),
        ([None], True),  # created, not yet picked up
    ],
)
def test_in_flight(phases: list[str | None], busy: bool) -> None:
    assert alerts.in_flight([api.AssessmentPhase(p) if p else None for p in phases]) is busy


def indicator(**overrides: Any) -> api.Indicator:
    base = {"name": "error-ratio", "dimension": "core", "query": "q", "warning": 0.01, "critical": 0.05}
    return api.Indicator.model_validate({**base, **overrides})


def test_rules_fire_past_each_threshold_in_the_indicator_direction() -> None:
    spec = alerts.indicator_rules(
        policy="chatapp",
        namespace="chat",
        indicators=[
            (indicator(**{"for": "2m", "description": "5xx share"}), 'sum(rate(x{namespace="chat"}[1m]))'),
            (indicator(name="ready", direction="LowerIsWorse", warning=2, critical=1), "min(ready)"),
        ],
    )
    (group,) = spec["groups"]  # type: ignore[attr-defined]
    assert group["name"] == "chat.chatapp.maintenance-indicators"
    exprs = [(r["alert"], r["expr"], r["for"], r["labels"]["severity"]) for r in group["rules"]]
    assert exprs == [
        ("MaintenanceIndicatorWarning", '(sum(rate(x{namespace="chat"}[1m]))) > 0.01', "2m", "warning"),
        ("MaintenanceIndicatorCritical", '(sum(rate(x{namespace="chat"}[1m]))) > 0.05', "2m", "critical"),
        ("MaintenanceIndicatorWarning", "(min(ready)) < 2.0", "0s", "warning"),
        ("MaintenanceIndicatorCritical", "(min(ready)) < 1.0", "0s", "critical"),
    ]
    assert group["rules"][0]["annotations"]["description"] == "5xx share"


def test_rendered_alerts_match_their_policy_back() -> None:
    spec = alerts.indicator_rules(policy="chatapp", namespace="chatapp", indicators=[(indicator(), "q")])
    labels = spec["groups"][0]["rules"][0]["labels"]  # type: ignore[index]
    notification = alerts.parse(payload(alert({"alertname": "MaintenanceIndicatorWarning", **labels})))
    assert [m.policy for m in alerts.match(notification, POLICIES)] == [CHATAPP]
