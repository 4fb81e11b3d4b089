"""The operator image without Docker: its filesystem built as the Dockerfile builds it, run as a Pod would.

``hack/image-rehearsal.sh`` builds wheels from exactly the Docker build context (.dockerignore) and installs
them, with no source tree and no dev tools, into a fresh interpreter. The operator then runs from there in a
private mount namespace: root filesystem read-only, only an empty /tmp writable, uid/gid 65532, no new
privileges, the chart's environment, the chart's ServiceAccount token and webhook server mode with a
mounted certificate. The full remediation loop must still work.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.fixtures import tools
from tests.fixtures.helm import NEEDS_HELM, one, render

from maintenance_operator.handlers import webhooks

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hack"))
import chatapp_stack as stack_lib

pytestmark = [
    pytest.mark.e2e,
    NEEDS_HELM,
]
ROOT = Path(__file__).resolve().parents[2]
UID = 65532
# Not in the image: dev and test tools, the sources' own helpers
DEV_ONLY = ("pytest", "ruff", "mypy", "importlinter", "lupa", "chatapp_sim")


def _can_isolate() -> bool:
    """A private mount namespace with a read-only root and a uid switch (needs root)."""
    if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("setpriv")):
        return False
    probe = "mount --make-rprivate / && mount -o remount,bind,ro / && ! touch /.mo-ro-probe 2>/dev/null"
    proc = subprocess.run(
        ["unshare", "--mount", "sh", "-c", probe], capture_output=True, timeout=30, check=False
    )
    return proc.returncode == 0


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The final stage's interpreter (a venv holding only the installed wheels)."""
    out = tmp_path_factory.mktemp("image")
    proc = subprocess.run(
        [str(ROOT / "hack" / "image-rehearsal.sh"), str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return Path(proc.stdout.strip().splitlines()[-1])


def _site_packages(image: Path) -> Path:
    found = list(image.glob("lib/python3*/site-packages"))
    assert len(found) == 1, found
    return found[0]


def test_image_holds_the_runtime_and_nothing_else(image: Path) -> None:
    site = _site_packages(image)
    installed = {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}
    constraints = {
        line.split("==")[0].strip().lower().replace("-", "_")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    assert "maintenance_operator" in installed
    # every installed distribution is pinned by constraints.txt (nothing floats in the image)
    assert {name.replace("-", "_") for name in installed} - {"maintenance_operator"} <= constraints
    for tool in DEV_ONLY:
        assert not (site / tool).exists(), f"{tool} must not be in the image"
    # every module of the package made it into the wheel
    sources = {p.relative_to(ROOT / "operator") for p in (ROOT / "operator").rglob("*.py")}
    packaged = {p.relative_to(site) for p in (site / "maintenance_operator").rglob("*.py")}
    assert sources == packaged


def _chart_env(namespace: str) -> dict[str, str]:
    """The operator container's literal env from the chart (secret refs are set by the caller)."""
    docs = render("--set", f"watchNamespaces[0]={namespace}", namespace=namespace)
    container = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: str(e["value"]) for e in container["env"] if "value" in e}


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """The operator's loopback certificate (SAN IP 127.0.0.1), placed where the Pod's volume would be."""
    directory.mkdir(parents=True)
    made = webhooks.self_signed_certificate("127.0.0.1")
    cert, key = directory / "tls.crt", directory / "tls.key"
    shutil.copy(made[0], cert)
    shutil.copy(made[1], key)
    return cert, key


def _self_contained(kubeconfig: dict[str, Any]) -> dict[str, Any]:
    """Embed file references (the Pod sees none of this machine's files; in-cluster they are mounted)."""
    for entry in kubeconfig["clusters"]:
        cluster = entry["cluster"]
        if "certificate-authority" in cluster:
            ca = Path(cluster.pop("certificate-authority")).read_bytes()
            cluster["certificate-authority-data"] = base64.b64encode(ca).decode()
    return kubeconfig


class Sandbox:
    """/tmp of the Pod (an emptyDir) and the command that runs the image's interpreter as the Pod would."""

    def __init__(self, image: Path, tmp: Path, *, isolate: bool) -> None:
        self.image = image
        self.tmp = tmp
        self.isolate = isolate
        tmp.mkdir(parents=True)
        if isolate:
            os.chown(tmp, UID, UID)

    def path(self, inside: str) -> Path:
        """Where a path under the Pod's /tmp lives on this machine."""
        return self.tmp / Path(inside).relative_to("/tmp")

    def inside(self, path: Path) -> str:
        return "/tmp/" + str(path.relative_to(self.tmp)) if self.isolate else str(path)

    def command(self, *args: str) -> list[str]:
        if not self.isolate:
            return [str(self.image / "bin" / "python"), *args]
        # The image lives at /opt/mo (read-only), /tmp is the only writable place, then drop to 65532.
        script = " && ".join(
            [
                "mount --make-rprivate /",
                f"mount --bind {shlex.quote(str(self.image.parent))} /opt",
                f"mount --bind {shlex.quote(str(self.tmp))} /tmp",
                "mount -o remount,bind,ro /opt",
                "mount -o remount,bind,ro /",
                "cd /tmp",
                f"exec setpriv --reuid={UID} --regid={UID} --clear-groups --no-new-privs "
                f"/opt/{self.image.name}/bin/python " + " ".join(shlex.quote(a) for a in args) + ' "$@"',
            ]
        )
        # one process throughout (unshare, sh, setpriv exec in turn): signals reach python; appended
        # arguments reach it through "$@"
        return ["unshare", "--mount", "sh", "-c", script, "sh"]


@pytest.fixture
def sandbox(image: Path, tmp_path: Path) -> Iterator[Sandbox]:
    isolate = _can_isolate()
    if not isolate and os.environ.get("CI"):
        print("no mount namespace here: the image runs without a read-only root or a uid switch")
    yield Sandbox(image, tmp_path / "pod-tmp", isolate=isolate)


def test_isolation_is_real(sandbox: Sandbox) -> None:
    if not sandbox.isolate:
        if os.geteuid() == 0 and not (shutil.which("unshare") and shutil.which("setpriv")):
            tools.tool_missing("unshare and setpriv (util-linux) for a private mount namespace")
        pytest.skip("needs root and a private mount namespace (a privilege, not a tool)")
    probe = (
        "import os, pathlib\n"
        "print(os.getuid(), os.getgid())\n"
        "for p in ('/etc/mo-probe', '/opt/mo-probe', '/tmp/mo-probe'):\n"
        "    try:\n"
        "        pathlib.Path(p).write_text('x'); print(p, 'writable')\n"
        "    except OSError as e:\n"
        "        print(p, type(e).__name__)\n"
    )
    proc = subprocess.run(
        sandbox.command("-c", probe), capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"{UID} {UID}"
    assert "/etc/mo-probe OSError" in lines or "/etc/mo-probe PermissionError" in lines
    assert not any(line.startswith("/opt/mo-probe writable") for line in lines)
    assert "/tmp/mo-probe writable" in lines
    assert sandbox.path("/tmp/mo-probe").exists()


def test_remediation_loop_runs_from_the_image(
    local_cluster: Any, namespace: str, kube_api: Any, sa_kubeconfig: Path, sandbox: Sandbox
) -> None:
    kubeconfig = sandbox.path("/tmp/kubeconfig")
    kubeconfig.write_text(yaml.safe_dump(_self_contained(yaml.safe_load(sa_kubeconfig.read_text()))))
    cert, key = _self_signed(sandbox.path("/tmp/webhook-tls"))
    if sandbox.isolate:
        for path in (kubeconfig, cert, key, cert.parent):
            os.chown(path, UID, UID)
    liveness, webhook = stack_lib._free_port(), stack_lib._free_port()
    env = {
        **_chart_env(namespace),
        "HOME": "/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "KUBECONFIG": sandbox.inside(kubeconfig),
        "MAINTENANCE_OPERATOR_PROMETHEUS_URL": local_cluster.prometheus_url,
        "MAINTENANCE_OPERATOR_METRICS_PORT": "0",
        "MAINTENANCE_OPERATOR_LIVENESS_ENDPOINT": f"http://127.0.0.1:{liveness}/healthz",
        "MAINTENANCE_OPERATOR_WEBHOOK_MODE": "server",
        "MAINTENANCE_OPERATOR_WEBHOOK_HOST": "127.0.0.1",
        "MAINTENANCE_OPERATOR_WEBHOOK_PORT": str(webhook),
        "MAINTENANCE_OPERATOR_WEBHOOK_CERT_FILE": sandbox.inside(cert),
        "MAINTENANCE_OPERATOR_WEBHOOK_KEY_FILE": sandbox.inside(key),
    }
    assert env["MAINTENANCE_OPERATOR_NAMESPACES"] == namespace
    stack = stack_lib.Stack(
        kubeconfig=str(sa_kubeconfig),
        prometheus_url=local_cluster.prometheus_url,
        simulator_url=local_cluster.simulator_url,
        operator_metrics_port=None,
    )
    stack_lib.prepare_leak_check(kube_api, stack, namespace)
    log_path = sandbox.tmp.parent / "operator.log"
    operator = stack_lib.OperatorProcess(
        stack,
        namespaces=[namespace],
        log_path=log_path,
        extra_env=env,
        command=sandbox.command("-m", "maintenance_operator", "run"),
    ).start()
    try:
        healthy = stack_lib.wait_for(
            lambda: _get(f"http://127.0.0.1:{liveness}/healthz"), timeout=60, what="kopf liveness"
        )
        assert healthy == 200
        # the admission server starts after the startup handlers: wait for its TLS handshake
        version = stack_lib.wait_for(lambda: _tls_version(webhook, cert), timeout=60, what="webhook TLS")
        assert version.startswith("TLS")
        rem = stack_lib.leak_until_remediated(kube_api, stack, namespace, "image-check")
        assert operator.alive(), "the operator exited"
    finally:
        operator.stop()
        stack_lib.clear_faults(stack)
        stack_lib.delete_namespace(kube_api, namespace)
    # SIGTERM reached the operator itself: nothing of it outlives the test
    leftover = subprocess.run(
        ["pgrep", "-f", f"maintenance_operator run -n {namespace}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert leftover.stdout == "", leftover.stdout
    log = log_path.read_text(errors="replace")
    assert rem["status"]["phase"] == "Succeeded", rem["status"]
    assert [a["type"] for a in rem["spec"]["plan"]["actions"]] == ["RolloutRestart"]
    for symptom in (
        "Read-only file system",
        "PermissionError",
        "Permission denied",
        "Forbidden",
        "Traceback",
    ):
        assert symptom not in log, log[-3000:]
    # JSON logs, as the chart configures them
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert records and all("message" in r for r in records[:20])
    # Its writable /tmp holds what it was given plus, at most, the kubernetes client's copy of the
    # kubeconfig's CA certificate: no token, no key, no cache.
    given = {"kubeconfig", "webhook-tls"}
    written = [p for p in sandbox.tmp.iterdir() if p.name not in given]
    for path in written:
        assert path.is_file() and path.read_text().startswith("-----BEGIN CERTIFICATE-----"), path
    assert len(written) <= 2, written


def _tls_version(port: int, cert: Path) -> str | None:
    context = ssl.create_default_context(cafile=str(cert))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        return tls.version()


def _get(url: str) -> int | None:
    import urllib.request

    with urllib.request.urlopen(url, timeout=2) as response:
        return int(response.status)


def test_chart_env_is_what_the_operator_reads(image: Path, sandbox: Sandbox) -> None:
    """The image's own config loader accepts the chart's environment as is."""
    env = {**_chart_env("shop"), "MAINTENANCE_OPERATOR_WEBHOOK_MODE": "none"}
    code = "from maintenance_operator.config import OperatorConfig as C; print(C.from_env().namespaces)"
    proc = subprocess.run(
        sandbox.command("-c", code), capture_output=True, text=True, timeout=60, check=False, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert "shop" in proc.stdout
