"""The policy's knowledge base of outcomes: newest last, one entry per Remediation, bounded."""

from __future__ import annotations

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import knowledge


def outcome(remediation: str, result: str = "Succeeded") -> api.Outcome:
    return api.Outcome(
        fingerprint="chatapp/error-ratio",
        category="error-rate",
        action="RolloutRestart",
        result=result,
        at="2030-01-01T12:00:00Z",
        remediation=remediation,
    )


def test_appends_newest_last() -> None:
    kept = knowledge.record_outcome([outcome("a")], outcome("b"))
    assert [o.remediation for o in kept] == ["a", "b"]


def test_recording_a_remediation_again_replaces_it() -> None:
    kept = knowledge.record_outcome([outcome("a", "Failed"), outcome("b")], outcome("a"))
    assert [(o.remediation, o.result) for o in kept] == [("b", "Succeeded"), ("a", "Succeeded")]


def test_bounded_to_the_newest() -> None:
    many = [outcome(f"r{i}") for i in range(knowledge.OUTCOMES_KEPT)]
    kept = knowledge.record_outcome(many, outcome("new"))
    assert len(kept) == knowledge.OUTCOMES_KEPT
    assert kept[0].remediation == "r1" and kept[-1].remediation == "new"
