"""hack/docker_engine.py: reading hack/images/dockerd.sh's answer."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hack"))

import docker_engine


@pytest.mark.parametrize(
    ("stdout", "host"),
    [
        (
            "export DOCKER_HOST=unix:///root/.cache/maintenance-operator/docker/docker.sock\n",
            "unix:///root/.cache/maintenance-operator/docker/docker.sock",
        ),
        ("export DOCKER_HOST=\n", ""),
        ("export DOCKER_HOST=tcp://10.0.0.2:2376", "tcp://10.0.0.2:2376"),
    ],
)
def test_the_host_is_read_from_the_export_line(stdout: str, host: str) -> None:
    assert docker_engine.parse_host(stdout) == host


def test_output_without_an_export_line_is_an_error_naming_what_was_printed() -> None:
    with pytest.raises(ValueError, match=re.escape("no DOCKER_HOST line: 'usage: dockerd.sh'")):
        docker_engine.parse_host("usage: dockerd.sh\n")


def test_a_host_is_set_in_the_environment_and_the_default_socket_leaves_it_unset() -> None:
    base = {"PATH": "/usr/bin", "DOCKER_HOST": "unix:///stale.sock"}
    assert docker_engine.environment("unix:///new.sock", base) == {
        "PATH": "/usr/bin",
        "DOCKER_HOST": "unix:///new.sock",
    }
    assert docker_engine.environment("", {"PATH": "/usr/bin"}) == {"PATH": "/usr/bin"}
    assert docker_engine.environment("", base) == {"PATH": "/usr/bin"}, (
        "the default socket: a stale host goes"
    )
    assert base["DOCKER_HOST"] == "unix:///stale.sock"
