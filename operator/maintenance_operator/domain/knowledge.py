"""The knowledge base of outcomes a policy keeps: what was done for which issue, and how it ended."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from maintenance_operator.api import v1alpha1 as api

OUTCOMES_KEPT = 50


def record_outcome(outcomes: Sequence[dict[str, Any]], outcome: api.Outcome) -> list[dict[str, Any]]:
    """The knowledge base with one more outcome, newest last, bounded to OUTCOMES_KEPT. Recording the same
    Remediation again replaces its earlier entry."""
    kept = [dict(o) for o in outcomes if o.get("remediation") != outcome.remediation]
    return [*kept, outcome.wire()][-OUTCOMES_KEPT:]
