from __future__ import annotations

from html.parser import HTMLParser

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.render import html
from tests.fixtures import report_cases


class Tags(HTMLParser):
    """Every start tag with its attributes, and whether the document nests correctly."""

    VOID = {"meta", "br", "img", "line", "rect", "polyline"}

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.balanced = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack.pop() != tag:
            self.balanced = False


def parse(page: str) -> Tags:
    tags = Tags()
    tags.feed(page)
    return tags


def test_page_is_self_contained_and_well_formed() -> None:
    page = html.render("weekly", report_cases.full())
    tags = parse(page)
    assert tags.balanced and not tags.stack
    names = [t for t, _ in tags.tags]
    assert "script" not in names and "link" not in names and "iframe" not in names
    assert all("src" not in attrs and "href" not in attrs for _, attrs in tags.tags)
    [csp] = [a for t, a in tags.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp["content"] is not None and csp["content"].startswith("default-src 'none'")


def test_three_charts_with_data() -> None:
    tags = parse(html.render("weekly", report_cases.full())).tags
    labels = [a.get("aria-label") for t, a in tags if t == "svg"]
    assert labels == [
        "Score over time per dimension",
        "Median response time against the SLA per severity",
        "Remediations by outcome",
    ]
    assert sum(1 for t, a in tags if t == "polyline" and a.get("class") == "series") == 2
    assert sum(1 for t, a in tags if t == "rect" and a.get("class") == "bar") == 2 + 2 + 2
    # the critical median (12m30s) is within 15m: green; the high median (40m) is within 1h: green too
    assert {a.get("fill") for t, a in tags if t == "rect" and a.get("class") == "bar" and "x" in a} >= {
        "#16a34a"
    }


def test_text_is_escaped() -> None:
    page = html.render("<b>x</b>", report_cases.full())
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert "memory &lt;leak&gt;" in page


def test_empty_report_has_no_charts_but_every_section() -> None:
    page = html.render("weekly", report_cases.empty())
    tags = parse(page)
    assert tags.balanced
    assert not [t for t, _ in tags.tags if t == "svg"]
    assert page.count("<section>") == 10
    assert "Partial report." in page


def test_pending_report_renders() -> None:
    page = html.render("new", api.MaintenanceReportStatus())
    assert "Pending" in page and "Not generated yet." in page


def test_capacity_and_audit_sections_are_tables() -> None:
    page = html.render("weekly", report_cases.full())
    assert "<h2>Capacity</h2><table>" in page and "<td>3x peak</td>" in page
    assert "<h2>Configuration and security audits</h2><table>" in page and "<td>7.5</td>" in page
