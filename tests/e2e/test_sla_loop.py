"""Response SLAs on the local cluster with the operator as a real process: a fixed fault carries detectedAt,
respondedAt and resolvedAt; an approval that expires past the resolution deadline escalates exactly once;
a loopback webhook receiver gets the notices; `kubectl maintenance ack` acknowledges the escalation."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hack"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_remediation_loop as loop
from test_remediation_loop import app, stack  # noqa: F401 - fixtures shared with the loop

import chatapp_stack as stack_lib

pytestmark = pytest.mark.e2e


class Receiver:
    """A webhook receiver on loopback that records every JSON body posted to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of(self, name: str) -> list[str]:
        """Event types received about the object `name`, in order."""
        return [b.get("type", "") for b in self.bodies if b.get("name") == name]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()


@pytest.fixture
def operator(
    stack: stack_lib.Stack,  # noqa: F811 - the imported fixture, injected by name
    app: str,  # noqa: F811
    kube_api: Any,
    receiver: Receiver,
    tmp_path: Path,
) -> Iterator[stack_lib.OperatorProcess]:
    client.CoreV1Api(kube_api).create_namespaced_secret(
        app,
        client.V1Secret(metadata=client.V1ObjectMeta(name="hook"), string_data={"url": receiver.url}),
    )
    process = stack_lib.OperatorProcess(
        stack,
        namespaces=[app],
        log_path=tmp_path / "operator.log",
        extra_env={
            "MAINTENANCE_OPERATOR_NOTIFY_WEBHOOK_SECRET": f"{app}/hook/url",
            "MAINTENANCE_OPERATOR_NOTIFY_FORMAT": "generic",
        },
    ).start()
    yield process
    process.stop()
    stack_lib.delete_namespace(stack.api(), app)
    log = (tmp_path / "operator.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-4000:]
    assert receiver.url not in log, "the webhook URL is a secret: never logged"


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_a_fixed_fault_records_when_it_was_detected_answered_and_resolved(
    stack: stack_lib.Stack,  # noqa: F811
    app: str,  # noqa: F811
    kube_api: Any,
    operator: stack_lib.OperatorProcess,
    receiver: Receiver,
) -> None:
    loop.policy(kube_api, app)
    stack_lib.inject(stack, {"type": "memory_leak", "namespace": app, "bytesPerSecond": 40_000_000})
    time.sleep(10)
    loop.assess(kube_api, app)
    name = loop.remediation_for(kube_api, app, "memory-usage")["metadata"]["name"]
    rem = loop.wait_terminal(kube_api, app, name)
    status = rem["status"]
    assert status["phase"] == "Succeeded", status
    detected = _when(rem["spec"]["issue"]["detectedAt"])
    responded, resolved = _when(status["respondedAt"]), _when(status["resolvedAt"])
    assert detected <= responded <= resolved
    assert _when(status["responseDue"]) == _when(status["resolutionDue"])  # critical: 15m for both
    assert (_when(status["responseDue"]) - detected).total_seconds() == 900
    stack_lib.wait_for(
        lambda: "RemediationOutcome" in receiver.of(name), timeout=30, what="the outcome notification"
    )


def test_an_expired_approval_escalates_once_and_is_acknowledged(
    stack: stack_lib.Stack,  # noqa: F811
    app: str,  # noqa: F811
    kube_api: Any,
    operator: stack_lib.OperatorProcess,
    receiver: Receiver,
) -> None:
    loop.policy(
        kube_api,
        app,
        approval={"expireAfter": "20s"},
        sla={
            "response": {"critical": "15m", "high": "5s", "medium": "4h", "low": "24h"},
            "resolution": {"critical": "15m", "high": "10s", "medium": "4h", "low": "24h"},
        },
    )
    name = loop.manual_remediation(
        kube_api,
        app,
        severity="high",
        indicator="memory-usage",
        category="memory",
        actions=[{"type": "RolloutRestart"}],
    )
    rem = loop.wait_terminal(kube_api, app, name, timeout=90)
    status = rem["status"]
    assert status["phase"] == "Escalated", status
    assert any(c["reason"] == "ApprovalExpired" for c in status["conditions"]), status["conditions"]
    assert "SLABreached" in status["slaNotices"]
    stack_lib.wait_for(lambda: "Escalation" in receiver.of(name), timeout=30, what="the escalation")
    time.sleep(12)  # two more remediation ticks: nothing more is sent about a finished escalation
    received = receiver.of(name)
    assert received.count("Escalation") == 1, received
    assert received[0] == "ApprovalNeeded" and "SLABreached" in received, received
    fingerprint = rem["spec"]["issue"]["fingerprint"]
    same = [
        r["metadata"]["name"]
        for r in stack_lib.items(kube_api, "remediations", app)
        if r["spec"]["issue"]["fingerprint"] == fingerprint
    ]
    assert same == [name], "no second Remediation for the same problem"

    out = stack_lib.subprocess_plugin(stack, "ack", name, app)
    assert "acknowledged" in out
    annotations = stack_lib.get(kube_api, "remediations", app, name)["metadata"]["annotations"]
    assert annotations.get("maintenance.chatapp.io/acknowledged-by")
