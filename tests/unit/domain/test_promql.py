"""PromQL built from indicators: safe substitution, worst series, trend and forecast queries."""

from __future__ import annotations

import pytest

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import promql


@pytest.mark.parametrize(
    ("namespace", "deployment"),
    [('x"} or vector(1) #', "chatapp"), ("chatapp", "Bad_Name"), ("a" * 64, "chatapp")],
)
def test_substitute_rejects_unsafe_values(namespace: str, deployment: str) -> None:
    with pytest.raises(ValueError, match="not a DNS label"):
        promql.substitute("q", namespace=namespace, deployment=deployment)


def test_substitute_whole_variable_names_only() -> None:
    q = 'x{namespace="$namespace",d="$deployment",o="$namespaces"}'
    assert promql.substitute(q, namespace="n", deployment="d") == 'x{namespace="n",d="d",o="$namespaces"}'


def test_subquery_step() -> None:
    assert promql.subquery_step("30m") == "30s"
    assert promql.subquery_step("10s") == "1s"


def test_worst_series_by_direction() -> None:
    assert promql.worst_series("q", api.Direction.HIGHER_IS_WORSE) == "max(q)"
    assert promql.worst_series("q", api.Direction.LOWER_IS_WORSE) == "min(q)"


def test_trend_query_reads_the_baseline_window_in_one_query() -> None:
    spec = api.TrendSpec.model_validate({"baselineWindow": "1h", "baselineOffset": "24h"})
    query = promql.trend_query("q", direction=api.Direction.HIGHER_IS_WORSE, spec=spec)
    assert query.count(" or ") == 2
    assert "avg_over_time((max(q))[1h:60s] offset 24h)" in query
    assert '"stat", "stddev"' in query and '"stat", "count"' in query


def test_forecast_query_adds_the_limit_only_when_asked() -> None:
    spec = api.ForecastSpec.model_validate({"lookback": "30m", "horizon": "1h", "limit": 100})
    without = promql.forecast_query("q", spec=spec, limit_query=None)
    with_limit = promql.forecast_query("q", spec=spec, limit_query="cap")
    assert "predict_linear((max(q))[30m:30s], 3600)" in without
    assert '"limit"' not in without and 'label_replace(min(cap), "stat", "limit", "", "")' in with_limit
