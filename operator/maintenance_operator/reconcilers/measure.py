"""Measuring indicators now: shared by the assessment (every indicator) and verification (the plan's)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import judgement as judging
from maintenance_operator.domain import promql
from maintenance_operator.reconcilers import ports


async def judge(
    indicator: api.Indicator, *, namespace: str, deployment: str, prometheus: prom.PrometheusQuerier
) -> tuple[judging.Judgement, str]:
    """The indicator's query on the target, judged against its thresholds, and the query as sent."""
    query = promql.substitute(indicator.query, namespace=namespace, deployment=deployment)
    result = await prometheus.query(query)
    error = None if result.error is None else f"{result.error.kind.value}: {result.error.message}"
    return judging.judge(values=result.values, error=error, indicator=indicator), query


async def measure(
    indicator: api.Indicator,
    *,
    namespace: str,
    deployment: str,
    prometheus: prom.PrometheusQuerier,
    now: datetime,
) -> tuple[api.Measurement, str]:
    """One judged measurement of an indicator, and the query as sent."""
    judgement, query = await judge(
        indicator, namespace=namespace, deployment=deployment, prometheus=prometheus
    )
    return judgement.measurement(now), query


async def measure_each(
    world: ports.Ports,
    *,
    spec: api.PrometheusSpec,
    namespace: str,
    deployment: str,
    indicators: Sequence[api.Indicator],
    now: datetime,
) -> list[tuple[api.Indicator, api.Measurement]]:
    """Measure the indicators now, on the target, over one Prometheus client (always closed)."""
    found: list[tuple[api.Indicator, api.Measurement]] = []
    querier = await world.querier(namespace=namespace, spec=spec)
    try:
        for indicator in indicators:
            measurement, _query = await measure(
                indicator, namespace=namespace, deployment=deployment, prometheus=querier, now=now
            )
            found.append((indicator, measurement))
    finally:
        await querier.aclose()
    return found
