"""A full report and an empty one, composed by the domain code, for the renderer tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import report

T0 = datetime(2030, 1, 1, tzinfo=UTC)
END = T0 + timedelta(days=7)
P = api.RemediationPhase


def _fact(
    name: str, action: str, phase: api.RemediationPhase, severity: api.Severity, minutes: float
) -> report.RemediationFact:
    return report.RemediationFact(
        name=name,
        severity=severity,
        category="memory <leak>",
        fingerprint=name,
        action=action,
        planner="Claude" if action == "Scale" else "Offline",
        confidence=8.0,
        phase=phase,
        detected_at=T0,
        responded_at=T0 + timedelta(minutes=minutes),
        resolved_at=T0 + timedelta(minutes=minutes * 2) if phase is P.SUCCEEDED else None,
    )


def full() -> api.MaintenanceReportStatus:
    scores = {
        "overall": [(T0 + timedelta(hours=h), 9.0 - h / 40) for h in range(168)],
        "core": [(T0 + timedelta(hours=h), 8.0) for h in range(168)],
    }
    rems = [
        _fact("a", "RolloutRestart", P.SUCCEEDED, api.Severity.CRITICAL, 5),
        _fact("b", "RolloutRestart", P.ROLLED_BACK, api.Severity.CRITICAL, 20),
        _fact("c", "Scale", P.SUCCEEDED, api.Severity.HIGH, 30),
        _fact("d", "Scale", P.FAILED, api.Severity.HIGH, 50),
    ]
    tokens = api.TokenUsage(input_tokens=1200, output_tokens=300, calls=3, estimated_cost_usd=0.0125)
    inputs = report.Inputs(
        policies=("chatapp",),
        start=T0,
        end=END,
        sla=api.SLASpec(),
        scores=scores,
        remediations=rems,
        tokens=tokens,
        findings=("Memory reaches its limit in 3 days at the current growth.",),
        capacity={
            "chatapp": api.CapacityReport(
                analyzed_at="2030-01-07T00:00:00Z",
                sufficient=True,
                headroom_percent=33.3,
                scenarios=[
                    api.ScenarioResult(
                        name="+50%", load=1, replicas=5, allowed=True, cpu_cores=1, memory_gib=1
                    ),
                    api.ScenarioResult(
                        name="3x peak", load=3, replicas=9, allowed=False, cpu_cores=3, memory_gib=3
                    ),
                ],
                right_sizing=[api.RightSizingResult(container="app", cpu_request_cores=0.3)],
            )
        },
        config_audits={
            "chatapp": api.ConfigAuditReport(analyzed_at="2030-01-07T00:00:00Z", score=7.5, finding_count=2)
        },
        security={
            "chatapp": api.SecurityReport(
                analyzed_at="2030-01-07T00:00:00Z", score=6.0, finding_count=3, overdue_vulnerabilities=1
            )
        },
    )
    return report.compose(inputs, now=END)


def empty() -> api.MaintenanceReportStatus:
    inputs = report.Inputs(policies=("chatapp",), start=T0, end=END, sla=api.SLASpec(), scores=None)
    return report.compose(inputs, now=END)
