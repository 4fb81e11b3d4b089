"""Score history from the operator's own metrics in Prometheus: one range query per policy.

`maintenance_operator_health_score{namespace, policy, dimension}` is the long-term record of scores;
this reads it back for reports. Any failure answers None (the report is then Partial), never raises.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

import aiohttp

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
    """Reads score series with /api/v1/query_range (through ``via``, the bounded pool, if given)."""

    def __init__(
        self,
        url: str,
        *,
        timeout_seconds: float = 10.0,
        bearer_token: str | None = None,
        via: prom.RangeQuerier | None = None,
    ) -> None:
        self._via = via
        self._url = url.rstrip("/") + "/api/v1/query_range"
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._headers = {"Authorization": f"Bearer {bearer_token}"} if bearer_token else {}

    def __repr__(self) -> str:
        return "PrometheusScoreHistory()"

    async def scores(
        self, *, namespace: str, policy: str, start: datetime, end: datetime
    ) -> dict[str, report.Series] | None:
        """Series per dimension (dimension 'overall' included), oldest first; None if Prometheus failed."""
        params = {
            "query": f'{METRIC}{{namespace="{_label(namespace)}",policy="{_label(policy)}"}}',
            "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}",
            "step": f"{step_seconds(start, end):g}",
        }
        if self._via is not None:
            return await self._scores_via(self._via, params, namespace=namespace, policy=policy)
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout, headers=self._headers) as session,
                session.get(self._url, params=params) as response,
            ):
                body: dict[str, Any] = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            log.warning("score history of %s/%s unavailable: %s", namespace, policy, type(exc).__name__)
            return None
        if body.get("status") != "success":
            log.warning("score history of %s/%s refused: %s", namespace, policy, body.get("errorType"))
            return None
        out: dict[str, report.Series] = {}
        for item in body.get("data", {}).get("result", []):
            dimension = str(item.get("metric", {}).get("dimension", "unknown"))
            points = [
                (datetime.fromtimestamp(float(t), UTC), float(v))
                for t, v in item.get("values", [])
                if math.isfinite(float(v))
            ]
            out[dimension] = points
        return out

    async def _scores_via(
        self, via: prom.RangeQuerier, params: dict[str, str], *, namespace: str, policy: str
    ) -> dict[str, report.Series] | None:
        result = await via.query_range(
            params["query"],
            start=float(params["start"]),
            end=float(params["end"]),
            step=float(params["step"]),
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
