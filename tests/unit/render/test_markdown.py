from __future__ import annotations

import pytest

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.render import markdown
from tests.fixtures import report_cases

SECTIONS = [
    "## Executive summary",
    "## System health overview",
    "## Issues by severity and category",
    "## Response times against the SLAs",
    "## Remediation effectiveness",
    "## AI decisions",
    "## Capacity",
    "## Configuration and security audits",
    "## Capacity and audit findings",
    "## Recommendations",
]


def test_sections_in_the_frameworks_order() -> None:
    text = markdown.render("weekly", report_cases.full())
    positions = [text.index(s) for s in SECTIONS]
    assert positions == sorted(positions)


def test_full_report_numbers() -> None:
    text = markdown.render("weekly", report_cases.full())
    assert (
        "| critical | 2 | 15m | 12m | 15m | 10m | 1 |" in text
    )  # median of 5 and 20 min; MTTR of the one fix
    assert "| RolloutRestart | 2 | 1 | 1 | 0 | 50% |" in text
    assert "| Claude | 2 | 8.0 | 50% |" in text
    assert "Tokens: 1500 in 3 call(s), estimated cost $0.01." in text
    assert "- Memory reaches its limit in 3 days" in text
    assert "| overall | 4.8 | 6.9 | 4.8 | degrading |" in text
    assert "| chatapp | 2030-01-07T00:00:00Z | 33.3% | not at the growth seen | 3x peak | 1 |  |" in text
    assert "| chatapp | 7.5 | 2 | 6.0 | 3 | 1 |" in text


def test_empty_report_says_no_analysis_ran() -> None:
    text = markdown.render("weekly", report_cases.empty())
    assert "_No capacity analysis yet._" in text and "_No audit yet._" in text


def test_empty_report_is_partial_and_says_why() -> None:
    text = markdown.render("weekly", report_cases.empty())
    assert "> **Partial report.** Prometheus was unavailable" in text
    assert "_No issues in this period._" in text and "_No score history for this period._" in text
    assert all(s in text for s in SECTIONS)


def test_table_cells_cannot_break_the_table() -> None:
    status = api.MaintenanceReportStatus(
        issues=[api.IssueCount(severity=api.Severity.LOW, category="a|b", count=1)]
    )
    assert "| low | a\\|b | 1 |" in markdown.render("x", status)


@pytest.mark.parametrize(
    ("seconds", "text"), [(None, "n/a"), (45, "45s"), (900, "15m"), (5400, "1.5h"), (172800, "2.0d")]
)
def test_duration(seconds: float | None, text: str) -> None:
    assert markdown.duration(seconds) == text
