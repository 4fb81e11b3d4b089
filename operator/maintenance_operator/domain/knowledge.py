"""The knowledge base of outcomes a policy keeps: what was done for which issue, and how it ended."""

from __future__ import annotations

from collections.abc import Sequence

from maintenance_operator.api import v1alpha1 as api

OUTCOMES_KEPT = 50


def record_outcome(outcomes: Sequence[api.Outcome], outcome: api.Outcome) -> list[api.Outcome]:
    """The knowledge base with one more outcome, newest last, bounded to OUTCOMES_KEPT. Recording the same
    Remediation again replaces its earlier entry."""
    kept = [o for o in outcomes if o.remediation != outcome.remediation]
    return [*kept, outcome][-OUTCOMES_KEPT:]
