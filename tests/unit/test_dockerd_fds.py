"""hack/images/dockerd.sh starts the private engine with none of its caller's descriptors: an inherited lock
(hack/kind/up.sh holds its cluster's while it asks for the engine) would outlive the caller in the engine,
and the next up or down of that cluster would wait for it until its timeout."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERD = ROOT / "hack" / "images" / "dockerd.sh"

SCRIPT = r"""
set -euo pipefail
eval "$(sed -n '/^close_inherited_fds() {/,/^}/p' "$1")"
exec 9>"$2"
flock 9
exec 7<"$1"
( close_inherited_fds; exec sleep 30 ) &
child=$!
sleep 0.3
ls /proc/$child/fd | sort -n | tr '\n' ' '
echo
exec 9>&-
flock -n "$2" true && echo "lock free while the child lives"
kill $child
"""


def test_the_engine_keeps_none_of_its_callers_descriptors(tmp_path: Path) -> None:
    proc = subprocess.run(
        ["bash", "-c", SCRIPT, "test", str(DOCKERD), str(tmp_path / "cluster.lock")],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    fds, verdict = proc.stdout.splitlines()
    assert fds.split() == ["0", "1", "2"], proc.stdout
    assert verdict == "lock free while the child lives"


def test_the_launch_runs_dockerd_through_it() -> None:
    text = DOCKERD.read_text()
    launch = text[text.index("launch_private() {") :]
    launch = launch[: launch.index("\n}\n")]
    assert "close_inherited_fds" in launch and "exec setsid dockerd" in launch
