"""How well each planner's stated confidence predicts executed outcomes (Brier score per planner).

Only executed outcomes count (Succeeded is a success; Failed and RolledBack are not); Rejected and Expired
are counted apart, as human refusals. Outcomes without a recorded planner or confidence are ignored.
Brier = mean((confidence / 10 - success)^2): 0 is perfect, 0.25 is what a constant 5/10 scores on a
coin toss, 1 is confidently wrong every time.
"""

from __future__ import annotations

from collections.abc import Sequence

from maintenance_operator.api.v1alpha1 import Outcome, PlannerCalibration, PlannerKind

EXECUTED = frozenset({"Succeeded", "Failed", "RolledBack"})
REFUSED = frozenset({"Rejected", "Expired"})


def brier(pairs: Sequence[tuple[float, bool]]) -> float | None:
    """Mean squared gap between confidence (0-10) and outcome; None without pairs."""
    if not pairs:
        return None
    return round(sum((c / 10.0 - (1.0 if ok else 0.0)) ** 2 for c, ok in pairs) / len(pairs), 4)


def calibrate(outcomes: Sequence[Outcome]) -> list[PlannerCalibration]:
    """One entry per planner that has any recorded outcome, Claude first."""
    out: list[PlannerCalibration] = []
    for planner in (PlannerKind.CLAUDE, PlannerKind.OFFLINE):
        mine = [o for o in outcomes if o.planner is planner]
        pairs = [
            (o.confidence, o.result == "Succeeded")
            for o in mine
            if o.result in EXECUTED and o.confidence is not None
        ]
        refused = sum(1 for o in mine if o.result in REFUSED)
        if not pairs and not refused:
            continue
        wins = sum(1 for _, ok in pairs if ok)
        out.append(
            PlannerCalibration(
                planner=planner,
                outcomes=len(pairs),
                succeeded=wins,
                mean_confidence=round(sum(c for c, _ in pairs) / len(pairs), 2) if pairs else None,
                success_rate=round(wins / len(pairs), 4) if pairs else None,
                brier_score=brier(pairs),
                rejected=refused,
            )
        )
    return out
