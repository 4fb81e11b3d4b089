"""A MaintenanceReport as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched.

The page's Content-Security-Policy forbids every external load, so it renders the same offline."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.render import markdown, svg

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:760px;margin:2em auto;color:#111827}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #d1d5db;padding:4px 8px}"
    ".partial{background:#fef3c7;padding:.5em 1em;border-left:4px solid #b45309}"
)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, empty: str) -> str:
    if not rows:
        return f"<p><em>{escape(empty)}</em></p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _list(items: list[str], *, empty: str) -> str:
    if not items:
        return f"<p><em>{escape(empty)}</em></p>"
    return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def _health(status: api.MaintenanceReportStatus) -> str:
    rows = [
        (
            h.dimension,
            markdown.number(h.min),
            markdown.number(h.mean),
            markdown.number(h.last),
            h.trend.value if h.trend else "n/a",
        )
        for h in status.health
    ]
    chart = ""
    if any(h.points for h in status.health):
        chart = svg.line_chart(
            {h.dimension: h.points for h in status.health},
            title="Score over time per dimension",
            low=1.0,
            high=10.0,
            mark=7.0,
        )
    return chart + _table(
        ("Dimension", "Min", "Mean", "Last", "Trend"), rows, empty="No score history for this period."
    )


def _responses(status: api.MaintenanceReportStatus) -> str:
    times = status.response_times
    chart = ""
    if times:
        chart = svg.against_target(
            [(t.severity.value, t.median_response_seconds, t.response_target_seconds) for t in times],
            title="Median response time against the SLA per severity",
        )
    rows = [
        (
            t.severity.value,
            str(t.remediations),
            markdown.duration(t.response_target_seconds),
            markdown.duration(t.median_response_seconds),
            markdown.duration(t.resolution_target_seconds),
            markdown.duration(t.mttr_seconds),
            str(t.response_breaches + t.resolution_breaches),
        )
        for t in times
    ]
    header = (
        "Severity",
        "Remediations",
        "Response target",
        "Median response",
        "Resolution target",
        "MTTR",
        "Breaches",
    )
    return chart + _table(header, rows, empty="No remediations in this period.")


def _effectiveness(status: api.MaintenanceReportStatus) -> str:
    actions = status.remediations
    chart = ""
    if actions:
        chart = svg.stacked_bars(
            [
                (a.action, {"succeeded": a.succeeded, "rolled back": a.rolled_back, "failed": a.failed})
                for a in actions
            ],
            title="Remediations by outcome",
        )
    rows = [
        (
            a.action,
            str(a.total),
            str(a.succeeded),
            str(a.rolled_back),
            str(a.failed),
            markdown.rate(a.success_rate),
        )
        for a in actions
    ]
    header = ("Action", "Finished", "Succeeded", "Rolled back", "Failed", "Success rate")
    return chart + _table(header, rows, empty="No finished remediations in this period.")


def _capacity(status: api.MaintenanceReportStatus) -> str:
    return _table(
        ("Policy", "Analyzed", "Headroom", "Runs out", "Blocked scenarios", "Right-sized", "Note"),
        [
            (
                c.policy,
                c.analyzed_at or "never",
                f"{markdown.number(c.headroom_percent)}%" if c.headroom_percent is not None else "n/a",
                c.exhaustion_at or "not at the growth seen",
                ", ".join(c.blocked_scenarios) or "none",
                str(c.right_sized_containers),
                c.message if not c.sufficient else "",
            )
            for c in status.capacity
        ],
        empty="No capacity analysis yet.",
    )


def _audits(status: api.MaintenanceReportStatus) -> str:
    return _table(
        ("Policy", "Config score", "Config findings", "Security score", "Security findings", "Overdue CVEs"),
        [
            (
                a.policy,
                markdown.number(a.config_score),
                str(a.config_findings),
                markdown.number(a.security_score),
                str(a.security_findings),
                str(a.overdue_vulnerabilities),
            )
            for a in status.audits
        ],
        empty="No audit yet.",
    )


def render(name: str, status: api.MaintenanceReportStatus) -> str:
    """The whole page; every section is present even when it has nothing to say."""
    tokens = status.token_usage or api.TokenUsage()
    phase = status.phase.value if status.phase else "Pending"
    partial = (
        f'<p class="partial"><strong>Partial report.</strong> {escape(" ".join(status.gaps))}</p>'
        if status.gaps
        else ""
    )
    decisions = _table(
        ("Planner", "Plans", "Mean confidence", "Success rate"),
        [
            (d.planner, str(d.plans), markdown.number(d.mean_confidence), markdown.rate(d.success_rate))
            for d in status.ai_decisions
        ],
        empty="No plans in this period.",
    )
    sections = [
        ("Executive summary", f"<p>{escape(status.executive_summary or 'Not generated yet.')}</p>"),
        ("System health overview", _health(status)),
        (
            "Issues by severity and category",
            _table(
                ("Severity", "Category", "Issues"),
                [(i.severity.value, i.category, str(i.count)) for i in status.issues],
                empty="No issues in this period.",
            ),
        ),
        ("Response times against the SLAs", _responses(status)),
        ("Remediation effectiveness", _effectiveness(status)),
        (
            "AI decisions",
            decisions + f"<p>Tokens: {tokens.total} in {tokens.calls} call(s), "
            f"estimated cost ${tokens.estimated_cost_usd:.2f}.</p>",
        ),
        ("Capacity", _capacity(status)),
        ("Configuration and security audits", _audits(status)),
        ("Capacity and audit findings", _list(list(status.findings), empty="No findings.")),
        ("Recommendations", _list(list(status.recommendations), empty="Nothing stands out.")),
    ]
    body = "".join(f"<section><h2>{escape(title)}</h2>{content}</section>" for title, content in sections)
    meta = (
        f"Period {status.period_start or '?'} to {status.period_end or '?'} · policies: "
        f"{', '.join(status.policies) or 'none'} · {phase} · generated {status.generated_at or 'never'}"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>Maintenance report: {escape(name)}</title><style>{STYLE}</style></head>"
        f"<body><h1>Maintenance report: {escape(name)}</h1><p>{escape(meta)}</p>{partial}{body}"
        "</body></html>\n"
    )
