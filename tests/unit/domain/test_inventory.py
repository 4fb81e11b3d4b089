"""The watched inventory of assessments and Remediations per policy."""

from __future__ import annotations

from datetime import UTC, datetime

from maintenance_operator.domain import inventory, retention, schedule

KEY = ("ns", "p")


def test_put_replace_and_forget() -> None:
    inv = inventory.Inventory()
    inv.put_assessment(KEY, schedule.AssessmentRef(name="a", created="1", phase=None))
    inv.put_assessment(KEY, schedule.AssessmentRef(name="a", created="1", phase="Completed"))
    inv.put_assessment(("ns", "other"), schedule.AssessmentRef(name="b", created="1", phase=None))
    assert [r.phase for r in inv.assessments_of(KEY)] == ["Completed"]
    inv.forget_assessment(KEY, "a")
    inv.forget_assessment(KEY, "a")  # twice is harmless
    assert inv.assessments_of(KEY) == []
    assert KEY not in inv.assessments
    assert [r.name for r in inv.assessments_of(("ns", "other"))] == ["b"]


def test_remediations() -> None:
    inv = inventory.Inventory()
    ref = retention.RemediationRef(name="r", created=datetime(2026, 1, 1, tzinfo=UTC), phase="Succeeded")
    inv.put_remediation(KEY, ref)
    assert inv.remediations_of(KEY) == [ref]
    inv.forget_remediation(KEY, "r")
    assert inv.remediations_of(KEY) == []


def test_unfinished_assessments_are_kept_until_finished_or_deleted_and_selected_by_owner() -> None:
    inv = inventory.Inventory()
    inv.note_progress(("ns", "a2"), policy=KEY, finished=False)
    inv.note_progress(("ns", "a1"), policy=KEY, finished=False)
    inv.note_progress(("other", "b"), policy=("other", "q"), finished=False)
    assert inv.unfinished_of(lambda key: key == KEY) == [("ns", "a1"), ("ns", "a2")]
    assert inv.unfinished_of(lambda key: True) == [("ns", "a1"), ("ns", "a2"), ("other", "b")]
    inv.note_progress(("ns", "a1"), policy=KEY, finished=True)
    inv.note_progress(("ns", "never-seen"), policy=KEY, finished=True)  # harmless
    assert inv.unfinished_of(lambda key: key == KEY) == [("ns", "a2")]
    assert inv.unfinished_of(lambda key: False) == []
