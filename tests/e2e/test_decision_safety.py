"""Decision safety on the local cluster: a Claude plan that does not fit the incident, and an action that was
just rolled back for the same issue, are held for a human with the reasons in status, Events and the
notification. Claude is a Messages API double on loopback (the real SDK talks HTTP to it)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from tests.fixtures import llm_mock
from tests.fixtures import remediation_loop as loop

pytestmark = pytest.mark.e2e
stack_lib = loop.stack_lib
stack = loop.stack
app = loop.app
SECRET_IN_RATIONALE = "hunter2-Zx9-e2e"
SCALE_DOWN = {
    "actions": [{"type": "Scale", "scale": {"replicas": 1}}],
    "rationale": f"Traffic is only a burst; one pod is enough. DB_PASSWORD={SECRET_IN_RATIONALE}",
    "expectedEffect": "queue-depth unchanged",
    "successCriteria": {"indicators": ["queue-depth"], "window": "1m"},
    "rollbackPlan": "Scale back to 2.",
    "confidence": 10,
}


class FakeClaude:
    """Answers every Messages API call with the scale-down plan (a narrative for summaries) and records
    the notifications posted to /notify."""

    def __init__(self) -> None:
        self.plans = 0
        self.notifications: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self.path.startswith("/notify"):
                    outer.notifications.append(json.dumps(body, ensure_ascii=False))  # the whole message
                    reply: dict[str, Any] = {}
                elif any(t.get("name") == "propose_plan" for t in body.get("tools") or []):
                    outer.plans += 1
                    reply = llm_mock.message(tool_input=SCALE_DOWN)
                else:
                    reply = llm_mock.message(text="All good.", stop_reason="end_turn")
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("request-id", "req_011CE2E")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def claude() -> Iterator[FakeClaude]:
    fake = FakeClaude()
    yield fake
    fake.close()


@pytest.fixture
def operator(stack: Any, app: str, kube_api: Any, claude: FakeClaude, tmp_path: Path) -> Iterator[Any]:
    core = client.CoreV1Api(kube_api)
    for name, data in (
        ("anthropic", {"apiKey": llm_mock.API_KEY}),
        ("notify", {"url": f"{claude.url}/notify"}),
    ):
        core.create_namespaced_secret(
            app, client.V1Secret(metadata=client.V1ObjectMeta(name=name), string_data=data)
        )
    process = stack_lib.OperatorProcess(
        stack,
        namespaces=[app],
        log_path=tmp_path / "operator.log",
        extra_env={
            "ANTHROPIC_BASE_URL": claude.url,
            "MAINTENANCE_OPERATOR_NOTIFY_WEBHOOK_SECRET": f"{app}/notify/url",
        },
    ).start()
    yield process
    process.stop()
    stack_lib.delete_namespace(stack.api(), app)
    log = (tmp_path / "operator.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-4000:]
    assert SECRET_IN_RATIONALE not in log and llm_mock.API_KEY not in log


def phase_of(kube_api: Any, namespace: str, name: str) -> str | None:
    status = stack_lib.get(kube_api, "remediations", namespace, name).get("status") or {}
    return status.get("phase")


def wait_phase(
    kube_api: Any, namespace: str, name: str, phases: set[str], timeout: float = 90
) -> dict[str, Any]:
    return stack_lib.wait_for(
        lambda: (
            stack_lib.get(kube_api, "remediations", namespace, name)
            if phase_of(kube_api, namespace, name) in phases
            else None
        ),
        timeout=timeout,
        interval=1,
        what=f"remediation {name} in {sorted(phases)}",
    )


def described(kubectl: Any, namespace: str, name: str, text: str) -> str | None:
    out: str = kubectl("describe", "remediation", name, "-n", namespace).stdout
    return out if text in out else None


def test_a_claude_scale_down_during_a_load_surge_is_held_with_the_reasons(
    stack: Any, app: str, kube_api: Any, operator: Any, claude: FakeClaude, kubectl: Any
) -> None:
    loop.policy(
        kube_api,
        app,
        llm={"mode": "Auto", "secretRef": {"name": "anthropic", "key": "apiKey"}},
        actions={"scale": {"enabled": True, "min": 1, "max": 6, "maxStep": 2}},
        autoApprove={"severities": ["critical", "high"], "maxRisk": "High"},
    )
    stack_lib.inject(stack, {"type": "load_surge", "namespace": app, "totalLoad": 250})
    time.sleep(15)
    loop.assess(kube_api, app)
    name = loop.remediation_for(kube_api, app, "queue-depth")["metadata"]["name"]
    rem = wait_phase(kube_api, app, name, {"AwaitingApproval", *stack_lib.REMEDIATION_TERMINAL})
    assert claude.plans >= 1
    assert rem["metadata"]["annotations"]["maintenance.chatapp.io/planner"] == "Claude"
    assert loop.action_types(rem) == ["Scale"]
    assert rem["spec"]["plan"]["actions"][0]["scale"]["replicas"] == 1
    status = rem["status"]
    assert status["phase"] == "AwaitingApproval", status
    review = status["review"]
    assert review["passed"] is False and review["fits"] is False
    assert review["plannerConfidence"] == 10
    assert any("removes capacity" in r for r in review["reasons"]), review
    assert "removes capacity" in status["message"]
    # the reason is in the Event kubectl describe shows, and in the approval request
    out = stack_lib.wait_for(
        lambda: described(kubectl, app, name, "removes capacity"), timeout=30, what="the Event"
    )
    assert "AutoApprovalDenied" in out
    note = stack_lib.wait_for(
        lambda: next((n for n in claude.notifications if name in n and "Approval needed" in n), None),
        timeout=30,
        what="the approval request",
    )
    assert "removes capacity" in note
    # model text is stored redacted
    assert SECRET_IN_RATIONALE not in json.dumps(stack_lib.get(kube_api, "remediations", app, name))
    assert all(SECRET_IN_RATIONALE not in n for n in claude.notifications)
    assert stack_lib.deployment(kube_api, app)["spec"]["replicas"] == 2, "nothing ran"


def restart(kube_api: Any, namespace: str, fingerprint: str) -> str:
    """A restart for the LLM outage (which a restart cannot fix), filed as a memory issue so it fits."""
    name = f"restart-{uuid.uuid4().hex[:6]}"
    stack_lib.create(
        kube_api,
        "remediations",
        namespace,
        {
            "kind": "Remediation",
            "metadata": {"name": name},
            "spec": {
                "policyRef": {"name": "chatapp"},
                "targetRef": {"name": "chatapp"},
                "issue": {
                    "fingerprint": fingerprint,
                    "title": "llm-error-ratio (manual)",
                    "severity": "critical",
                    "category": "memory",
                    "dimension": "core",
                    "indicator": "llm-error-ratio",
                },
                "plan": {"actions": [{"type": "RolloutRestart"}], "rationale": "by hand", "confidence": 9},
            },
        },
    )
    return name


def test_an_action_rolled_back_for_the_same_issue_is_held_the_next_time(
    stack: Any, app: str, kube_api: Any, operator: Any, claude: FakeClaude, kubectl: Any
) -> None:
    loop.policy(kube_api, app)
    stack_lib.inject(stack, {"type": "llm_slowdown", "namespace": app})
    time.sleep(15)
    fingerprint = f"repeat{uuid.uuid4().hex[:8]}"
    first = restart(kube_api, app, fingerprint)
    done = loop.wait_terminal(kube_api, app, first)
    assert done["status"]["phase"] == "RolledBack", done["status"]
    assert done["status"]["approvedBy"] == "policy:autoApprove"
    outcomes = stack_lib.get(kube_api, "maintenancepolicies", app, "chatapp")["status"]["outcomes"]
    assert [
        (o["fingerprint"], o["result"], o["planner"]) for o in outcomes if o["fingerprint"] == fingerprint
    ] == [(fingerprint, "RolledBack", "Offline")]
    second = restart(kube_api, app, fingerprint)
    rem = wait_phase(kube_api, app, second, {"AwaitingApproval", *stack_lib.REMEDIATION_TERMINAL})
    status = rem["status"]
    assert status["phase"] == "AwaitingApproval", status
    [reason] = status["review"]["reasons"]
    assert reason.startswith("RolloutRestart was RolledBack for this issue"), reason
    stack_lib.wait_for(
        lambda: described(kubectl, app, second, "RolloutRestart was RolledBack"), timeout=30, what="the Event"
    )
    note = stack_lib.wait_for(
        lambda: next((n for n in claude.notifications if second in n and "Approval needed" in n), None),
        timeout=30,
        what="the approval request",
    )
    assert "failedActionWindow" in note
    calibration = stack_lib.get(kube_api, "maintenancepolicies", app, "chatapp")["status"]["calibration"]
    offline = next(c for c in calibration if c["planner"] == "Offline")
    assert offline["outcomes"] >= 1 and offline["brierScore"] is not None
