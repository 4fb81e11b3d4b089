from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from maintenance_operator.api.v1alpha1 import Severity
from maintenance_operator.domain import notification as n

AT = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
E = n.EventType


def event(
    type_: n.EventType = E.SLA_BREACHED, severity: Severity | None = Severity.HIGH, **kw: object
) -> n.Event:
    base: dict[str, object] = {
        "type": type_,
        "namespace": "chatapp",
        "name": "chatapp-memory-1",
        "title": "Memory above 90%",
        "at": AT,
        "severity": severity,
    }
    return n.Event(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("types", "floor", "ev", "expected"),
    [
        (set(E), Severity.LOW, event(), True),
        ({E.REPORT}, Severity.LOW, event(), False),
        (set(E), Severity.CRITICAL, event(), False),
        (set(E), Severity.HIGH, event(), True),
        (
            set(E),
            Severity.CRITICAL,
            event(E.REPORT, severity=None),
            True,
        ),  # no severity: floor does not apply
        ({E.HEALTH_ALERT}, Severity.CRITICAL, event(E.HEALTH_ALERT, severity=None), True),
    ],
)
def test_wanted(types: set[n.EventType], floor: Severity, ev: n.Event, expected: bool) -> None:
    assert n.wanted(ev, n.Filter(types=frozenset(types), min_severity=floor)) is expected


def test_parse_filter() -> None:
    rule = n.parse_filter(types=["slabreached", " Escalation "], min_severity="high")
    assert rule == n.Filter(types=frozenset({E.SLA_BREACHED, E.ESCALATION}), min_severity=Severity.HIGH)
    assert n.parse_filter(types=[], min_severity=None) == n.Filter()
    with pytest.raises(ValueError, match="unknown notification event 'Everything'"):
        n.parse_filter(types=["Everything"], min_severity=None)


def test_generic_payload() -> None:
    doc = n.generic(event(text="from 12:00", link="kubectl get mrem chatapp-memory-1", fields={"SLA": "1h"}))
    assert doc == {
        "type": "SLABreached",
        "severity": "high",
        "namespace": "chatapp",
        "kind": "Remediation",
        "name": "chatapp-memory-1",
        "title": "Memory above 90%",
        "text": "from 12:00",
        "link": "kubectl get mrem chatapp-memory-1",
        "fields": {"SLA": "1h"},
        "at": "2030-01-01T12:00:00Z",
    }
    json.dumps(doc)


def test_slack_payload() -> None:
    doc = n.slack(event(text="details", fields={"Response due": "12:15"}, link="http://grafana/d/x"))
    assert doc["text"] == ":rotating_light: [high] SLABreached: Memory above 90% (chatapp/chatapp-memory-1)"
    kinds = [b["type"] for b in doc["blocks"]]
    assert kinds == ["section", "section", "section", "context"]
    assert doc["blocks"][2]["fields"] == [{"type": "mrkdwn", "text": "*Response due*\n12:15"}]


def test_report_event_without_severity() -> None:
    doc = n.payload(event(E.REPORT, severity=None, kind="MaintenanceReport"), n.PayloadFormat.SLACK)
    assert doc["text"].startswith(":bar_chart: Report: ")
    assert n.payload(event(E.REPORT, severity=None), n.PayloadFormat.GENERIC)["severity"] is None


def test_secrets_never_reach_a_payload() -> None:
    secret = "sk-ant-api03-" + "A" * 40
    ev = event(text=f"key {secret}", title=f"password=hunter2 {secret}", fields={"token": secret})
    for fmt in n.PayloadFormat:
        body = json.dumps(n.payload(ev, fmt))
        assert secret not in body and "hunter2" not in body


def test_long_text_is_cut() -> None:
    assert len(n.generic(event(text="x " * 5000))["text"]) == n.MAX_TEXT


def test_event_key_is_per_object_and_type() -> None:
    assert event().key == "SLABreached/chatapp/Remediation/chatapp-memory-1"
    assert event().key != event(E.REMINDER).key


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, [1.0, 2.0, 4.0, 8.0]),
        ({"attempts": 8, "base": 5.0, "cap": 60.0}, [5.0, 10.0, 20.0, 40.0, 60.0, 60.0, 60.0]),
        ({"attempts": 1}, []),
        ({"attempts": 0}, []),
    ],
)
def test_retry_delays(kw: dict[str, float], expected: list[float]) -> None:
    assert n.retry_delays(**kw) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, True),
        (500, True),
        (503, True),
        (429, True),
        (408, True),
        (400, False),
        (404, False),
        (410, False),
    ],
)
def test_retryable(status: int | None, expected: bool) -> None:
    assert n.retryable(status) is expected


def test_empty_entries_in_a_filter_are_ignored() -> None:
    assert n.parse_filter(types=["", " "], min_severity=None) == n.Filter()
    assert n.parse_filter(types=["Report", ""], min_severity=None).types == frozenset({E.REPORT})
