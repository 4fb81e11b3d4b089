"""The Docker engine hack/images/dockerd.sh names: a running one, or the private engine it starts.

`dockerd.sh env [--privileged]` prints `export DOCKER_HOST=…`; an empty value means the default socket.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

DOCKERD = Path(__file__).resolve().parent / "images" / "dockerd.sh"


def parse_host(stdout: str) -> str:
    """DOCKER_HOST from dockerd.sh's output; "" for the default socket."""
    match = re.search(r"^export DOCKER_HOST=(\S*)\s*$", stdout, re.MULTILINE)
    if match is None:
        raise ValueError(f"dockerd.sh printed no DOCKER_HOST line: {stdout.strip()[-400:]!r}")
    return match.group(1)


def host(*, privileged: bool = False, timeout: float = 600) -> str:
    """DOCKER_HOST of an engine that answers; --privileged asks for one that can run kind's node."""
    args = [str(DOCKERD), "env", *(["--privileged"] if privileged else [])]
    out = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=True).stdout
    return parse_host(out)


def environment(docker_host: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) with DOCKER_HOST set to `docker_host`, or removed when
    that is "" (the default socket)."""
    env = dict(os.environ if base is None else base)
    if docker_host:
        env["DOCKER_HOST"] = docker_host
    else:
        env.pop("DOCKER_HOST", None)
    return env
