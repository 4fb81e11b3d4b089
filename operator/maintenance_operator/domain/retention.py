"""Retention by age: which finished Remediations and which outcomes are old enough to go.

Only terminal Remediations are ever pruned; their age counts from completion (creation if never
stamped), so a long-running or waiting Remediation is never removed under an SRE's feet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import timestamps

_TERMINAL = {p.value for p in api.TERMINAL_PHASES}


@dataclass(frozen=True)
class RemediationRef:
    """What pruning needs to know about one Remediation."""

    name: str
    created: datetime
    phase: str | None
    completed: datetime | None = None


def remediations_to_prune(
    items: Sequence[RemediationRef], *, retention: api.HistorySpec, now: datetime
) -> list[str]:
    """Names of terminal Remediations that finished longer than `retention` ago, oldest first."""
    horizon = now - timedelta(seconds=api.parse_duration(retention.retention))
    old = [r for r in items if r.phase in _TERMINAL and (r.completed or r.created) < horizon]
    return [r.name for r in sorted(old, key=lambda r: r.completed or r.created)]


def outcomes_to_keep(
    outcomes: Sequence[api.Outcome], *, retention: api.HistorySpec, now: datetime
) -> list[api.Outcome]:
    """Outcomes recorded within `retention` (unparseable times are kept: never lose data on bad input)."""
    horizon = now - timedelta(seconds=api.parse_duration(retention.retention))
    kept = []
    for outcome in outcomes:
        at = timestamps.parse_or_none(outcome.at)
        if at is None or at >= horizon:
            kept.append(outcome)
    return kept
