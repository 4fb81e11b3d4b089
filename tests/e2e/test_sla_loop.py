"""Response SLAs and notifications on the local cluster with the operator as a real process.

One test walks every notification type to a loopback receiver at once (a fixed fault with its detectedAt,
respondedAt and resolvedAt and its severity-labelled times in Prometheus; an approval that expires past the
resolution deadline, escalated once and acknowledged; a health alert; a report). Another routes a medium
issue to approval because the next maintenance window opens after its deadline, with a receiver that is
slow and then down. The last keeps one unfixable issue over ten assessments: one escalation, one notice."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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
from maintenance_operator.domain import notification

pytestmark = pytest.mark.e2e


class Receiver:
    """A webhook receiver on loopback that records every JSON body posted to it, answering after `delay`
    seconds (a slow receiver when set)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.delay = 0.0
        received, outer = self.bodies, self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length) or b"{}"))
                time.sleep(outer.delay)
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

    def types(self) -> set[str]:
        return {b.get("type", "") for b in self.bodies}

    def down(self) -> None:
        """Stop answering: new connections are refused."""
        self.server.shutdown()
        self.server.server_close()


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


def _phase(kube_api: Any, namespace: str, name: str) -> str | None:
    return (stack_lib.get(kube_api, "remediations", namespace, name).get("status") or {}).get("phase")


def _seconds_count(
    where: stack_lib.Stack, metric: str, *, namespace: str, severity: str, outcome: str
) -> float:
    query = f'sum({metric}_count{{namespace="{namespace}",severity="{severity}",outcome="{outcome}"}})'
    return stack_lib.prometheus_value(where, query) or 0.0


EVERY_EVENT = {
    "ApprovalNeeded",
    "SLAAtRisk",
    "SLABreached",
    "HealthAlert",
    "Escalation",
    "RemediationOutcome",
    "Report",
}
# every type the operator sends; a reminder comes only after `reminderInterval` (unit-tested)
assert {t.value for t in notification.EventType} - {"Reminder"} == EVERY_EVENT


def test_every_event_type_reaches_the_receiver(
    stack: stack_lib.Stack,  # noqa: F811
    app: str,  # noqa: F811
    kube_api: Any,
    operator: stack_lib.OperatorProcess,
    receiver: Receiver,
) -> None:
    loop.policy(
        kube_api,
        app,
        # core weighs most, so one critical core indicator takes the overall score below 7.0
        dimensionWeights={
            "core": 70,
            "component": 10,
            "integration": 10,
            "userExperience": 5,
            "operational": 5,
        },
        approval={"expireAfter": "35s"},
        sla={
            "response": {"critical": "15m", "high": "20s", "medium": "4h", "low": "24h"},
            "resolution": {"critical": "15m", "high": "30s", "medium": "4h", "low": "24h"},
            "atRiskFraction": 0.3,
        },
        analyses={"configAudit": {"enabled": False}, "security": {"enabled": False}},
    )
    # a high issue nobody answers: approval needed, at risk at 6 s, breached at 20 s, escalated at 35 s
    waiting = loop.manual_remediation(
        kube_api,
        app,
        severity="high",
        indicator="memory-usage",
        category="memory",
        actions=[{"type": "RolloutRestart"}],
    )
    # meanwhile a critical fault the operator fixes: health alert, outcome
    stack_lib.inject(stack, {"type": "memory_leak", "namespace": app, "bytesPerSecond": 40_000_000})
    time.sleep(10)
    assessment = loop.assess(kube_api, app)
    assert assessment["status"]["overallScore"] < 7.0, assessment["status"]
    name = loop.remediation_for(kube_api, app, "memory-usage")["metadata"]["name"]
    rem = loop.wait_terminal(kube_api, app, name)
    status = rem["status"]
    assert status["phase"] == "Succeeded", status
    detected = _when(rem["spec"]["issue"]["detectedAt"])
    responded, resolved = _when(status["respondedAt"]), _when(status["resolvedAt"])
    assert detected <= responded <= resolved
    assert _when(status["responseDue"]) == _when(status["resolutionDue"])  # critical: 15m for both
    assert (_when(status["responseDue"]) - detected).total_seconds() == 900

    escalated = loop.wait_terminal(kube_api, app, waiting, timeout=60)
    assert escalated["status"]["phase"] == "Escalated", escalated["status"]
    reasons = [c["reason"] for c in escalated["status"]["conditions"]]
    assert "ApprovalExpired" in reasons, escalated["status"]["conditions"]
    assert {"SLAAtRisk", "SLABreached"} <= set(escalated["status"]["slaNotices"])

    stack_lib.create(
        kube_api,
        "maintenancereports",
        app,
        {
            "kind": "MaintenanceReport",
            "metadata": {"name": "now"},
            "spec": {"policyRef": {"name": "chatapp"}, "period": "1h"},
        },
    )
    stack_lib.wait_for(
        lambda: receiver.types() >= EVERY_EVENT or None,
        timeout=60,
        what=f"every event type (so far {sorted(receiver.types())})",
    )
    assert receiver.of(name)[-1] == "RemediationOutcome", receiver.of(name)
    assert receiver.of("chatapp").count("HealthAlert") == 1, "once when the alert starts"
    assert receiver.of("now") == ["Report"]
    report = next(b for b in receiver.bodies if b["type"] == "Report")
    assert "kubectl get mrep now" in (report["link"] or "")
    received = receiver.of(waiting)
    assert received[0] == "ApprovalNeeded", received
    assert received.index("SLAAtRisk") < received.index("SLABreached") < received.index("Escalation")
    time.sleep(6)  # one more remediation tick: nothing more is sent about a finished escalation
    assert receiver.of(waiting).count("Escalation") == 1, receiver.of(waiting)

    # the operator's histograms, scraped by the real Prometheus, carry the right severity and outcome
    def counted(metric: str, severity: str, outcome: str) -> float:
        return _seconds_count(stack, metric, namespace=app, severity=severity, outcome=outcome)

    response, resolution = "maintenance_operator_response_seconds", "maintenance_operator_resolution_seconds"
    stack_lib.wait_for(
        lambda: counted(resolution, "high", "Escalated") == 1 or None, timeout=30, what="scraped times"
    )
    assert counted(response, "critical", "Succeeded") == 1
    assert counted(resolution, "critical", "Succeeded") == 1
    assert counted(response, "high", "Escalated") == 0, "nobody answered the high issue"
    assert counted(resolution, "high", "Succeeded") == counted(resolution, "critical", "Escalated") == 0
    breaches = f'sum(maintenance_operator_sla_breaches_total{{namespace="{app}",severity="high"}})'
    assert (stack_lib.prometheus_value(stack, breaches) or 0) >= 1

    fingerprint = escalated["spec"]["issue"]["fingerprint"]
    same = [
        r["metadata"]["name"]
        for r in stack_lib.items(kube_api, "remediations", app)
        if r["spec"]["issue"]["fingerprint"] == fingerprint
    ]
    assert same == [waiting], "no second Remediation for the same problem"
    out = stack_lib.subprocess_plugin(stack, "ack", waiting, app)
    assert "acknowledged" in out
    annotations = stack_lib.get(kube_api, "remediations", app, waiting)["metadata"]["annotations"]
    assert annotations.get("maintenance.chatapp.io/acknowledged-by")


def test_a_medium_issue_goes_to_approval_when_the_window_opens_after_its_deadline(
    stack: stack_lib.Stack,  # noqa: F811
    app: str,  # noqa: F811
    kube_api: Any,
    operator: stack_lib.OperatorProcess,
    receiver: Receiver,
) -> None:
    opens = datetime.now(UTC) + timedelta(hours=2)  # the window opens in 2 h, the medium deadline is 1 h
    loop.policy(
        kube_api,
        app,
        maintenanceWindows=[{"start": opens.strftime("%H:%M"), "duration": "1h", "timezone": "UTC"}],
        sla={
            "response": {"critical": "15m", "high": "1h", "medium": "1h", "low": "24h"},
            "resolution": {"critical": "15m", "high": "1h", "medium": "1h", "low": "24h"},
        },
    )
    receiver.delay = 30.0  # slower than the notifier's timeout: deliveries hang, then fail
    started = time.monotonic()
    too_far = loop.manual_remediation(
        kube_api,
        app,
        severity="medium",
        indicator="queue-depth",
        category="queue",
        actions=[{"type": "Scale", "scale": {"replicas": 3}}],
    )
    stack_lib.wait_for(
        lambda: _phase(kube_api, app, too_far) == "AwaitingApproval" or None,
        timeout=20,
        what="approval instead of the window",
    )
    status = stack_lib.get(kube_api, "remediations", app, too_far)["status"]
    assert any(c["reason"] == "WindowTooFar" for c in status["conditions"]), status["conditions"]
    assert _when(status["responseDue"]) < opens
    stack_lib.wait_for(lambda: receiver.of(too_far) or None, timeout=20, what="the approval request")
    assert receiver.of(too_far) == ["ApprovalNeeded"]

    # with a deadline after the window opens, the same issue waits for the window; the receiver is down
    receiver.down()
    stack_lib.custom(kube_api).patch_namespaced_custom_object(
        stack_lib.GROUP,
        stack_lib.VERSION,
        app,
        "maintenancepolicies",
        "chatapp",
        {"spec": {"sla": {"response": {"medium": "3h"}, "resolution": {"medium": "3h"}}}},
    )
    in_time = loop.manual_remediation(
        kube_api,
        app,
        severity="medium",
        indicator="queue-depth",
        category="queue",
        actions=[{"type": "Scale", "scale": {"replicas": 3}}],
    )
    stack_lib.wait_for(
        lambda: _phase(kube_api, app, in_time) == "Scheduled" or None,
        timeout=20,
        what="the maintenance window",
    )
    # neither the slow nor the dead receiver held reconciliation up
    assert time.monotonic() - started < 30


def test_a_persistent_unfixable_issue_escalates_once_over_ten_assessments(
    stack: stack_lib.Stack,  # noqa: F811
    app: str,  # noqa: F811
    kube_api: Any,
    operator: stack_lib.OperatorProcess,
    receiver: Receiver,
) -> None:
    # a bad release with rollback and restart not allowed: nothing the operator may do fixes it
    loop.policy(
        kube_api,
        app,
        actions={"rollback": {"enabled": False}, "restart": {"enabled": False}},
        analyses={"configAudit": {"enabled": False}, "security": {"enabled": False}},
    )
    stack_lib.set_image(kube_api, app, "chatapp:1.1")
    stack_lib.wait_for(lambda: stack_lib.rolled_out(kube_api, app), timeout=90, what="release rollout")
    stack_lib.inject(stack, {"type": "bad_release", "namespace": app, "image": "chatapp:1.1"})
    time.sleep(16)
    for _ in range(10):
        assessment = loop.assess(kube_api, app)
        assert any(i["indicator"] == "error-ratio" for i in assessment["status"]["issues"]), assessment
    name = loop.remediation_for(kube_api, app, "error-ratio")["metadata"]["name"]
    rem = loop.wait_terminal(kube_api, app, name, timeout=30)
    assert rem["status"]["phase"] == "Escalated", rem["status"]
    fingerprint = rem["spec"]["issue"]["fingerprint"]
    remediations = stack_lib.items(kube_api, "remediations", app)
    same = [r["metadata"]["name"] for r in remediations if r["spec"]["issue"]["fingerprint"] == fingerprint]
    assert same == [name], "one escalation for the problem over ten assessments"
    time.sleep(6)  # the last assessment's proposals and one more remediation tick
    assert receiver.of(name) == ["Escalation"], receiver.of(name)
    escalations = [b["name"] for b in receiver.bodies if b["type"] == "Escalation"]
    assert len(escalations) == len(set(escalations)), f"one notice per escalation: {escalations}"
    image = stack_lib.deployment(kube_api, app)["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "chatapp:1.1", "nothing was changed"
