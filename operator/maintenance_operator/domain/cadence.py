"""When each periodic analysis is due.

Rules: an analysis that never ran is due now. Otherwise it is due ``interval`` after its last run.
The configuration audit is also due at once when the target changed since its last run (the target's
``metadata.generation`` differs from the one audited, or the watched ConfigMap's resourceVersion does).
A disabled analysis is never due. Times are unix seconds; intervals are positive seconds.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from enum import StrEnum

from maintenance_operator.domain import timestamps

DAY = 86400.0


class Analysis(StrEnum):
    CAPACITY = "capacity"
    CONFIG_AUDIT = "configAudit"
    SECURITY = "security"


DEFAULT_INTERVALS = {Analysis.CAPACITY: DAY, Analysis.CONFIG_AUDIT: 7 * DAY, Analysis.SECURITY: DAY}


@dataclasses.dataclass(frozen=True)
class LastRun:
    """What an analysis saw the last time it ran (None: never ran)."""

    at: float | None = None
    target_fingerprint: str = ""


@dataclasses.dataclass(frozen=True)
class Decision:
    """Whether to run now, why, and when it is next due (None when disabled)."""

    due: bool
    reason: str
    next_due: float | None


def decide(
    *,
    analysis: Analysis,
    last: LastRun,
    now: float,
    interval: float | None = None,
    enabled: bool = True,
    target_fingerprint: str = "",
) -> Decision:
    """Whether ``analysis`` is due at ``now`` (see module rules)."""
    if not enabled:
        return Decision(False, "disabled", None)
    period = interval if interval is not None and interval > 0 else DEFAULT_INTERVALS[analysis]
    if last.at is None:
        return Decision(True, "never ran", now + period)
    if (
        analysis is Analysis.CONFIG_AUDIT
        and target_fingerprint
        and last.target_fingerprint
        and target_fingerprint != last.target_fingerprint
    ):
        return Decision(True, "target changed", now + period)
    next_due = last.at + period
    if now >= next_due:
        return Decision(True, "interval elapsed", now + period)
    return Decision(False, "not yet due", next_due)


def iso(seconds: float) -> str:
    """Unix seconds as RFC 3339 (UTC, second precision), as status timestamps are written."""
    return timestamps.rfc3339(datetime.fromtimestamp(seconds, tz=UTC))


def epoch(text: object) -> float | None:
    """Unix seconds of an RFC 3339 timestamp; None for anything else."""
    moment = timestamps.parse_or_none(text) if isinstance(text, str) else None
    return moment.timestamp() if moment is not None else None
