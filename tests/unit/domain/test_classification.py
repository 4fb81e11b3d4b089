"""Issues from judged indicators and forecasts (domain/classification.py)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import classification
from maintenance_operator.domain import judgement as judging

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
S = api.Severity


def indicator(**overrides: Any) -> api.Indicator:
    fields: dict[str, Any] = {
        "name": "error-ratio",
        "dimension": "core",
        "category": "error-rate",
        "query": "q",
        "warning": 0.01,
        "critical": 0.05,
    }
    fields.update(overrides)
    return api.Indicator.model_validate(fields)


def observe(
    values: list[float], *, error: str | None = None, sustained: bool = True, **overrides: Any
) -> classification.Observation:
    ind = indicator(**overrides)
    j = judging.judge(values=values, error=error, indicator=ind)
    return classification.Observation(ind, j, f"sent({ind.name})", sustained, "2025-01-01T11:50:00Z")


def classify(
    observations: list[classification.Observation], forecasts: list[api.Forecast] | None = None
) -> list[api.Issue]:
    return classification.classify(
        namespace="chatapp",
        target="chatapp",
        observations=observations,
        forecasts=forecasts or [],
        routing=api.SeverityRouting(),
        now=NOW,
    )


@pytest.mark.parametrize(
    ("values", "overrides", "severity"),
    [
        ([0.001], {}, None),
        ([0.02], {}, S.MEDIUM),
        ([0.07], {}, S.HIGH),
        ([0.1], {}, S.CRITICAL),  # >= 2x critical
        ([math.inf], {}, S.CRITICAL),
        ([0.85], {"category": "memory", "warning": 0.8, "critical": 0.85}, S.MEDIUM),
        ([0.92], {"category": "memory", "warning": 0.8, "critical": 0.9}, S.HIGH),
        ([0.95], {"category": "memory", "warning": 0.8, "critical": 0.9}, S.CRITICAL),
        (
            [0.8],
            {"category": "availability", "direction": "LowerIsWorse", "warning": 0.99, "critical": 0.95},
            S.CRITICAL,
        ),
        ([0.6], {"direction": "LowerIsWorse", "warning": 1, "critical": 0.9}, S.HIGH),
        ([0.4], {"direction": "LowerIsWorse", "warning": 1, "critical": 0.9}, S.CRITICAL),  # <= critical / 2
        (
            [-5.0],
            {"direction": "LowerIsWorse", "warning": 0, "critical": -1},
            S.HIGH,
        ),  # no "half" of a negative
        ([-0.5], {"warning": -2, "critical": -1}, S.HIGH),  # 2x of a negative critical is meaningless
        ([], {"noDataPolicy": "Failed"}, S.HIGH),
        ([], {"noDataPolicy": "Failed", "category": "availability"}, S.CRITICAL),
        ([], {"noDataPolicy": "Healthy"}, None),
    ],
)
def test_observed_severity(
    values: list[float], overrides: dict[str, Any], severity: api.Severity | None
) -> None:
    issues = classify([observe(values, **overrides)])
    assert [i.severity for i in issues] == ([severity] if severity else [])


def test_unsustained_breach_is_no_issue() -> None:
    assert classify([observe([0.5], sustained=False)]) == []


def test_error_and_inconclusive_never_raise() -> None:
    assert classify([observe([0.5], error="timeout")]) == []
    assert classify([observe([])]) == []
    assert classify([observe([math.nan])]) == []


def test_issue_content_and_evidence() -> None:
    [issue] = classify([observe([0.07], description="Fraction of chat requests that fail.")])
    assert issue.category == "error-rate" and issue.dimension is api.Dimension.CORE
    assert issue.indicator == "error-ratio" and not issue.predicted
    assert issue.route is api.Route.APPROVAL_REQUIRED
    assert "0.07 > 0.05" in issue.title and "chatapp" in issue.title
    assert (
        "Fraction of chat requests" in issue.description and "since 2025-01-01T11:50:00Z" in issue.description
    )
    [ev] = issue.evidence
    assert (ev.query, ev.value, ev.threshold, ev.comparison, ev.at) == (
        "sent(error-ratio)",
        0.07,
        0.05,
        "> critical",
        "2025-01-01T12:00:00Z",
    )


def test_warning_evidence_uses_warning_threshold() -> None:
    [issue] = classify(
        [observe([0.75], direction="LowerIsWorse", warning=1, critical=0.5, category="general")]
    )
    assert issue.evidence[0].threshold == 1 and issue.evidence[0].comparison == "< warning"
    assert issue.route is api.Route.MAINTENANCE_WINDOW


def test_fingerprint_is_stable_and_value_independent() -> None:
    a = classify([observe([0.07])])[0].fingerprint
    b = classify([observe([0.5])])[0].fingerprint
    assert a == b and len(a) == 16 and int(a, 16) >= 0
    kw: dict[str, Any] = {
        "namespace": "chatapp",
        "target": "chatapp",
        "indicator": "error-ratio",
        "category": "error-rate",
    }
    assert classification.fingerprint(**kw, predicted=False) == a
    assert classification.fingerprint(**kw, predicted=True) != a
    assert classification.fingerprint(**{**kw, "target": "other"}, predicted=False) != a


def fc(seconds: float | None, *, indicator: str = "memory-usage", horizon: float = 3600.0) -> api.Forecast:
    return api.Forecast(
        indicator=indicator,
        current=0.5,
        limit=1.0,
        predicted=1.2,
        seconds_to_exhaustion=seconds,
        horizon_seconds=horizon,
        confidence=0.9,
        query="forecast-q",
    )


MEM: dict[str, Any] = {"name": "memory-usage", "category": "memory", "warning": 0.8, "critical": 0.9}


@pytest.mark.parametrize(
    ("seconds", "severity"),
    [(0.0, S.HIGH), (900.0, S.HIGH), (901.0, S.MEDIUM), (1800.0, S.MEDIUM), (1801.0, S.LOW)],
)
def test_predicted_severity(seconds: float, severity: api.Severity) -> None:
    [issue] = classify([observe([0.5], **MEM)], [fc(seconds)])
    assert issue.predicted and issue.severity is severity
    assert issue.evidence[0].query == "forecast-q" and issue.evidence[0].threshold == 1.0
    assert issue.category == "memory" and "predicted" in issue.title


def test_forecast_without_exhaustion_or_usable_indicator_is_no_issue() -> None:
    assert classify([observe([0.5], **MEM)], [fc(None)]) == []
    assert classify([observe([], **MEM)], [fc(60.0)]) == []  # indicator Inconclusive
    assert classify([observe([0.5], error="x", **MEM)], [fc(60.0)]) == []
    assert classify([], [fc(60.0)]) == []


def test_sorted_by_severity_observed_first() -> None:
    issues = classify(
        [
            observe([0.02], name="b-warn"),
            observe([0.95], **MEM),
            observe([0.07], name="a-high"),
        ],
        [fc(60.0), fc(60.0, indicator="b-warn")],
    )
    assert [(i.severity, i.indicator, i.predicted) for i in issues] == [
        (S.CRITICAL, "memory-usage", False),
        (S.HIGH, "a-high", False),
        (S.MEDIUM, "b-warn", False),
    ]
    assert issues[0].route is api.Route.AUTO_RESOLVE


def test_no_predicted_issue_for_an_indicator_already_in_breach() -> None:
    issues = classify(
        [observe([0.95], **MEM), observe([0.5], **{**MEM, "name": "queue"})],
        [fc(60.0), fc(60.0, indicator="queue")],
    )
    assert [(i.indicator, i.predicted) for i in issues] == [("memory-usage", False), ("queue", True)]


def test_issue_description_is_stored_redacted() -> None:
    [issue] = classify(
        [observe([0.07], description="Errors after DB_PASSWORD=hunter2xyz rotated; mail ops@example.com")]
    )
    assert "hunter2xyz" not in issue.description
    assert "ops@example.com" not in issue.description
    assert "DB_PASSWORD=[REDACTED] rotated" in issue.description
