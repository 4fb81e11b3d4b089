"""A MaintenanceReport's status as Markdown, section by section in the framework's order."""

from __future__ import annotations

from collections.abc import Sequence

from maintenance_operator.api import v1alpha1 as api


def number(value: float | None, fmt: str = "{:.1f}") -> str:
    return "n/a" if value is None else fmt.format(value)


def duration(seconds: float | None) -> str:
    """Seconds as 45s, 12m, 3.5h or 2.0d; n/a for None."""
    if seconds is None:
        return "n/a"
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, empty: str) -> list[str]:
    if not rows:
        return [f"_{empty}_", ""]
    cells = [list(header), ["---"] * len(header), *[list(r) for r in rows]]
    return [*("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells), ""]


def _bullets(items: Sequence[str], *, empty: str) -> list[str]:
    return [*(f"- {i}" for i in items), ""] if items else [f"_{empty}_", ""]


def render(name: str, status: api.MaintenanceReportStatus) -> str:
    """The whole report; every section is present even when it has nothing to say."""
    phase = status.phase.value if status.phase else "Pending"
    lines = [
        f"# Maintenance report: {name}",
        "",
        f"Period {status.period_start or '?'} to {status.period_end or '?'} · policies: "
        f"{', '.join(status.policies) or 'none'} · {phase} · generated {status.generated_at or 'never'}",
        "",
    ]
    if status.gaps:
        lines += ["> **Partial report.** " + " ".join(status.gaps), ""]
    lines += ["## Executive summary", "", status.executive_summary or "_Not generated yet._", ""]
    lines += ["## System health overview", ""]
    lines += _table(
        ("Dimension", "Min", "Mean", "Last", "Trend"),
        [
            (h.dimension, number(h.min), number(h.mean), number(h.last), h.trend.value if h.trend else "n/a")
            for h in status.health
        ],
        empty="No score history for this period.",
    )
    lines += ["## Issues by severity and category", ""]
    lines += _table(
        ("Severity", "Category", "Issues"),
        [(i.severity.value, i.category, str(i.count)) for i in status.issues],
        empty="No issues in this period.",
    )
    lines += ["## Response times against the SLAs", ""]
    lines += _table(
        (
            "Severity",
            "Remediations",
            "Response target",
            "Median response",
            "Resolution target",
            "MTTR",
            "Breaches",
        ),
        [
            (
                t.severity.value,
                str(t.remediations),
                duration(t.response_target_seconds),
                duration(t.median_response_seconds),
                duration(t.resolution_target_seconds),
                duration(t.mttr_seconds),
                str(t.response_breaches + t.resolution_breaches),
            )
            for t in status.response_times
        ],
        empty="No remediations in this period.",
    )
    lines += ["## Remediation effectiveness", ""]
    lines += _table(
        ("Action", "Finished", "Succeeded", "Rolled back", "Failed", "Success rate"),
        [
            (
                a.action,
                str(a.total),
                str(a.succeeded),
                str(a.rolled_back),
                str(a.failed),
                rate(a.success_rate),
            )
            for a in status.remediations
        ],
        empty="No finished remediations in this period.",
    )
    lines += ["## AI decisions", ""]
    lines += _table(
        ("Planner", "Plans", "Mean confidence", "Success rate"),
        [
            (d.planner, str(d.plans), number(d.mean_confidence), rate(d.success_rate))
            for d in status.ai_decisions
        ],
        empty="No plans in this period.",
    )
    tokens = status.token_usage or api.TokenUsage()
    lines += [
        f"Tokens: {tokens.total} in {tokens.calls} call(s), estimated cost ${tokens.estimated_cost_usd:.2f}.",
        "",
    ]
    lines += ["## Capacity", ""]
    lines += _table(
        ("Policy", "Analyzed", "Headroom", "Runs out", "Blocked scenarios", "Right-sized", "Note"),
        [
            (
                c.policy,
                c.analyzed_at or "never",
                f"{number(c.headroom_percent)}%" if c.headroom_percent is not None else "n/a",
                c.exhaustion_at or "not at the growth seen",
                ", ".join(c.blocked_scenarios) or "none",
                str(c.right_sized_containers),
                c.message if not c.sufficient else "",
            )
            for c in status.capacity
        ],
        empty="No capacity analysis yet.",
    )
    lines += ["## Configuration and security audits", ""]
    lines += _table(
        ("Policy", "Config score", "Config findings", "Security score", "Security findings", "Overdue CVEs"),
        [
            (
                a.policy,
                number(a.config_score),
                str(a.config_findings),
                number(a.security_score),
                str(a.security_findings),
                str(a.overdue_vulnerabilities),
            )
            for a in status.audits
        ],
        empty="No audit yet.",
    )
    lines += ["## Capacity and audit findings", ""]
    lines += _bullets(status.findings, empty="No findings.")
    lines += ["## Recommendations", ""]
    lines += _bullets(status.recommendations, empty="Nothing stands out.")
    return "\n".join(lines)
