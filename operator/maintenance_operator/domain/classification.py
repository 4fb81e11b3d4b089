"""Issues from judged indicators and forecasts, with the seed's severities.

Observed issues (only sustained breaches: the indicator's ``for`` has elapsed):

- critical: complete unavailability or far beyond critical: an ``availability`` indicator Failed, a
  HigherIsWorse value at or above 2 x a positive critical (error ratio >= 2x critical), a LowerIsWorse
  value at or below half a positive critical, a ``memory`` ratio (critical <= 1) at or above 0.95
  (memory >= 95 % of the limit), or an infinite value;
- high: any other Failed (beyond critical): error rate, exhaustion, latency degradation;
- medium: beyond warning (degraded) but not critical.

Predicted issues (forecast exhaustion within the horizon, no ``for``): high within 1/4 of the horizon,
medium within 1/2, low beyond half the horizon.

Nothing is raised for an indicator whose judgement is Error or Inconclusive: never act on missing data.
Fingerprints are stable: sha256 of namespace/target/indicator/category/predicted, not values or times.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Sequence
from datetime import datetime

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import judgement as judging
from maintenance_operator.domain import redaction, timestamps

MEMORY_CRITICAL_RATIO = 0.95
FAR_BEYOND_FACTOR = 2.0
AVAILABILITY = "availability"


@dataclasses.dataclass(frozen=True)
class Observation:
    """One indicator as this assessment saw it."""

    indicator: api.Indicator
    judgement: judging.Judgement
    query: str
    sustained: bool
    breaching_since: str | None = None


def fingerprint(*, namespace: str, target: str, indicator: str, category: str, predicted: bool) -> str:
    """Stable 16-hex-digit id of an issue (same problem, same fingerprint, across assessments)."""
    key = f"{namespace}/{target}/{indicator}/{category}/{'predicted' if predicted else 'observed'}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def far_beyond_critical(value: float | None, indicator: api.Indicator) -> bool:
    """The seed's 'critical' cases for a Failed value."""
    if indicator.category == AVAILABILITY:
        return True
    if value is None:
        return False
    if math.isinf(value):
        return True
    critical = indicator.critical
    if indicator.direction is api.Direction.HIGHER_IS_WORSE:
        if indicator.category == "memory" and critical <= 1 and value >= MEMORY_CRITICAL_RATIO:
            return True
        return critical > 0 and value >= FAR_BEYOND_FACTOR * critical
    return critical > 0 and value <= critical / FAR_BEYOND_FACTOR


def observed_severity(observation: Observation) -> api.Severity | None:
    """Severity of an observed breach, or None when it is no issue."""
    j = observation.judgement
    if j.phase in (api.MeasurementPhase.ERROR, api.MeasurementPhase.INCONCLUSIVE) or j.level is None:
        return None
    if not j.degraded or not observation.sustained:
        return None
    if j.level is judging.Level.WARNING:
        return api.Severity.MEDIUM
    return api.Severity.CRITICAL if far_beyond_critical(j.value, observation.indicator) else api.Severity.HIGH


def predicted_severity(forecast: api.Forecast) -> api.Severity | None:
    """Severity of a forecast exhaustion, or None when not within the horizon."""
    seconds = forecast.seconds_to_exhaustion
    if seconds is None:
        return None
    if seconds <= forecast.horizon_seconds / 4:
        return api.Severity.HIGH
    if seconds <= forecast.horizon_seconds / 2:
        return api.Severity.MEDIUM
    return api.Severity.LOW


def _fmt(value: float | None) -> str:
    return "no data" if value is None else f"{value:.4g}"


def _observed_issue(
    observation: Observation, severity: api.Severity, *, namespace: str, target: str, at: str
) -> api.Issue:
    ind = observation.indicator
    j = observation.judgement
    beyond_critical = j.level is judging.Level.CRITICAL
    threshold = ind.critical if beyond_critical else ind.warning
    cmp = ">" if ind.direction is api.Direction.HIGHER_IS_WORSE else "<"
    which = "critical" if beyond_critical else "warning"
    since = f" since {observation.breaching_since}" if observation.breaching_since else ""
    return api.Issue(
        fingerprint=fingerprint(
            namespace=namespace, target=target, indicator=ind.name, category=ind.category, predicted=False
        ),
        title=f"{ind.name} beyond {which} on {target}: {_fmt(j.value)} {cmp} {threshold:g}"[:256],
        severity=severity,
        category=ind.category,
        dimension=ind.dimension,
        indicator=ind.name,
        description=redaction.redact(
            f"{ind.description or ind.name}: {_fmt(j.value)} {cmp} {which} {threshold:g} across "
            f"{j.series} series{since}. {j.message}"
        ).strip()[:2048],
        evidence=[
            api.Evidence(
                query=observation.query,
                value=j.value,
                threshold=threshold,
                comparison=f"{cmp} {which}",
                at=at,
            )
        ],
        detected_at=observation.breaching_since or at,
    )


def _predicted_issue(
    indicator: api.Indicator,
    forecast: api.Forecast,
    severity: api.Severity,
    *,
    namespace: str,
    target: str,
    at: str,
) -> api.Issue:
    seconds = forecast.seconds_to_exhaustion or 0.0
    return api.Issue(
        fingerprint=fingerprint(
            namespace=namespace,
            target=target,
            indicator=indicator.name,
            category=indicator.category,
            predicted=True,
        ),
        title=(
            f"{indicator.name} predicted to reach {forecast.limit:.4g} in {seconds / 60:.0f} min on {target}"
        )[:256],
        severity=severity,
        category=indicator.category,
        dimension=indicator.dimension,
        indicator=indicator.name,
        predicted=True,
        description=redaction.redact(
            f"{indicator.description or indicator.name}: now {forecast.current:.4g}, predicted "
            f"{forecast.predicted:.4g} in {forecast.horizon_seconds:.0f}s; "
            f"limit {forecast.limit:.4g} reached in ~{seconds:.0f}s (confidence {forecast.confidence:.2f})."
        )[:2048],
        evidence=[
            api.Evidence(
                query=forecast.query,
                value=forecast.predicted,
                threshold=forecast.limit,
                comparison=">= limit within horizon",
                at=at,
            )
        ],
        detected_at=at,
    )


def classify(
    *,
    namespace: str,
    target: str,
    observations: Sequence[Observation],
    forecasts: Sequence[api.Forecast],
    routing: api.SeverityRouting,
    now: datetime,
) -> list[api.Issue]:
    """Issues, most severe first (observed before predicted, then by indicator name)."""
    at = timestamps.rfc3339(now)
    issues: list[api.Issue] = []
    usable: dict[str, Observation] = {}
    for observation in observations:
        if observation.judgement.level is not None:
            usable[observation.indicator.name] = observation
        severity = observed_severity(observation)
        if severity is not None:
            issues.append(_observed_issue(observation, severity, namespace=namespace, target=target, at=at))
    observed = {i.indicator for i in issues}
    for forecast in forecasts:
        seen = usable.get(forecast.indicator)
        severity = predicted_severity(forecast)
        # an indicator already in breach is one issue, not a second "predicted" one with its own plan
        if seen is None or severity is None or forecast.indicator in observed:
            continue
        issues.append(
            _predicted_issue(seen.indicator, forecast, severity, namespace=namespace, target=target, at=at)
        )
    issues = [i.model_copy(update={"route": routing.route(i.severity)}) for i in issues]
    return sorted(issues, key=lambda i: (-api.SEVERITY_ORDER[i.severity], i.predicted, i.indicator))
