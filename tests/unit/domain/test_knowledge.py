"""The policy's knowledge base of outcomes: newest last, one entry per Remediation, kept by the retention
age like finished Remediations, with a count cap as a safety bound only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import knowledge

NOW = datetime(2030, 2, 1, 12, tzinfo=UTC)
KEEP_30D = api.HistorySpec()


def outcome(remediation: str, result: str = "Succeeded", *, days_ago: float = 0.0) -> api.Outcome:
    at = (NOW - timedelta(days=days_ago)).isoformat().replace("+00:00", "Z")
    return api.Outcome(
        fingerprint="chatapp/error-ratio",
        category="error-rate",
        action="RolloutRestart",
        result=result,
        at=at,
        remediation=remediation,
        planner=api.PlannerKind.OFFLINE,
        confidence=8.5,
        effective_confidence=8.0,
        time_to_recover_seconds=81.5,
    )


def record(
    before: list[api.Outcome], new: api.Outcome, history: api.HistorySpec = KEEP_30D
) -> list[api.Outcome]:
    return knowledge.record_outcome(before, new, history=history, now=NOW)


def test_appends_newest_last() -> None:
    kept = record([outcome("a")], outcome("b"))
    assert [o.remediation for o in kept] == ["a", "b"]


def test_recording_a_remediation_again_replaces_it() -> None:
    kept = record([outcome("a", "Failed"), outcome("b")], outcome("a"))
    assert [(o.remediation, o.result) for o in kept] == [("b", "Succeeded"), ("a", "Succeeded")]


@pytest.mark.parametrize(
    ("retention", "ages", "kept"),
    [
        # the default 30 days: older outcomes go, younger stay, whatever their number
        ("720h", {"old": 45, "edge": 30, "young": 29, "today": 0}, ["edge", "young", "today"]),
        # a shorter retention drops more
        ("168h", {"old": 45, "week": 8, "young": 6, "today": 0}, ["young", "today"]),
        # a longer one keeps what 30 days would drop
        ("2160h", {"old": 45, "young": 29, "today": 0}, ["old", "young", "today"]),
        # only the new outcome is within an hour
        ("1h", {"yesterday": 1, "today": 0}, ["today"]),
    ],
)
def test_kept_by_the_retention_age(retention: str, ages: dict[str, float], kept: list[str]) -> None:
    names = list(ages)
    before = [outcome(n, days_ago=ages[n]) for n in names[:-1]]
    result = record(
        before, outcome(names[-1], days_ago=ages[names[-1]]), api.HistorySpec(retention=retention)
    )
    assert [o.remediation for o in result] == kept


def test_more_than_fifty_recent_outcomes_are_all_kept() -> None:
    many = [outcome(f"r{i}", days_ago=20 - i * 0.1) for i in range(120)]
    kept = record(many, outcome("new"))
    assert len(kept) == 121
    assert kept[0].remediation == "r0" and kept[-1].remediation == "new"


def test_the_count_cap_is_a_safety_bound_on_the_status_size() -> None:
    many = [outcome(f"r{i}", days_ago=1) for i in range(knowledge.OUTCOMES_CAP + 5)]
    kept = record(many, outcome("new"))
    assert len(kept) == knowledge.OUTCOMES_CAP
    assert kept[0].remediation == "r6" and kept[-1].remediation == "new"
    # what the cap's comment claims: a full knowledge base stays far below the 1.5 MB request limit
    assert len(json.dumps([o.wire() for o in kept])) < 400_000


def test_unparseable_times_are_kept() -> None:
    odd = outcome("odd").model_copy(update={"at": "yesterday-ish"})
    kept = record([odd, outcome("old", days_ago=90)], outcome("new"))
    assert [o.remediation for o in kept] == ["odd", "new"]
