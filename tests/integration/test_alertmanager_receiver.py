"""A real Prometheus evaluates the rules rendered from a policy's indicators and a real Alertmanager posts
them to the receiver: its v4 payload parses and its bearer token authenticates (the wrong one does not)."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import suppress
from pathlib import Path

import kopf
import pytest
from tests.fixtures.prometheus import ensure_prometheus_binary, free_port

from maintenance_operator import metrics
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import alerts as matching
from maintenance_operator.handlers import alerts

pytestmark = pytest.mark.integration
TOKEN = "integration-alert-token"


def alertmanager_binary() -> str:
    names = ("alertmanager", "prometheus-alertmanager")
    if not any(shutil.which(n) for n in names):
        with suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                ["apt-get", "install", "-y", "-qq", "prometheus-alertmanager"],
                check=False,
                capture_output=True,
                timeout=600,
            )
    found = next((shutil.which(n) for n in names if shutil.which(n)), None)
    assert found, "Alertmanager is not installed and apt-get could not install prometheus-alertmanager"
    return found


def outcome(name: str) -> float:
    labels = {"outcome": name}
    return metrics.REGISTRY.get_sample_value("maintenance_operator_alerts_received_total", labels) or 0.0


def _ready(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{process.args[0]} exited"
        with suppress(OSError), urllib.request.urlopen(url, timeout=1):
            return
        time.sleep(0.2)
    raise TimeoutError(url)


@pytest.fixture
async def receiver_port() -> AsyncIterator[int]:
    port = free_port()
    server = alerts.AlertReceivingServer(
        memo=kopf.Memo(), token=TOKEN, addr="127.0.0.1", port=port, insecure=True
    )

    async def no_admission(*_: object, **__: object) -> dict[str, object]:
        raise AssertionError("no admission request expected")

    configs = server(no_admission)
    await configs.__anext__()
    try:
        yield port
    finally:
        await configs.aclose()


@pytest.fixture
def alerting(receiver_port: int) -> Iterator[None]:
    """Prometheus with the rules of one indicator that is always breached, and Alertmanager routing every
    alert to the receiver twice: with the token and with a wrong one."""
    work = Path(tempfile.mkdtemp(prefix="mo-alerting-"))
    indicator = api.Indicator.model_validate(
        {"name": "always", "dimension": "core", "query": "vector(1)", "warning": 0.5, "critical": 2}
    )
    rules = matching.indicator_rules(
        policy="chatapp", namespace="chat", indicators=[(indicator, "vector(1)")]
    )
    (work / "rules.json").write_text(json.dumps(rules))
    am_port, prom_port = free_port(), free_port()

    def webhook(token: str) -> dict[str, object]:
        return {
            "url": f"http://127.0.0.1:{receiver_port}/{alerts.ROUTE}",
            "send_resolved": False,
            "http_config": {"authorization": {"type": "Bearer", "credentials": token}},
        }

    (work / "alertmanager.yml").write_text(
        json.dumps(
            {
                "route": {
                    "receiver": "operator",
                    "group_by": ["namespace", matching.POLICY_LABEL],
                    "group_wait": "0s",
                    "group_interval": "1s",
                    "repeat_interval": "1h",
                    "routes": [
                        {"receiver": "operator", "continue": True},
                        {"receiver": "impostor"},
                    ],
                },
                "receivers": [
                    {"name": "operator", "webhook_configs": [webhook(TOKEN)]},
                    {"name": "impostor", "webhook_configs": [webhook("not-the-token")]},
                ],
            }
        )
    )
    (work / "prometheus.yml").write_text(
        json.dumps(
            {
                "global": {"evaluation_interval": "1s"},
                "rule_files": [str(work / "rules.json")],
                "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
            }
        )
    )
    prometheus = ensure_prometheus_binary()
    assert prometheus, "Prometheus is not installed"
    log = (work / "processes.log").open("wb")
    processes = [
        subprocess.Popen(
            [
                alertmanager_binary(),
                f"--config.file={work / 'alertmanager.yml'}",
                f"--storage.path={work / 'am'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [
                prometheus,
                f"--config.file={work / 'prometheus.yml'}",
                f"--storage.tsdb.path={work / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
                # an alert evaluated before Alertmanager is discovered is dropped until the next resend
                "--rules.alert.resend-delay=1s",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        ),
    ]
    try:
        _ready(f"http://127.0.0.1:{am_port}/-/ready", processes[0])
        _ready(f"http://127.0.0.1:{prom_port}/-/ready", processes[1])
        yield
    finally:
        for process in processes:
            process.terminate()
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
            if process.poll() is None:
                process.kill()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


async def test_alertmanager_notifications_authenticate_and_parse(alerting: None) -> None:
    before = {name: outcome(name) for name in ("NotReady", "Unauthorized", "Invalid")}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if outcome("NotReady") > before["NotReady"] and outcome("Unauthorized") > before["Unauthorized"]:
            break
        await asyncio.sleep(0.5)
    # NotReady comes after authentication and parsing: this server has no API client to act with
    assert outcome("NotReady") > before["NotReady"], "no authenticated, parsed notification arrived"
    assert outcome("Unauthorized") > before["Unauthorized"], "the wrong token was not refused"
    assert outcome("Invalid") == before["Invalid"]
