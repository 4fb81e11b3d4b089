"""Offline narrative (domain/summary.py)."""

from __future__ import annotations

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import summary


def dim(d: api.Dimension, score: float | None, trend: api.Trend = api.Trend.STABLE) -> api.DimensionScore:
    return api.DimensionScore(dimension=d, score=score, weight=20, effective_weight=20, trend=trend)


def issue(n: int, severity: str = "high") -> api.Issue:
    return api.Issue(
        fingerprint=f"f{n}",
        title=f"problem {n}",
        severity=severity,
        category="c",
        dimension="core",
        indicator="i",
    )


def test_healthy_summary() -> None:
    status = api.HealthAssessmentStatus(
        phase=api.AssessmentPhase.COMPLETED,
        overall_score=9.4,
        healthy=True,
        dimensions=[dim(d, 9.4) for d in api.Dimension],
    )
    text = summary.summarize(status, target="chatapp")
    assert text == "chatapp: overall health 9.4/10, healthy. No issues."


def test_unhealthy_summary_names_worst_dimensions_issues_and_forecasts() -> None:
    status = api.HealthAssessmentStatus(
        phase=api.AssessmentPhase.COMPLETED,
        overall_score=6.1,
        healthy=False,
        dimensions=[
            dim(api.Dimension.CORE, 3.2, api.Trend.DEGRADING),
            dim(api.Dimension.COMPONENT, 7.5),
            dim(api.Dimension.INTEGRATION, 6.0),
            dim(api.Dimension.USER_EXPERIENCE, None),
            dim(api.Dimension.OPERATIONAL, 10.0),
        ],
        issues=[issue(n) for n in range(5)],
        forecasts=[
            api.Forecast(
                indicator="memory-usage",
                current=0.5,
                limit=1,
                predicted=1.2,
                seconds_to_exhaustion=600,
                horizon_seconds=3600,
                confidence=0.8,
                query="q",
            ),
            api.Forecast(
                indicator="queue-depth",
                current=1,
                limit=1000,
                predicted=2,
                horizon_seconds=3600,
                confidence=0.8,
                query="q",
            ),
        ],
    )
    text = summary.summarize(status, target="chatapp")
    assert text.startswith("chatapp: overall health 6.1/10.")
    assert "Weakest: core 3.2/10 (degrading), integration 6.0/10 (stable)." in text
    assert "component" not in text.split("Weakest:")[1].split(".")[0]  # only the two worst
    assert "Insufficient data for userExperience." in text
    assert "5 issue(s): [high] problem 0; [high] problem 1; [high] problem 2 (+2 more)." in text
    assert "Forecast exhaustion: memory-usage in ~10 min." in text
    assert "queue-depth" not in text
    assert summary.summarize(status, target="chatapp") == text  # deterministic


def test_inconclusive_summary() -> None:
    status = api.HealthAssessmentStatus(
        phase=api.AssessmentPhase.INCONCLUSIVE, message="Prometheus unreachable: x"
    )
    assert summary.summarize(status, target="chatapp") == (
        "Assessment of chatapp is inconclusive: Prometheus unreachable: x."
    )
    bare = api.HealthAssessmentStatus(phase=api.AssessmentPhase.INCONCLUSIVE)
    assert "no usable data" in summary.summarize(bare, target="chatapp")


def test_unknown_overall_and_length_bound() -> None:
    long_issue = api.Issue(
        fingerprint="f", title="x" * 256, severity="low", category="c", dimension="core", indicator="i"
    )
    status = api.HealthAssessmentStatus(
        phase=api.AssessmentPhase.COMPLETED,
        overall_score=None,
        issues=[long_issue] * 5,
        dimensions=[dim(d, None) for d in api.Dimension],
        forecasts=[
            api.Forecast(
                indicator="m" * 63,
                current=0.5,
                limit=1,
                predicted=1.2,
                seconds_to_exhaustion=600,
                horizon_seconds=3600,
                confidence=0.8,
                query="q",
            )
        ]
        * 3,
    )
    text = summary.summarize(status, target="chatapp")
    assert "overall health unknown" in text
    assert len(text) <= summary.MAX_CHARS and text.endswith("…")
