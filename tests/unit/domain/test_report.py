from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import report

T0 = datetime(2030, 1, 1, tzinfo=UTC)
END = T0 + timedelta(days=7)
P = api.RemediationPhase
SEV = api.Severity


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def fact(
    name: str,
    *,
    severity: api.Severity = SEV.HIGH,
    action: str = "RolloutRestart",
    phase: api.RemediationPhase | None = P.SUCCEEDED,
    responded: float | None = 10,
    resolved: float | None = 30,
    planner: str = "Offline",
    confidence: float = 8.0,
    fingerprint: str | None = None,
) -> report.RemediationFact:
    return report.RemediationFact(
        name=name,
        severity=severity,
        category="memory",
        fingerprint=fingerprint or name,
        action=action,
        planner=planner,
        confidence=confidence,
        phase=phase,
        detected_at=T0,
        responded_at=None if responded is None else at(responded),
        resolved_at=None if resolved is None else at(resolved),
    )


def inputs(**kw: object) -> report.Inputs:
    base: dict[str, object] = {
        "policies": ("chatapp",),
        "start": T0,
        "end": END,
        "sla": api.SLASpec(),
        "scores": {"overall": [(at(i), 8.0) for i in range(10)]},
    }
    return report.Inputs(**{**base, **kw})  # type: ignore[arg-type]


def test_empty_period_is_a_ready_report_that_says_so() -> None:
    status = report.compose(inputs(), now=END)
    assert status.phase is api.ReportPhase.READY
    assert "0 issue(s), no remediation." in status.executive_summary
    assert status.issues == [] and status.remediations == [] and status.response_times == []
    assert status.recommendations == []
    assert (status.period_start, status.period_end) == ("2030-01-01T00:00:00Z", "2030-01-08T00:00:00Z")


def test_missing_prometheus_makes_a_partial_report() -> None:
    status = report.compose(inputs(scores=None, remediations=[fact("a")]), now=END)
    assert status.phase is api.ReportPhase.PARTIAL
    assert status.health == []
    assert "Prometheus was unavailable" in status.message
    assert status.remediations[0].succeeded == 1  # the rest of the report is still there
    assert any("data was missing" in r for r in status.recommendations)


def test_dimension_without_samples_is_listed_empty() -> None:
    [row] = report.health({"core": []})
    assert (row.dimension, row.min, row.last, row.points) == ("core", None, None, [])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([9.0, 9.0], api.Trend.UNKNOWN),
        ([9.0, 9.0, 9.0, 9.1, 9.0, 9.0], api.Trend.STABLE),
        ([9.0, 9.0, 8.0, 7.0, 6.0, 6.0], api.Trend.DEGRADING),
        ([5.0, 5.0, 7.0, 8.0, 9.0, 9.0], api.Trend.IMPROVING),
        # a fault and its remediation inside the period: the score fell and is back at the end
        ([10.0, 10.0, 10.0, 10.0, 4.0, 4.0, 3.0, 10.0, 10.0], api.Trend.STABLE),
        ([10.0, 10.0, 10.0, 10.0, 4.0, 4.0, 3.0, 5.0, 6.0], api.Trend.DEGRADING),
        # a brief recovery that fell back again is no improvement
        ([5.0, 5.0, 5.0, 9.0, 9.0, 9.0, 9.0, 9.0, 5.0], api.Trend.STABLE),
    ],
)
def test_trend(values: list[float], expected: api.Trend) -> None:
    assert report.trend(values) is expected


def test_health_rows() -> None:
    series = [(at(i), v) for i, v in enumerate([9.0, 6.0, 8.0])]
    [row] = report.health({"core": list(reversed(series))})  # order by time, not by arrival
    assert (row.min, row.mean, row.last, row.points) == (6.0, 7.67, 8.0, [9.0, 6.0, 8.0])


def test_huge_periods_are_downsampled_to_equal_slices() -> None:
    values = [float(i % 10) for i in range(90 * 24 * 60)]  # 90 days at one sample a minute
    points = report.downsample(values)
    assert len(points) == report.MAX_POINTS
    assert all(p == pytest.approx(4.5, abs=0.05) for p in points)  # each slice spans ~130 cycles


def test_issues_are_distinct_by_fingerprint_most_severe_first() -> None:
    issues = [
        report.IssueFact("x", SEV.LOW, "latency"),
        report.IssueFact("x", SEV.LOW, "latency"),
        report.IssueFact("y", SEV.CRITICAL, "memory"),
    ]
    counts = report.issue_counts(issues, [fact("z", severity=SEV.CRITICAL), fact("y", severity=SEV.CRITICAL)])
    assert [(c.severity, c.category, c.count) for c in counts] == [
        (SEV.CRITICAL, "memory", 2),
        (SEV.LOW, "latency", 1),
    ]


def test_response_times_against_the_sla() -> None:
    rems = [
        fact("a", responded=10, resolved=30),  # within 1h
        fact("b", responded=70, resolved=90),  # both late
        fact("c", responded=None, resolved=None, phase=P.AWAITING_APPROVAL),
        fact("d", severity=SEV.CRITICAL, responded=None, resolved=5),
    ]
    crit, high = report.response_times(rems, api.SLASpec())
    assert (crit.severity, crit.median_response_seconds, crit.mttr_seconds) == (SEV.CRITICAL, 300.0, 300.0)
    assert (high.remediations, high.response_target_seconds, high.resolution_target_seconds) == (
        3,
        3600,
        3600,
    )
    assert high.median_response_seconds == 40 * 60
    assert high.mttr_seconds == 60 * 60
    assert (high.response_breaches, high.resolution_breaches) == (1, 1)


def test_effectiveness_counts_finished_remediations_only() -> None:
    rems = [
        fact("a"),
        fact("b", phase=P.ROLLED_BACK),
        fact("c", phase=P.FAILED),
        fact("d", phase=P.EXECUTING),
        fact("e", action="Scale"),
    ]
    restart, scale = report.effectiveness(rems)
    assert (restart.action, restart.total, restart.succeeded, restart.rolled_back, restart.failed) == (
        "RolloutRestart",
        3,
        1,
        1,
        1,
    )
    assert restart.success_rate == 0.333
    assert (scale.action, scale.success_rate) == ("Scale", 1.0)


def test_ai_decisions_relate_confidence_to_outcome() -> None:
    rems = [
        fact("a", planner="Claude", confidence=9.0),
        fact("b", planner="Claude", confidence=7.0, phase=P.ROLLED_BACK),
        fact("c", planner="Claude", confidence=8.0, phase=P.EXECUTING),
        fact("d"),
    ]
    claude, offline = report.decisions(rems)
    assert (claude.planner, claude.plans, claude.mean_confidence, claude.success_rate) == (
        "Claude",
        3,
        8.0,
        0.5,
    )
    assert (offline.plans, offline.success_rate) == (1, 1.0)


def test_recommendations_follow_the_sections() -> None:
    status = report.compose(
        inputs(
            scores={"core": [(at(i), v) for i, v in enumerate([9.0, 8.0, 6.5])]},
            remediations=[
                fact("a", phase=P.FAILED),
                fact("b", phase=P.ROLLED_BACK, responded=70, resolved=None),
            ],
        ),
        now=END,
    )
    text = "\n".join(status.recommendations)
    assert "core ends the period at 6.5" in text
    assert "high issues missed their SLA 1 time(s)" in text
    assert "RolloutRestart succeeded in 0 of 2 runs" in text


def test_summary_and_tokens() -> None:
    tokens = api.TokenUsage(input_tokens=1000, output_tokens=200, calls=2, estimated_cost_usd=0.01)
    status = report.compose(
        inputs(remediations=[fact("a"), fact("b", phase=P.FAILED)], tokens=tokens), now=END
    )
    assert status.executive_summary == (
        "chatapp over 7.0 day(s): 2 issue(s), 2 remediation(s), 1 of 2 finished ones verified. "
        "Overall score now 8.0."
    )
    assert status.token_usage == tokens


def test_remediation_fact_falls_back_for_objects_without_sla_stamps() -> None:
    spec = api.RemediationSpec.model_validate(
        {
            "policyRef": {"name": "chatapp"},
            "targetRef": {"name": "chatapp"},
            "issue": {
                "fingerprint": "f",
                "title": "t",
                "severity": "high",
                "category": "memory",
                "dimension": "core",
                "indicator": "memory",
            },
            "plan": {
                "actions": [{"type": "Scale", "scale": {"replicas": 3}}],
                "rationale": "r",
                "confidence": 7,
            },
        }
    )
    status = api.RemediationStatus(
        phase=P.SUCCEEDED, started_at="2030-01-01T00:05:00Z", completed_at="2030-01-01T00:20:00Z"
    )
    got = report.remediation_fact(name="r", spec=spec, status=status, created_at=T0)
    assert (got.action, got.planner, got.detected_at) == ("Scale", "Offline", T0)
    assert (got.responded_at, got.resolved_at) == (at(5), at(20))
    stamped = spec.model_copy(
        update={"issue": spec.issue.model_copy(update={"detected_at": "2029-12-31T23:50:00Z"})}
    )
    failed = api.RemediationStatus(phase=P.FAILED, completed_at="2030-01-01T00:20:00Z")
    got = report.remediation_fact(name="r", spec=stamped, status=failed, created_at=T0)
    assert (got.detected_at, got.responded_at, got.resolved_at) == (at(-10), None, None)
