"""The closing step of `make demo` (hack/demo_report.py): the MaintenanceReport it asks for is valid, it
waits for a filled report, and it writes Markdown and a self-contained HTML page with the demo's numbers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from maintenance_operator.api import v1alpha1 as api

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hack"))
import demo_report


def filled(phase: str = "Ready") -> dict[str, Any]:
    status = api.MaintenanceReportStatus(
        phase=api.ReportPhase(phase),
        policies=["chatapp"],
        executive_summary="5 faults, 4 fixed by verified remediations, 1 left alone.",
        remediations=[
            api.ActionEffectiveness(action="RolloutRestart", total=1, succeeded=1, success_rate=1.0),
            api.ActionEffectiveness(action="Rollback", total=1, succeeded=1, success_rate=1.0),
        ],
    )
    return {"metadata": {"name": "demo", "namespace": "chatapp-demo"}, "status": status.wire()}


def test_the_report_asked_for_is_valid() -> None:
    body = demo_report.manifest("chatapp-demo")
    assert (body["kind"], body["apiVersion"]) == ("MaintenanceReport", "maintenance.chatapp.io/v1alpha1")
    spec = api.MaintenanceReportSpec.model_validate(body["spec"])
    assert spec.policy_ref is not None and spec.policy_ref.name == "chatapp"
    assert api.parse_duration(spec.period) == 3600  # the shortest period: the demo's namespace is new


@pytest.mark.parametrize(("phase", "done"), [("Ready", True), ("Partial", True), ("Failed", False)])
def test_waits_for_a_filled_report(phase: str, done: bool) -> None:
    assert (demo_report.finished(filled(phase)) is not None) is done
    assert demo_report.finished({"metadata": {"name": "demo"}}) is None


def test_writes_markdown_and_a_self_contained_page(tmp_path: Path) -> None:
    created: list[dict[str, Any]] = []
    reads = iter([{"metadata": {"name": "demo"}}, filled("Partial")])

    def wait(probe: Any) -> dict[str, Any]:
        while (found := probe()) is None:
            pass
        return dict(found)

    written = demo_report.produce(
        create=created.append, read=lambda: next(reads), wait=wait, namespace="chatapp-demo", into=tmp_path
    )
    assert [c["metadata"]["name"] for c in created] == ["demo"]
    assert written.phase == "Partial"
    assert written.html == tmp_path / "report.html" and written.markdown == tmp_path / "report.md"
    page = written.html.read_text()
    assert "RolloutRestart" in page and "Rollback" in page and "<script" not in page
    assert "5 faults, 4 fixed" in written.markdown.read_text()
