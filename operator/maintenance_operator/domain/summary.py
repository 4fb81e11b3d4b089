"""Offline narrative of an assessment: deterministic, no LLM, at most 1000 characters."""

from __future__ import annotations

from maintenance_operator.api import v1alpha1 as api

MAX_CHARS = 1000
MAX_ISSUES = 3


def _score(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.1f}/10"


def summarize(status: api.HealthAssessmentStatus, *, target: str) -> str:
    """One paragraph: overall, worst dimensions, top issues, forecasts. Same status, same text."""
    if status.phase is api.AssessmentPhase.INCONCLUSIVE:
        return f"Assessment of {target} is inconclusive: {status.message or 'no usable data'}."[:MAX_CHARS]
    parts = [f"{target}: overall health {_score(status.overall_score)}"]
    if status.healthy:
        parts[0] += ", healthy."
    else:
        parts[0] += "."
    known = sorted(
        (d for d in status.dimensions if d.score is not None), key=lambda d: (d.score, d.dimension)
    )
    worst = [d for d in known if d.score is not None and d.score < 8.0][:2]
    if worst:
        parts.append(
            "Weakest: "
            + ", ".join(f"{d.dimension.value} {_score(d.score)} ({d.trend.value})" for d in worst)
            + "."
        )
    unknown = [d.dimension.value for d in status.dimensions if d.score is None]
    if unknown:
        parts.append(f"Insufficient data for {', '.join(unknown)}.")
    if status.issues:
        shown = "; ".join(f"[{i.severity.value}] {i.title}" for i in status.issues[:MAX_ISSUES])
        more = f" (+{len(status.issues) - MAX_ISSUES} more)" if len(status.issues) > MAX_ISSUES else ""
        parts.append(f"{len(status.issues)} issue(s): {shown}{more}.")
    else:
        parts.append("No issues.")
    exhausting = [f for f in status.forecasts if f.seconds_to_exhaustion is not None]
    if exhausting:
        shown = ", ".join(
            f"{f.indicator} in ~{(f.seconds_to_exhaustion or 0) / 60:.0f} min"
            for f in exhausting[:MAX_ISSUES]
        )
        parts.append(f"Forecast exhaustion: {shown}.")
    text = " ".join(parts)
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"
