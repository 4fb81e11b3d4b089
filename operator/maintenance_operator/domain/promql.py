"""PromQL the operator builds from an indicator: variable substitution, worst series, trend and forecast
queries. Trend and forecast statistics of one indicator come back in one query each
(``label_replace(..., "stat", ...)`` joined with ``or``), on the worst series (``max`` or ``min`` of the
indicator query, by direction)."""

from __future__ import annotations

import re

from maintenance_operator.api import v1alpha1 as api

SUBQUERY_POINTS = 60
STDDEV_FLOOR = 1e-9
_VARIABLE = re.compile(r"\$(namespace|deployment)\b")
_DNS_LABEL = re.compile(api.DNS_LABEL_PATTERN)


def substitute(query: str, *, namespace: str, deployment: str) -> str:
    """The query with $namespace and $deployment replaced; both must be DNS labels (safe in quotes)."""
    for name, value in (("namespace", namespace), ("deployment", deployment)):
        if not _DNS_LABEL.fullmatch(value) or len(value) > 63:
            raise ValueError(f"{name} {value!r} is not a DNS label")
    values = {"namespace": namespace, "deployment": deployment}
    return _VARIABLE.sub(lambda m: values[m.group(1)], query)


def worst_series(query: str, direction: api.Direction) -> str:
    """The query reduced to its worst series."""
    aggregate = "max" if direction is api.Direction.HIGHER_IS_WORSE else "min"
    return f"{aggregate}({query})"


def subquery_step(window: str) -> str:
    """A subquery resolution giving about SUBQUERY_POINTS points over the window (at least 1s)."""
    return f"{max(1, round(api.parse_duration(window) / SUBQUERY_POINTS))}s"


def _stat(expr: str, name: str) -> str:
    return f'label_replace({expr}, "stat", "{name}", "", "")'


def trend_query(query: str, *, direction: api.Direction, spec: api.TrendSpec) -> str:
    """Baseline mean, stddev (floored) and sample count of the worst series, in one query."""
    window = spec.baseline_window
    sub = (
        f"({worst_series(query, direction)})[{window}:{subquery_step(window)}] offset {spec.baseline_offset}"
    )
    return " or ".join(
        (
            _stat(f"avg_over_time({sub})", "mean"),
            _stat(f"clamp_min(stddev_over_time({sub}), {STDDEV_FLOOR:g})", "stddev"),
            _stat(f"count_over_time({sub})", "count"),
        )
    )


def forecast_query(query: str, *, spec: api.ForecastSpec, limit_query: str | None) -> str:
    """Current value, predict_linear at the horizon, deriv, sample count (and limit) in one query."""
    worst = worst_series(query, api.Direction.HIGHER_IS_WORSE)
    sub = f"({worst})[{spec.lookback}:{subquery_step(spec.lookback)}]"
    parts = [
        _stat(worst, "current"),
        _stat(f"predict_linear({sub}, {api.parse_duration(spec.horizon):g})", "predicted"),
        _stat(f"deriv({sub})", "slope"),
        _stat(f"count_over_time({sub})", "count"),
    ]
    if limit_query is not None:
        parts.append(_stat(f"min({limit_query})", "limit"))
    return " or ".join(parts)
