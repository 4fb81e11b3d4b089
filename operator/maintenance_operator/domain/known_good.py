"""Which ConfigMap values count as known-good (pure).

A value is trusted only after it was seen in two healthy assessments at least STABLE_SECONDS apart,
with no unhealthy assessment in between: a corrupt value pushed just before a healthy assessment (its
effect not yet visible in rate windows) never becomes the value a ConfigPatch restores.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import timestamps

STABLE_SECONDS = 60.0


def advance(
    *,
    known_good: api.KnownGoodConfig | None,
    candidate: api.KnownGoodConfig | None,
    config_map: str,
    current: dict[str, str],
    healthy: bool,
    now: datetime,
) -> tuple[api.KnownGoodConfig | None, api.KnownGoodConfig | None]:
    """(knownGoodConfig, candidateConfig) after one completed assessment."""
    if not healthy or not current:
        return known_good, None
    if candidate is None or candidate.data != current or candidate.config_map != config_map:
        fresh = api.KnownGoodConfig(config_map=config_map, data=current, recorded_at=timestamps.rfc3339(now))
        return known_good, fresh
    if now - timestamps.parse(candidate.recorded_at) >= timedelta(seconds=STABLE_SECONDS):
        promoted = api.KnownGoodConfig(
            config_map=config_map, data=current, recorded_at=timestamps.rfc3339(now)
        )
        return promoted, candidate
    return known_good, candidate
