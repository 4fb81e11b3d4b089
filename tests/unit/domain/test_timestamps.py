"""The one RFC 3339 helper: metav1.Time and MicroTime text, parsing with or without an offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from maintenance_operator.domain import timestamps

NOW = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


def test_rfc3339_is_utc_with_second_precision() -> None:
    moment = datetime(2030, 1, 1, 13, 0, 5, 999, tzinfo=timezone(timedelta(hours=1)))
    assert timestamps.rfc3339(moment) == "2030-01-01T12:00:05Z"


def test_micro_keeps_six_digits() -> None:
    assert timestamps.rfc3339_micro(NOW + timedelta(microseconds=7)) == "2030-01-01T12:00:00.000007Z"


@pytest.mark.parametrize("format_", [timestamps.rfc3339, timestamps.rfc3339_micro])
def test_naive_datetimes_are_refused(format_: object) -> None:
    with pytest.raises(ValueError, match="naive"):
        format_(datetime(2030, 1, 1))  # type: ignore[operator]


@pytest.mark.parametrize(
    "text",
    ["2030-01-01T12:00:00Z", "2030-01-01T12:00:00", "2030-01-01T13:00:00+01:00", "2030-01-01T12:00:00.000Z"],
)
def test_parse_gives_aware_datetimes(text: str) -> None:
    assert timestamps.parse(text) == NOW


def test_round_trip() -> None:
    assert timestamps.parse(timestamps.rfc3339(NOW)) == NOW


@pytest.mark.parametrize("text", [None, "", "yesterday"])
def test_parse_or_none_tolerates_missing_and_malformed(text: str | None) -> None:
    assert timestamps.parse_or_none(text) is None
    with pytest.raises(ValueError):
        timestamps.parse(text or "yesterday")
