from __future__ import annotations

from datetime import UTC, datetime, timedelta

from maintenance_operator.domain import known_good

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
GOOD = {"eventbus.maxQueue": "1000"}
BAD = {"eventbus.maxQueue": "-1"}


def step(kg, cand, current, healthy, at):  # type: ignore[no-untyped-def]
    return known_good.advance(
        known_good=kg, candidate=cand, config_map="cm", current=current, healthy=healthy, now=at
    )


def test_values_become_known_good_only_after_staying_healthy() -> None:
    kg, cand = step(None, None, GOOD, True, T0)
    assert kg is None and cand is not None and cand.data == GOOD
    kg, cand = step(kg, cand, GOOD, True, T0 + timedelta(seconds=30))
    assert kg is None
    kg, cand = step(kg, cand, GOOD, True, T0 + timedelta(seconds=61))
    assert kg is not None and kg.data == GOOD


def test_a_corrupt_value_seen_healthy_once_is_never_promoted() -> None:
    kg, cand = step(None, None, GOOD, True, T0)
    kg, cand = step(kg, cand, GOOD, True, T0 + timedelta(seconds=120))
    assert kg is not None and kg.data == GOOD
    # corruption lands just before a healthy-looking assessment, then the next one sees the damage
    kg, cand = step(kg, cand, BAD, True, T0 + timedelta(seconds=130))
    assert kg.data == GOOD and cand is not None and cand.data == BAD
    kg, cand = step(kg, cand, BAD, False, T0 + timedelta(seconds=200))
    assert kg.data == GOOD and cand is None
    kg, cand = step(kg, cand, BAD, True, T0 + timedelta(seconds=210))
    kg, cand = step(kg, cand, BAD, True, T0 + timedelta(seconds=240))
    assert kg.data == GOOD


def test_nothing_to_track_without_allowlisted_values() -> None:
    assert step(None, None, {}, True, T0) == (None, None)
