"""The Dockerfile passes BuildKit's parser and `docker build --check` lint rules (hack/dockerfile-check.sh).

The checker is a small Go program built once from pinned buildkit modules into
~/.cache/maintenance-operator/bin/; it needs no Docker engine. Warnings count as failures.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest

from tests.fixtures import tools

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "hack" / "dockerfile-check.sh"
CACHE = Path(os.environ.get("MO_CACHE_DIR", Path.home() / ".cache" / "maintenance-operator"))

_HAVE_GO = shutil.which("go") is not None or Path("/usr/local/go/bin/go").is_file()
_CACHED = any(CACHE.glob("bin/dockerfile-check-*/dockerfile-check"))
pytestmark = tools.needs_tool(
    _HAVE_GO or _CACHED, "no go toolchain to build hack/dockerfile-check and no cached binary"
)

Report = dict[str, Any]


def run_check(dockerfile: Path) -> tuple[int, Report]:
    """Run the checker; the first call may build it (about a minute cold)."""
    proc = subprocess.run(
        [str(SCRIPT), str(dockerfile)], capture_output=True, text=True, timeout=540, check=False
    )
    assert proc.returncode in (0, 1), f"checker did not run (rc={proc.returncode}):\n{proc.stderr}"
    return proc.returncode, cast(Report, json.loads(proc.stdout))


@pytest.fixture(scope="module")
def repo_report() -> tuple[int, Report]:
    return run_check(REPO / "Dockerfile")


def test_dockerfile_has_no_buildkit_errors_or_warnings(repo_report: tuple[int, Report]) -> None:
    rc, report = repo_report
    assert report["errors"] == []
    assert report["warnings"] == []
    assert rc == 0


def test_dockerfile_stages_as_buildkit_sees_them(repo_report: tuple[int, Report]) -> None:
    _, report = repo_report
    stages = report["stages"]
    assert len(stages) == 2
    builder, final = stages
    assert builder["name"] == "builder"
    assert builder["base"] == "${BUILDER_IMAGE}"
    assert final["base"] == "${PYTHON_IMAGE}"
    assert "RUN" in builder["commands"]
    assert {"USER", "ENTRYPOINT"} <= set(final["commands"])
    assert final["commands"][-1] == "ENTRYPOINT"


def _messages(report: Report) -> str:
    return "\n".join(f"{e['source']}: {e['message']}" for e in report["errors"])


def _rules(report: Report) -> set[str]:
    return {w["rule"] for w in report["warnings"]}


def test_renaming_the_builder_stage_breaks_the_wheel_mount(tmp_path: Path) -> None:
    text = (REPO / "Dockerfile").read_text()
    assert " AS builder" in text
    broken = tmp_path / "Dockerfile"
    broken.write_text(text.replace(" AS builder", " AS wheels"))
    rc, report = run_check(broken)
    assert rc == 1
    assert 'RUN --mount from=builder: "builder" is not a stage of this Dockerfile' in _messages(report)


@pytest.mark.parametrize(
    ("dockerfile", "expected_error", "expected_rule"),
    [
        pytest.param(
            "FROM alpine:3.20 AS base\nRUN --mount=type=bind,from=nosuchstage,source=/w,target=/w true\n",
            'from=nosuchstage: "nosuchstage" is not a stage of this Dockerfile (earlier stages: none)',
            None,
            id="mount-from-missing-stage",
        ),
        pytest.param(
            "FROM alpine:3.20 AS base\nCOPY --from=later /a /b\nFROM alpine:3.20 AS later\n",
            'COPY --from=later: "later" is a later stage',
            None,
            id="copy-from-later-stage",
        ),
        pytest.param(
            "FROM ${UNDECLARED}\nRUN true\n",
            "ARG UNDECLARED is not declared before the first FROM",
            "UndefinedArgInFrom",
            id="undeclared-arg-in-from",
        ),
        pytest.param(
            "FROM alpine:3.20 as base\nRUN true\n",
            None,
            "FromAsCasing",
            id="from-as-casing",
        ),
        pytest.param(
            "FROM alpine:3.20\nRUN --mount=type=bind,frm=x,target=/x true\n",
            "unexpected key 'frm' in 'frm=x' (did you mean from?)",
            None,
            id="bad-mount-option",
        ),
        pytest.param(
            "FROM alpine:3.20\nRUNN true\n",
            "unknown instruction: RUNN (did you mean RUN?)",
            None,
            id="unknown-instruction",
        ),
        pytest.param(
            "FROM alpine:3.20\nENV PATH=/opt/bin:$PTH\n",
            None,
            "UndefinedVar",
            id="undefined-variable",
        ),
    ],
)
def test_broken_dockerfiles_fail(
    tmp_path: Path, dockerfile: str, expected_error: str | None, expected_rule: str | None
) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(dockerfile)
    rc, report = run_check(path)
    assert rc == 1
    if expected_error is None:
        assert report["errors"] == []
    else:
        assert expected_error in _messages(report)
    if expected_rule is None:
        assert report["warnings"] == []
    else:
        assert expected_rule in _rules(report)
