from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import retention

NOW = datetime(2030, 2, 1, tzinfo=UTC)
KEEP_30D = api.HistorySpec()


def days_ago(d: float) -> datetime:
    return NOW - timedelta(days=d)


@pytest.mark.parametrize(
    ("ref", "pruned"),
    [
        (retention.RemediationRef("done-old", days_ago(40), "Succeeded", days_ago(35)), True),
        (retention.RemediationRef("done-recent", days_ago(40), "Succeeded", days_ago(10)), False),
        (
            retention.RemediationRef("rolled-back-old", days_ago(31), "RolledBack"),
            True,
        ),  # no completion: created
        (retention.RemediationRef("waiting-old", days_ago(90), "AwaitingApproval"), False),
        (retention.RemediationRef("backlog-old", days_ago(90), "Backlog"), False),
        (retention.RemediationRef("executing-old", days_ago(90), "Executing"), False),
        (retention.RemediationRef("no-phase-old", days_ago(90), None), False),
        (retention.RemediationRef("edge", days_ago(30), "Failed"), False),  # exactly at the horizon: kept
    ],
)
def test_only_old_terminal_remediations_are_pruned(ref: retention.RemediationRef, pruned: bool) -> None:
    assert retention.remediations_to_prune([ref], retention=KEEP_30D, now=NOW) == (
        [ref.name] if pruned else []
    )


def test_oldest_first() -> None:
    refs = [
        retention.RemediationRef("b", days_ago(50), "Failed", days_ago(40)),
        retention.RemediationRef("a", days_ago(60), "Succeeded", days_ago(45)),
    ]
    assert retention.remediations_to_prune(refs, retention=KEEP_30D, now=NOW) == ["a", "b"]


def test_outcomes_by_age() -> None:
    def outcome(at: str) -> api.Outcome:
        return api.Outcome(fingerprint="f", action="RolloutRestart", result="Succeeded", at=at)

    kept = retention.outcomes_to_keep(
        [outcome("2029-12-01T00:00:00Z"), outcome("2030-01-20T00:00:00Z"), outcome("garbage")],
        retention=api.HistorySpec(retention="360h"),  # 15 days
        now=NOW,
    )
    assert [o.at for o in kept] == ["2030-01-20T00:00:00Z", "garbage"]


def test_retention_defaults_to_30_days_and_has_a_floor() -> None:
    assert api.parse_duration(KEEP_30D.retention) == 30 * 86400
    with pytest.raises(ValidationError, match="at least 1h"):
        api.HistorySpec(retention="30m")
