"""Which cluster `make demo` runs on (hack/demo_target.py): kind when Docker is there or can be started,
else the local cluster; MO_DEMO_TARGET forces either, and every choice says why and how to force the other."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hack"))
import demo_target


@pytest.mark.parametrize(
    ("forced", "answers", "root", "path", "reason"),
    [
        ("", True, False, "kind", "a Docker engine answers"),
        ("auto", True, True, "kind", "a Docker engine answers"),
        ("", False, True, "kind", "as root hack/images/dockerd.sh starts a private one"),
        ("", False, False, "local", "no Docker engine answers and not root"),
        ("AUTO", False, False, "local", "no Docker engine answers and not root"),
        ("kind", False, False, "kind", "forced by MO_DEMO_TARGET=kind"),
        (" Kind ", False, False, "kind", "forced by MO_DEMO_TARGET=kind"),
        ("local", True, True, "local", "forced by MO_DEMO_TARGET=local"),
    ],
)
def test_the_path_follows_the_setting_then_docker_then_root(
    forced: str, answers: bool, root: bool, path: str, reason: str
) -> None:
    choice = demo_target.choose(forced=forced, engine_answers=answers, root=root)
    assert choice.path == path
    assert reason in choice.reason


@pytest.mark.parametrize(("path", "other"), [("kind", "local"), ("local", "kind")])
def test_every_choice_says_how_to_force_the_other_path(path: str, other: str) -> None:
    choice = demo_target.choose(forced=path, engine_answers=False, root=False)
    assert choice.other == other
    assert choice.force_other() == f"MO_DEMO_TARGET={other} make demo (or make demo-{other})"


@pytest.mark.parametrize("forced", ["kwok", "docker", "yes"])
def test_an_unknown_setting_is_refused_with_the_valid_values(forced: str) -> None:
    with pytest.raises(ValueError, match="use kind, local or auto"):
        demo_target.choose(forced=forced, engine_answers=True, root=True)


def test_no_engine_answers_where_no_docker_client_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a docker client that always fails stands for an engine that does not answer
    fake = tmp_path / "bin" / "docker"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(demo_target, "_client", lambda: str(fake))
    assert demo_target.engine_answers(cache_dir=tmp_path) is False
    fake.write_text('#!/bin/sh\n[ "$1" = info ] && [ "$DOCKER_HOST" = tcp://engine:2375 ]\n')
    monkeypatch.setenv("DOCKER_HOST", "tcp://engine:2375")
    assert demo_target.engine_answers(cache_dir=tmp_path) is True
    monkeypatch.setattr(demo_target, "_client", lambda: None)
    assert demo_target.engine_answers(cache_dir=tmp_path) is False
