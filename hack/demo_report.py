"""The last step of `make demo`: a MaintenanceReport of the faults the demo ran, made by the running
operator, written as Markdown and as a self-contained HTML page next to the operator's log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.render import html, markdown

REPORT = "demo"
READY = ("Ready", "Partial")


@dataclass(frozen=True)
class Written:
    """Where the report went."""

    markdown: Path
    html: Path
    phase: str


def manifest(namespace: str, *, policy: str = "chatapp", period: str = "1h") -> dict[str, Any]:
    """A one-off report over the last `period` (the demo's namespace is new, so that is the whole demo)."""
    return {
        "apiVersion": f"{api.GROUP}/{api.VERSION}",
        "kind": "MaintenanceReport",
        "metadata": {"name": REPORT, "namespace": namespace},
        "spec": {"policyRef": {"name": policy}, "period": period},
    }


def finished(report: dict[str, Any]) -> dict[str, Any] | None:
    """The report once the operator filled it (Ready, or Partial with its gaps named), else None."""
    return report if (report.get("status") or {}).get("phase") in READY else None


def write(report: dict[str, Any], *, into: Path) -> Written:
    """Render a filled report to `into`/report.md and `into`/report.html."""
    name = str(report["metadata"]["name"])
    status = api.MaintenanceReportStatus.model_validate(report.get("status") or {})
    into.mkdir(parents=True, exist_ok=True)
    md, page = into / "report.md", into / "report.html"
    md.write_text(markdown.render(name, status) + "\n")
    page.write_text(html.render(name, status))
    return Written(markdown=md, html=page, phase=status.phase.value if status.phase else "")


def produce(
    *,
    create: Callable[[dict[str, Any]], None],
    read: Callable[[], dict[str, Any]],
    wait: Callable[[Callable[[], dict[str, Any] | None]], dict[str, Any]],
    namespace: str,
    into: Path,
) -> Written:
    """Ask the operator for the report, wait until it is filled, write it: the demo's closing step."""
    create(manifest(namespace))
    return write(wait(lambda: finished(read())), into=into)
