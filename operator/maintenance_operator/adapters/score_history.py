"""Score history from the operator's own metrics in Prometheus: one range query per policy.

`maintenance_operator_health_score{namespace, policy, dimension}` is the long-term record of scores;
this reads it back for reports. Any failure answers None (the report is then Partial), never raises.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.domain import report

log = logging.getLogger(__name__)
METRIC = "maintenance_operator_health_score"
POINTS = 200  # per series; renderers downsample further


def step_seconds(start: datetime, end: datetime) -> float:
    """A step that gives about POINTS samples over the period, at least one second."""
    return max(1.0, math.ceil((end - start).total_seconds() / POINTS))


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


class PrometheusScoreHistory:
    """Reads score series with /api/v1/query_range through ``via``, a querier on the operator's pool."""

    def __init__(self, via: prom.RangeQuerier) -> None:
        self._via = via

    def __repr__(self) -> str:
        return "PrometheusScoreHistory()"

    async def scores(
        self, *, namespace: str, policy: str, start: datetime, end: datetime
    ) -> dict[str, report.Series] | None:
        """Series per dimension (dimension 'overall' included), oldest first; None if Prometheus failed."""
        result = await self._via.query_range(
            f'{METRIC}{{namespace="{_label(namespace)}",policy="{_label(policy)}"}}',
            start=start.timestamp(),
            end=end.timestamp(),
            step=step_seconds(start, end),
        )
        if result.error is not None:
            log.warning("score history of %s/%s unavailable: %s", namespace, policy, result.error.kind.value)
            return None
        return {
            s.labels.get("dimension", "unknown"): [
                (datetime.fromtimestamp(t, UTC), v) for t, v in s.samples if math.isfinite(v)
            ]
            for s in result.series
        }
