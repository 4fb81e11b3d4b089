"""The Dockerfile's shape: multi-stage, wheels only in the final stage, non-root, the operator entry point."""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def _stages() -> list[list[str]]:
    lines: list[str] = []
    stages: list[list[str]] = []
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("FROM "):
            lines = []
            stages.append(lines)
        if line and not line.startswith("#"):
            lines.append(line)
    return stages


def test_two_stages_on_python_311_slim() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    # By default the builder is the same python:3.11-slim; offline builds pass one holding a wheelhouse.
    assert "ARG BUILDER_IMAGE=${PYTHON_IMAGE}" in text
    stages = _stages()
    assert [s[0].split()[1] for s in stages] == ["${BUILDER_IMAGE}", "${PYTHON_IMAGE}"]
    assert any("pip wheel" in line for line in stages[0])


def test_final_stage_is_non_root_without_build_tools() -> None:
    final = _stages()[-1]
    joined = "\n".join(final)
    assert "USER 65532:65532" in final
    assert "--no-index" in joined
    for tool in ("apt-get", "gcc", "build-essential", "COPY . "):
        assert tool not in joined
    entrypoint = next(line for line in final if line.startswith("ENTRYPOINT"))
    assert json.loads(entrypoint.removeprefix("ENTRYPOINT")) == [
        "python",
        "-m",
        "maintenance_operator",
        "run",
    ]


def test_dockerignore_sends_only_the_sources() -> None:
    lines = [ln for ln in (REPO / ".dockerignore").read_text().splitlines() if ln and not ln.startswith("#")]
    assert lines[0] == "*"
    assert {"!pyproject.toml", "!constraints.txt", "!operator/"} <= set(lines)


def test_image_rehearsal_follows_the_dockerfile() -> None:
    """hack/image-rehearsal.sh lays out the image without Docker; it must run the Dockerfile's own steps."""
    dockerfile = re.sub(r"\\\n\s*", "", (REPO / "Dockerfile").read_text())
    rehearsal = (REPO / "hack" / "image-rehearsal.sh").read_text()
    steps = [
        (
            "pip wheel --wheel-dir /wheels --constraint constraints.txt .",
            'wheel -q --wheel-dir "$out/wheels" --constraint constraints.txt .',
        ),
        (
            "pip install --no-index --find-links=/wheels /wheels/*.whl",
            'install -q --no-index --find-links="$out/wheels" "$out"/wheels/*.whl',
        ),
        ("python -m compileall -q", "-m compileall -q"),
        ("COPY pyproject.toml constraints.txt ./", "cp pyproject.toml constraints.txt"),
        ("COPY operator/ operator/", "cp -r operator"),
    ]
    for in_dockerfile, in_rehearsal in steps:
        assert in_dockerfile in dockerfile
        assert in_rehearsal in rehearsal
    assert "USER 65532:65532" in dockerfile
    assert "UID = 65532" in (REPO / "tests" / "e2e" / "test_image_rehearsal.py").read_text()
