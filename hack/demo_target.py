"""Which cluster `make demo` runs on: kind (real Pods) when a Docker engine is there, else the local one.

    python3 hack/demo_target.py     prints the path ("kind" or "local") and, on the next line, why

MO_DEMO_TARGET=kind|local forces a path (`make demo-kind`, `make demo-local`); unset or "auto" chooses:
kind when a Docker engine answers (DOCKER_HOST, the default socket, or the private engine of
hack/images/dockerd.sh), or when running as root, where hack/images/dockerd.sh installs Debian's docker.io
if needed and starts a private engine; otherwise the local cluster (kwok nodes, no Docker needed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import docker_engine

SETTING = "MO_DEMO_TARGET"
KIND, LOCAL = "kind", "local"


@dataclass(frozen=True)
class Choice:
    path: str
    reason: str

    @property
    def other(self) -> str:
        return LOCAL if self.path == KIND else KIND

    def force_other(self) -> str:
        return f"{SETTING}={self.other} make demo (or make demo-{self.other})"


def choose(*, forced: str, engine_answers: bool, root: bool) -> Choice:
    """The demo's path from the setting, whether a Docker engine answers and whether we run as root."""
    setting = forced.strip().lower()
    if setting in (KIND, LOCAL):
        return Choice(setting, f"forced by {SETTING}={setting}")
    if setting not in ("", "auto"):
        raise ValueError(f"{SETTING}={forced!r}: use kind, local or auto")
    if engine_answers:
        return Choice(KIND, "a Docker engine answers")
    if root:
        return Choice(
            KIND, "no Docker engine answers, but as root hack/images/dockerd.sh starts a private one"
        )
    return Choice(LOCAL, "no Docker engine answers and not root (hack/images/dockerd.sh cannot start one)")


def engine_answers(*, cache_dir: Path) -> bool:
    """`docker info` succeeds against DOCKER_HOST (or the default socket), or the private engine's socket."""
    docker = _client()
    if not docker:
        return False
    hosts = [os.environ.get("DOCKER_HOST", "")]
    private = cache_dir / "docker" / "docker.sock"
    if private.is_socket():
        hosts.append(f"unix://{private}")
    for host in hosts:
        env = docker_engine.environment(host)
        try:
            proc = subprocess.run([docker, "info"], env=env, capture_output=True, timeout=20, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if proc.returncode == 0:
            return True
    return False


def _client() -> str | None:
    """The Docker client hack/images/dockerd.sh uses: Debian's where installed, else the first on PATH."""
    return "/usr/bin/docker" if os.access("/usr/bin/docker", os.X_OK) else shutil.which("docker")


def main() -> int:
    cache = Path(os.environ.get("MO_CACHE_DIR") or Path.home() / ".cache" / "maintenance-operator")
    forced = os.environ.get(SETTING, "")
    try:
        # a forced path needs no probe
        answers = forced.strip().lower() not in (KIND, LOCAL) and engine_answers(cache_dir=cache)
        choice = choose(forced=forced, engine_answers=answers, root=os.geteuid() == 0)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(choice.path)
    print(f"{choice.reason}; to run the other path: {choice.force_other()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
