"""Calibration per planner: Brier score of stated confidence against executed outcomes."""

from __future__ import annotations

import pytest

from maintenance_operator.api.v1alpha1 import Outcome, PlannerKind
from maintenance_operator.domain import calibration


def outcome(planner: PlannerKind | None, confidence: float | None, result: str) -> Outcome:
    return Outcome(fingerprint="f", action="Scale", result=result, at="2025-11-26T12:00:00Z", planner=planner,
                   confidence=confidence)  # fmt: skip


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([], None),
        ([(10.0, True)], 0.0),
        ([(10.0, False)], 1.0),
        ([(5.0, True), (5.0, False)], 0.25),
        ([(8.0, True), (8.0, True), (8.0, False)], round((0.04 + 0.04 + 0.64) / 3, 4)),
    ],
)
def test_brier(pairs: list[tuple[float, bool]], expected: float | None) -> None:
    assert calibration.brier(pairs) == expected


def test_calibrate_per_planner() -> None:
    outcomes = [
        outcome(PlannerKind.CLAUDE, 10, "Failed"),
        outcome(PlannerKind.CLAUDE, 10, "RolledBack"),
        outcome(PlannerKind.CLAUDE, 9, "Rejected"),
        outcome(PlannerKind.OFFLINE, 8, "Succeeded"),
        outcome(PlannerKind.OFFLINE, 8, "Succeeded"),
        outcome(PlannerKind.OFFLINE, None, "Succeeded"),  # no confidence recorded: ignored
        outcome(None, 8, "Failed"),  # older outcome without planner: ignored
    ]
    claude, offline = calibration.calibrate(outcomes)
    assert claude.planner is PlannerKind.CLAUDE
    assert (claude.outcomes, claude.succeeded, claude.rejected) == (2, 0, 1)
    assert claude.brier_score == 1.0
    assert claude.success_rate == 0.0
    assert offline.planner is PlannerKind.OFFLINE
    assert (offline.outcomes, offline.succeeded, offline.mean_confidence) == (2, 2, 8.0)
    assert offline.brier_score == 0.04


def test_no_outcomes_no_entries() -> None:
    assert calibration.calibrate([]) == []
    only_rejected = calibration.calibrate([outcome(PlannerKind.CLAUDE, 9, "Expired")])
    assert only_rejected[0].brier_score is None
    assert only_rejected[0].rejected == 1
