"""Verdict of a remediation's verification, after Argo Rollouts' analysis rules.

Measuring starts ``initialDelay`` after ``started_at`` (the end of the rollout) and lasts ``window``.
Measurements taken before that start are ignored. In order:

- Failed: Failed + Error measurements exceed failureLimit. Decided as soon as it happens: roll back.
- Inconclusive: Inconclusive measurements exceed inconclusiveLimit. Pause for a human; the operator
  never rolls forward or back on its own on an inconclusive verdict.
- Successful: the window has elapsed with at least one Successful measurement.
- Inconclusive: the window has elapsed without any Successful measurement (no evidence of recovery).
- Pending: otherwise.

A measurement must not see samples from before the change: ``effective_spec`` raises ``initialDelay`` to
the longest look-back of the verified indicators' queries (``rate(x[1m])`` looks back one minute), so a
fix is never judged, and rolled back, on the samples of the fault it fixed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from maintenance_operator.api.v1alpha1 import (
    Measurement,
    MeasurementPhase,
    VerificationSpec,
    parse_duration,
)
from maintenance_operator.domain import timestamps

_BRACKETS = re.compile(r"\[([^\]]+)\]")
_OFFSET = re.compile(r"\boffset\s+([0-9][0-9.a-z]*)")
_PROMQL_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d|w|y)")
_PROMQL_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def _promql_seconds(text: str) -> float:
    return sum(float(n) * _PROMQL_UNIT[u] for n, u in _PROMQL_PART.findall(text.strip()))


def lookback_seconds(query: str) -> float:
    """How far back a PromQL query reads: its longest range or subquery range plus its largest offset."""
    ranges = [_promql_seconds(inner.split(":", 1)[0]) for inner in _BRACKETS.findall(query)]
    offsets = [_promql_seconds(o) for o in _OFFSET.findall(query)]
    return max(ranges, default=0.0) + max(offsets, default=0.0)


def _duration(seconds: float) -> str:
    return f"{int(seconds)}s" if seconds == int(seconds) else f"{int(seconds * 1000)}ms"


def effective_spec(spec: VerificationSpec, queries: Sequence[str]) -> VerificationSpec:
    """The spec with initialDelay at least the longest look-back of the queries (never shorter)."""
    lookback = max((lookback_seconds(q) for q in queries), default=0.0)
    if lookback <= parse_duration(spec.initial_delay):
        return spec
    return spec.model_copy(update={"initial_delay": _duration(lookback)})


def delay_notice(spec: VerificationSpec, indicators: Sequence[tuple[str, str]]) -> str | None:
    """For the policy's status: which (name, query) indicators wait longer than initialDelay, or None."""
    delay = parse_duration(spec.initial_delay)
    slow = [(name, seconds) for name, query in indicators if (seconds := lookback_seconds(query)) > delay]
    if not slow:
        return None
    listed = ", ".join(f"{name} {_duration(seconds)}" for name, seconds in slow)
    return (
        f"verification waits for each indicator's query look-back, longer than initialDelay "
        f"{spec.initial_delay}: {listed}"
    )


class VerdictPhase(StrEnum):
    PENDING = "Pending"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    INCONCLUSIVE = "Inconclusive"


class VerificationVerdict(BaseModel):
    """Where verification stands, with the counts behind it."""

    model_config = ConfigDict(frozen=True)

    phase: VerdictPhase = Field(description="Pending, Successful, Failed or Inconclusive.")
    failures: int = Field(description="Failed + Error measurements in the window.")
    inconclusive: int = Field(description="Inconclusive measurements in the window.")
    successes: int = Field(description="Successful measurements in the window.")
    message: str = Field(description="Why.")

    @property
    def measurement_phase(self) -> MeasurementPhase | None:
        """The verdict as VerificationResult.phase stores it (None while pending)."""
        return None if self.phase is VerdictPhase.PENDING else MeasurementPhase(self.phase.value)


def measuring_starts(spec: VerificationSpec, started_at: datetime) -> datetime:
    """First moment a measurement counts."""
    return started_at + timedelta(seconds=parse_duration(spec.initial_delay))


def window_ends(spec: VerificationSpec, started_at: datetime) -> datetime:
    """When the verification window closes."""
    return measuring_starts(spec, started_at) + timedelta(seconds=parse_duration(spec.window))


def _counted(measurements: Sequence[Measurement], start: datetime) -> list[Measurement]:
    return [m for m in measurements if timestamps.parse(m.at) >= start]


def verdict(
    *, measurements: Sequence[Measurement], spec: VerificationSpec, started_at: datetime, now: datetime
) -> VerificationVerdict:
    """Judge the measurements taken so far (see the module docstring for the rules, in order)."""
    counted = _counted(measurements, measuring_starts(spec, started_at))
    failures = sum(m.phase in (MeasurementPhase.FAILED, MeasurementPhase.ERROR) for m in counted)
    inconclusive = sum(m.phase is MeasurementPhase.INCONCLUSIVE for m in counted)
    successes = sum(m.phase is MeasurementPhase.SUCCESSFUL for m in counted)

    def result(phase: VerdictPhase, message: str) -> VerificationVerdict:
        return VerificationVerdict(
            phase=phase, failures=failures, inconclusive=inconclusive, successes=successes, message=message
        )

    if failures > spec.failure_limit:
        return result(
            VerdictPhase.FAILED,
            f"{failures} failed or errored measurements, failureLimit is {spec.failure_limit}",
        )
    if inconclusive > spec.inconclusive_limit:
        return result(
            VerdictPhase.INCONCLUSIVE,
            f"{inconclusive} inconclusive measurements, inconclusiveLimit is {spec.inconclusive_limit}",
        )
    if now >= window_ends(spec, started_at):
        if successes == 0:
            return result(VerdictPhase.INCONCLUSIVE, "the window closed without a successful measurement")
        return result(
            VerdictPhase.SUCCESSFUL,
            f"{successes} successful, {failures} failed, {inconclusive} inconclusive over {spec.window}",
        )
    return result(VerdictPhase.PENDING, f"{len(counted)} measurements so far")


def next_measurement_due(
    *, measurements: Sequence[Measurement], spec: VerificationSpec, started_at: datetime, now: datetime
) -> datetime | None:
    """When to measure next (may be in the past: measure now); None once the verdict is no longer pending.

    The first measurement is due when the initial delay ends, then one per interval after the latest
    counted measurement, never later than the window's end (when the verdict is decided).
    """
    if verdict(measurements=measurements, spec=spec, started_at=started_at, now=now).phase is not (
        VerdictPhase.PENDING
    ):
        return None
    start, end = measuring_starts(spec, started_at), window_ends(spec, started_at)
    counted = _counted(measurements, start)
    if not counted:
        return start
    latest = max(timestamps.parse(m.at) for m in counted)
    return min(latest + timedelta(seconds=parse_duration(spec.interval)), end)
