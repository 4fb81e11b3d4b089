"""The knowledge base of outcomes a policy keeps: what was done for which issue, and how it ended.

Outcomes are kept by the same age bound as finished Remediations (`history.retention`, 30 days by default):
planning, plan review and calibration read them, and the operator's metrics keep the long record. A count
cap stays as a safety bound on the size of the policy's status only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import retention

# Safety cap, not the retention rule: one outcome is about 330 bytes of JSON, so 1,000 of them keep the
# policy object near 330 KB, well under the API server's 1.5 MB request limit, whatever the retention.
OUTCOMES_CAP = 1000


def record_outcome(
    outcomes: Sequence[api.Outcome],
    outcome: api.Outcome,
    *,
    history: api.HistorySpec,
    now: datetime,
) -> list[api.Outcome]:
    """The knowledge base with one more outcome, newest last: outcomes recorded within `history.retention`
    of `now` (unparseable times are kept), at most OUTCOMES_CAP of the newest. Recording the same
    Remediation again replaces its earlier entry."""
    kept = [o for o in outcomes if o.remediation != outcome.remediation]
    recent = retention.outcomes_to_keep([*kept, outcome], retention=history, now=now)
    return recent[-OUTCOMES_CAP:]
