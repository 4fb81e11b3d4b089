"""The operator image, built by `docker build` from the repository's Dockerfile (hack/images/operator.sh).

Without a registry the script stands local images in for python:3.11-slim and for pip's index; what runs
here is the image a cluster would pull: its user, entry point, interpreter and installed operator.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures import tools

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hack"))
import docker_engine

# The first build on a machine makes every input (about 9 minutes on 2 busy cores): above the default 600 s.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]
TAG = "maintenance-operator:e2e"
DOCKERD = ROOT / "hack" / "images" / "dockerd.sh"


def _private_dockerd_running() -> bool:
    cache = Path(os.environ.get("MO_CACHE_DIR", Path.home() / ".cache" / "maintenance-operator"))
    pid = cache / "docker" / "dockerd.pid"
    return pid.is_file() and Path(f"/proc/{pid.read_text().strip()}").exists()


@pytest.fixture(scope="module")
def docker_env() -> Iterator[dict[str, str]]:
    """DOCKER_HOST of a running engine; a private one is started if none runs, and stopped afterwards."""
    started_here = not _private_dockerd_running()
    proc = subprocess.run([str(DOCKERD), "env"], capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        tools.tool_missing(f"no Docker engine and none could be started: {proc.stderr.strip()[-400:]}")
    yield docker_engine.environment(docker_engine.parse_host(proc.stdout))
    if started_here and _private_dockerd_running():
        subprocess.run([str(DOCKERD), "stop"], timeout=120, check=False)


@pytest.fixture(scope="module")
def image(docker_env: dict[str, str]) -> str:
    """Build (inputs cached after the first run) and return the tag."""
    proc = subprocess.run(
        [str(ROOT / "hack" / "images" / "operator.sh"), TAG],
        env=docker_env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return TAG


def docker(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["docker", *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, f"docker {' '.join(args)}:\n{proc.stderr}"
    return proc


def test_image_config_is_the_dockerfiles(image: str, docker_env: dict[str, str]) -> None:
    [info] = json.loads(docker(docker_env, "image", "inspect", image).stdout)
    config: dict[str, Any] = info["Config"]
    assert config["User"] == "65532:65532"
    assert config["Entrypoint"] == ["python", "-m", "maintenance_operator", "run"]
    assert set(config["ExposedPorts"]) == {"8080/tcp", "8081/tcp", "9443/tcp"}
    env = dict(e.split("=", 1) for e in config["Env"])
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["MALLOC_ARENA_MAX"] == "2", "users get the measured malloc setting without the chart too"
    assert "PIP_FIND_LINKS" not in env, "the builder's wheelhouse settings must not reach the final image"


def test_the_operator_runs_from_the_image_as_non_root(image: str, docker_env: dict[str, str]) -> None:
    out = docker(docker_env, "run", "--rm", "--read-only", "--tmpfs", "/tmp", image, "--help").stdout
    assert "--all-namespaces" in out, out
    # BuildKit leaves the bind mount's target as an empty directory: no wheel may remain in the image
    probe = (
        "import glob, os, sys, maintenance_operator.handlers, kopf;"
        "print(os.getuid(), '%d.%d' % sys.version_info[:2],"
        " len(glob.glob('/wheels/*')), os.path.exists('/wheelhouse'))"
    )
    out = docker(
        docker_env,
        "run",
        "--rm",
        "--read-only",
        "--tmpfs",
        "/tmp",
        "--entrypoint",
        "python",
        image,
        "-c",
        probe,
    ).stdout
    assert out.split() == ["65532", "3.11", "0", "False"], out
