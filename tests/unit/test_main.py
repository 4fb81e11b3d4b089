"""`python -m maintenance_operator report`: Markdown on stdout, or one HTML file; clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from maintenance_operator import __main__ as cli
from tests.fixtures import report_cases


def write_report(path: Path, *, as_list: bool = False) -> Path:
    obj = {
        "apiVersion": "maintenance.chatapp.io/v1alpha1",
        "kind": "MaintenanceReport",
        "metadata": {"name": "chatapp-weekly"},
        "spec": {"policyRef": {"name": "chatapp"}},
        "status": report_cases.full().wire(),
    }
    doc = {"apiVersion": "v1", "kind": "List", "items": [obj, obj]} if as_list else obj
    path.write_text(yaml.safe_dump(doc))
    return path


def test_prints_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(write_report(tmp_path / "r.yaml"))]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Maintenance report: chatapp-weekly")
    assert "| RolloutRestart | 2 | 1 | 1 | 0 | 50% |" in out


def test_list_prints_every_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(write_report(tmp_path / "r.yaml", as_list=True))]) == 0
    assert capsys.readouterr().out.count("# Maintenance report: chatapp-weekly") == 2


def test_writes_html(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert cli.main(["report", str(write_report(tmp_path / "r.yaml")), "--html", str(out)]) == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("kind: MaintenancePolicy\n", "no MaintenanceReport in the file"),
        ("kind: MaintenanceReport\nstatus: {phase: Bogus}\n", "phase"),
        ("{{", "cannot read"),
    ],
)
def test_bad_input_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(content)
    assert cli.main(["report", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(tmp_path / "absent.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err
