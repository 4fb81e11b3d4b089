"""hack/kind/runc-capfilter: what reaches runc from a privileged OCI config on a short bounding set.

The wrapper runs for real (bash + jq) with a stand-in runc that records its arguments and the files it got.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.fixtures import tools

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = ROOT / "hack" / "kind" / "runc-capfilter"
ALL_CAPS = [
    "CAP_CHOWN",
    "CAP_KILL",
    "CAP_NET_ADMIN",
    "CAP_SYS_ADMIN",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
]
NAMES = [
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
    "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
    "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
    "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
    "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
    "CHECKPOINT_RESTORE",
]  # fmt: skip

pytestmark = tools.needs_tool(shutil.which("jq") is not None, "jq missing (apt-get install jq)")


def bounding_set() -> set[str]:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("CapBnd:"))
    mask = int(line.split()[1], 16)
    return {f"CAP_{name}" for i, name in enumerate(NAMES) if mask >> i & 1}


@pytest.fixture
def fake_runc(tmp_path: Path) -> Path:
    """A runc that writes its argv, one per line, to runc.args."""
    runc = tmp_path / "runc"
    runc.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {tmp_path}/runc.args\n')
    runc.chmod(runc.stat().st_mode | stat.S_IXUSR)
    return runc


def run(fake_runc: Path, *args: str) -> list[str]:
    subprocess.run(
        [str(WRAPPER), *args], env={**os.environ, "MO_RUNC": str(fake_runc)}, check=True, timeout=30
    )
    return (fake_runc.parent / "runc.args").read_text().splitlines()


def test_create_keeps_only_bounding_set_caps_and_clamps_oom_score(fake_runc: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    caps = {k: list(ALL_CAPS) for k in ("bounding", "effective", "permitted", "inheritable", "ambient")}
    config = {"ociVersion": "1.0.2", "process": {"oomScoreAdj": -998, "capabilities": caps}, "root": {}}
    (bundle / "config.json").write_text(json.dumps(config))
    args = ["--root", "/run/x", "--log", "/tmp/log.json", "create", "--bundle", str(bundle), "id1"]

    assert run(fake_runc, *args) == args

    got = json.loads((bundle / "config.json").read_text())
    allowed = bounding_set()
    expected = [c for c in ALL_CAPS if c in allowed]
    assert got["process"]["capabilities"] == dict.fromkeys(caps, expected)
    assert got["process"]["oomScoreAdj"] == 0
    assert got["root"] == {} and got["ociVersion"] == "1.0.2"
    if "CAP_SYS_RESOURCE" not in allowed:  # this host: the case the wrapper exists for
        assert "CAP_SYS_RESOURCE" not in got["process"]["capabilities"]["bounding"]


def test_exec_filters_the_process_file_and_keeps_a_positive_oom_score(
    fake_runc: Path, tmp_path: Path
) -> None:
    process = tmp_path / "process.json"
    process.write_text(
        json.dumps({"args": ["sh"], "oomScoreAdj": 500, "capabilities": {"bounding": ALL_CAPS}})
    )

    run(fake_runc, "exec", "--process", str(process), "id1")

    got = json.loads(process.read_text())
    assert got["capabilities"]["bounding"] == [c for c in ALL_CAPS if c in bounding_set()]
    assert got["oomScoreAdj"] == 500 and got["args"] == ["sh"]


def test_other_commands_pass_through_untouched(
    fake_runc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.json").write_text('{"process": {"oomScoreAdj": -998}}')
    monkeypatch.chdir(tmp_path)

    assert run(fake_runc, "state", "id1") == ["state", "id1"]
    assert (tmp_path / "config.json").read_text() == '{"process": {"oomScoreAdj": -998}}'
