"""Effective confidence: agreement, evidence and history, never above the planner's own number."""

from __future__ import annotations

import pytest

from maintenance_operator.api.v1alpha1 import Agreement, Evidence
from maintenance_operator.domain import confidence
from tests.fixtures import planning_cases as cases

FP = "chatapp/message-queue-depth/queue"


@pytest.mark.parametrize(
    ("planner", "agreement", "predicted", "history", "expected"),
    [
        (10.0, Agreement.AGREE, False, [], 10.0),  # 5 + 3 + 2
        (8.5, Agreement.AGREE, False, [], 8.5),  # never above the planner
        (10.0, Agreement.DISAGREE, False, [], 5.0),  # 5 - 2 + 2
        (10.0, Agreement.NOT_CHECKED, False, [], 7.0),
        (10.0, Agreement.AGREE, True, [], 9.0),
        (10.0, Agreement.AGREE, False, ["Succeeded", "Succeeded", "Succeeded"], 10.0),
        (10.0, Agreement.AGREE, False, ["RolledBack"], 7.0),
        (10.0, Agreement.AGREE, False, ["Failed", "Failed", "Failed"], 4.0),  # floor -6
        (10.0, Agreement.AGREE, False, ["Rejected"], 9.0),
        (10.0, Agreement.AGREE, False, ["Expired", "Succeeded"], 9.5),
        (10.0, Agreement.DISAGREE, False, ["Failed", "Failed"], 0.0),  # clamped at 0
    ],
)
def test_effective_confidence(
    planner: float, agreement: Agreement, predicted: bool, history: list[str], expected: float
) -> None:
    issue = cases.issue("queue", predicted=predicted)
    outcomes = [cases.outcome(issue.fingerprint, "Scale", r) for r in history]
    value, notes = confidence.effective_confidence(
        planner_confidence=planner,
        agreement=agreement,
        issue=issue,
        outcomes=outcomes,
        action_types=frozenset({"Scale"}),
    )
    assert value == expected
    assert notes[-1].startswith(f"effective {expected:g}")


def test_history_of_other_fingerprints_and_actions_is_ignored() -> None:
    issue = cases.issue("queue")
    outcomes = [
        cases.outcome("other", "Scale", "Failed"),
        cases.outcome(issue.fingerprint, "Rollback", "Failed"),
    ]
    value, _ = confidence.effective_confidence(
        planner_confidence=10,
        agreement=Agreement.AGREE,
        issue=issue,
        outcomes=outcomes,
        action_types=frozenset({"Scale"}),
    )
    assert value == 10.0


def test_no_measured_value_adds_nothing() -> None:
    issue = cases.issue("queue").model_copy(update={"evidence": [Evidence(query="q", value=None)]})
    value, notes = confidence.effective_confidence(
        planner_confidence=10, agreement=Agreement.AGREE, issue=issue, outcomes=[], action_types=frozenset()
    )
    assert value == 8.0
    assert "no measured value" in notes[1]
