"""Notifications as data: which events exist, which ones a receiver wants, what is posted (Slack-compatible
or generic JSON), and when a failed delivery is tried again. Text is redacted before it is posted."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from maintenance_operator.api.v1alpha1 import SEVERITY_ORDER, Severity
from maintenance_operator.domain import prompt, timestamps

MAX_TEXT = 3000  # Slack truncates a section's text beyond this


class EventType(StrEnum):
    APPROVAL_NEEDED = "ApprovalNeeded"
    SLA_AT_RISK = "SLAAtRisk"
    SLA_BREACHED = "SLABreached"
    REMINDER = "Reminder"
    HEALTH_ALERT = "HealthAlert"
    ESCALATION = "Escalation"
    REMEDIATION_OUTCOME = "RemediationOutcome"
    REPORT = "Report"


class PayloadFormat(StrEnum):
    SLACK = "slack"
    GENERIC = "generic"


_EMOJI = {
    EventType.APPROVAL_NEEDED: ":raised_hand:",
    EventType.SLA_AT_RISK: ":hourglass_flowing_sand:",
    EventType.SLA_BREACHED: ":rotating_light:",
    EventType.REMINDER: ":bell:",
    EventType.HEALTH_ALERT: ":warning:",
    EventType.ESCALATION: ":sos:",
    EventType.REMEDIATION_OUTCOME: ":wrench:",
    EventType.REPORT: ":bar_chart:",
}


@dataclass(frozen=True)
class Event:
    """Something a person should hear about."""

    type: EventType
    namespace: str
    name: str
    title: str
    at: datetime
    kind: str = "Remediation"
    severity: Severity | None = None
    text: str = ""
    link: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Identity of the event for de-duplication: one notice per object and type."""
        return f"{self.type.value}/{self.namespace}/{self.kind}/{self.name}"


@dataclass(frozen=True)
class Filter:
    """Which events a receiver gets. Events without a severity (reports, health alerts) pass the severity
    floor."""

    types: frozenset[EventType] = frozenset(EventType)
    min_severity: Severity = Severity.LOW


def wanted(event: Event, rule: Filter) -> bool:
    """True when `rule` lets `event` through."""
    if event.type not in rule.types:
        return False
    return event.severity is None or SEVERITY_ORDER[event.severity] >= SEVERITY_ORDER[rule.min_severity]


def parse_filter(*, types: Collection[str], min_severity: str | None) -> Filter:
    """A filter from configuration strings; raises ValueError naming the unknown value."""
    known = {t.value.lower(): t for t in EventType}
    chosen = set()
    for raw in types:
        if not raw.strip():
            continue
        if raw.strip().lower() not in known:
            raise ValueError(
                f"unknown notification event {raw!r}: use one of {', '.join(t.value for t in EventType)}"
            )
        chosen.add(known[raw.strip().lower()])
    return Filter(
        types=frozenset(chosen) if chosen else frozenset(EventType),
        min_severity=Severity(min_severity) if min_severity else Severity.LOW,
    )


def _clean(text: str) -> str:
    return prompt.redact(text)[:MAX_TEXT]


def headline(event: Event) -> str:
    severity = f"[{event.severity.value}] " if event.severity else ""
    return _clean(f"{severity}{event.type.value}: {event.title} ({event.namespace}/{event.name})")


def generic(event: Event) -> dict[str, Any]:
    """A flat JSON document for any receiver."""
    return {
        "type": event.type.value,
        "severity": event.severity.value if event.severity else None,
        "namespace": event.namespace,
        "kind": event.kind,
        "name": event.name,
        "title": _clean(event.title),
        "text": _clean(event.text),
        "link": event.link,
        "fields": {k: _clean(v) for k, v in event.fields.items()},
        "at": timestamps.rfc3339(event.at),
    }


def slack(event: Event) -> dict[str, Any]:
    """A Slack incoming-webhook message: `text` for notifications, blocks for the channel."""
    line = f"{_EMOJI[event.type]} {headline(event)}"
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": line}}]
    if event.text:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _clean(event.text)}})
    if event.fields:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{_clean(k)}*\n{_clean(v)}"} for k, v in event.fields.items()
                ][:10],
            }
        )
    if event.link:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _clean(event.link)}]})
    return {"text": line, "blocks": blocks}


def payload(event: Event, fmt: PayloadFormat) -> dict[str, Any]:
    return slack(event) if fmt is PayloadFormat.SLACK else generic(event)


def retry_delays(*, attempts: int = 5, base: float = 1.0, cap: float = 60.0) -> list[float]:
    """Seconds to wait before each retry after the first attempt: doubling from `base`, at most `cap`."""
    return [min(cap, base * 2**n) for n in range(max(attempts - 1, 0))]


def retryable(status: int | None) -> bool:
    """Retry on no answer (None), 408, 429 and 5xx; a 4xx means the request itself is wrong."""
    return status is None or status in (408, 429) or status >= 500
