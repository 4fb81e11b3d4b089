"""RFC 3339 timestamps, the one way the package writes and reads them (metav1.Time: UTC, second precision)."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(moment: datetime) -> str:
    """RFC 3339 in UTC with second precision, as metav1.Time serialises."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass a timezone-aware time")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_micro(moment: datetime) -> str:
    """RFC 3339 in UTC with six fractional digits, as metav1.MicroTime serialises."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass a timezone-aware time")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse(value: str) -> datetime:
    """An RFC 3339 timestamp as an aware datetime (naive values are taken as UTC); ValueError if malformed."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_or_none(value: str | None) -> datetime | None:
    """Like ``parse``, but None for a missing or malformed value."""
    if not value:
        return None
    try:
        return parse(value)
    except ValueError:
        return None
