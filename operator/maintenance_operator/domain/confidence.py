"""The operator's own confidence in a plan: the planner's number alone never clears the gate.

effective = min(planner confidence, derived), clamped to 0-10, where derived starts at 5 and adds:

- agreement: +3 when the offline planner picks the same action types (an offline plan agrees with itself),
  -2 when it picks different ones, 0 when no second opinion was asked;
- evidence: +2 for an observed breach with a measured value, +1 for a forecast, 0 without a value;
- history for this fingerprint and these action types: +0.5 per success (at most +1), -3 per failure or
  rollback, -1 per human rejection or expiry (each at most -6 in total).

So a model saying 10 for a plan the offline planner would not make gets at most 5 + 2 - 2 = 5.
"""

from __future__ import annotations

from collections.abc import Sequence

from maintenance_operator.api.v1alpha1 import Agreement, Issue, Outcome

BASE = 5.0
AGREE_BONUS = 3.0
DISAGREE_PENALTY = -2.0
OBSERVED_BONUS = 2.0
PREDICTED_BONUS = 1.0
SUCCESS_BONUS, SUCCESS_CAP = 0.5, 1.0
FAILURE_PENALTY, REJECTION_PENALTY, HISTORY_FLOOR = -3.0, -1.0, -6.0
FAILED = frozenset({"Failed", "RolledBack"})
REFUSED = frozenset({"Rejected", "Expired"})


def _evidence(issue: Issue) -> tuple[float, str]:
    if not any(e.value is not None for e in issue.evidence):
        return 0.0, "no measured value behind the issue (+0)"
    if issue.predicted:
        return PREDICTED_BONUS, f"forecast, not yet observed (+{PREDICTED_BONUS:g})"
    return OBSERVED_BONUS, f"observed breach with a measured value (+{OBSERVED_BONUS:g})"


def _history(
    *, outcomes: Sequence[Outcome], fingerprint: str, action_types: frozenset[str]
) -> tuple[float, str]:
    relevant = [o for o in outcomes if o.fingerprint == fingerprint and o.action in action_types]
    wins = sum(1 for o in relevant if o.result == "Succeeded")
    losses = sum(1 for o in relevant if o.result in FAILED)
    refusals = sum(1 for o in relevant if o.result in REFUSED)
    bonus = min(wins * SUCCESS_BONUS, SUCCESS_CAP)
    malus = max(losses * FAILURE_PENALTY + refusals * REJECTION_PENALTY, HISTORY_FLOOR)
    return (
        bonus + malus,
        f"history: {wins} succeeded, {losses} failed, {refusals} refused ({bonus + malus:+g})",
    )


def effective_confidence(
    *,
    planner_confidence: float,
    agreement: Agreement,
    issue: Issue,
    outcomes: Sequence[Outcome],
    action_types: frozenset[str],
) -> tuple[float, list[str]]:
    """The effective confidence (0-10, never above the planner's) and what shaped it."""
    notes: list[str] = []
    derived = BASE
    bump = {Agreement.AGREE: AGREE_BONUS, Agreement.DISAGREE: DISAGREE_PENALTY}.get(agreement, 0.0)
    derived += bump
    notes.append(f"planner agreement {agreement.value} ({bump:+g})")
    for value, note in (
        _evidence(issue),
        _history(outcomes=outcomes, fingerprint=issue.fingerprint, action_types=action_types),
    ):
        derived += value
        notes.append(note)
    effective = round(min(max(min(planner_confidence, derived), 0.0), 10.0), 2)
    notes.append(f"effective {effective:g} = min(planner {planner_confidence:g}, derived {derived:g})")
    return effective, notes
