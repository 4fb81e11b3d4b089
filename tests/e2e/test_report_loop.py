"""A weekly MaintenanceReport made by the running operator on the local cluster: its numbers match what
the test did (one critical memory leak fixed by a verified restart), and the plugin renders it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hack"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_remediation_loop as loop
from test_remediation_loop import app, operator, stack  # noqa: F401 - fixtures shared with the loop

import chatapp_stack as stack_lib

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_report_counts_what_happened(
    stack: stack_lib.Stack,  # noqa: F811 - the imported fixture, injected by name
    app: str,  # noqa: F811
    kube_api: Any,
    operator: stack_lib.OperatorProcess,  # noqa: F811
    local_cluster: Any,
    tmp_path: Path,
) -> None:
    # only what this test does: the audits would raise their own findings as Remediations
    loop.policy(kube_api, app, analyses={"configAudit": {"enabled": False}, "security": {"enabled": False}})
    stack_lib.inject(stack, {"type": "memory_leak", "namespace": app, "bytesPerSecond": 40_000_000})
    time.sleep(10)
    loop.assess(kube_api, app)
    rem = loop.wait_terminal(
        kube_api, app, loop.remediation_for(kube_api, app, "memory-usage")["metadata"]["name"]
    )
    assert rem["status"]["phase"] == "Succeeded", rem["status"]

    stack_lib.create(
        kube_api,
        "maintenancereports",
        app,
        {
            "kind": "MaintenanceReport",
            "metadata": {"name": "weekly"},
            "spec": {"policyRef": {"name": "chatapp"}, "period": "168h", "schedule": "Weekly"},
        },
    )
    report = stack_lib.wait_for(
        lambda: (lambda r: r if (r.get("status") or {}).get("phase") in ("Ready", "Partial") else None)(
            stack_lib.get(kube_api, "maintenancereports", app, "weekly")
        ),
        timeout=60,
        what="the report",
    )
    status = report["status"]
    assert status["policies"] == ["chatapp"]
    period = _when(status["periodEnd"]) - _when(status["periodStart"])
    assert period.total_seconds() == 7 * 86400
    assert (_when(status["nextRunAt"]) - _when(status["generatedAt"])).total_seconds() == 7 * 86400
    assert status["remediations"] == [
        {
            "action": "RolloutRestart",
            "total": 1,
            "succeeded": 1,
            "rolledBack": 0,
            "failed": 0,
            "successRate": 1.0,
        }
    ]
    [critical] = [t for t in status["responseTimes"] if t["severity"] == "critical"]
    assert critical["remediations"] == 1 and critical["responseTargetSeconds"] == 900
    detected = _when(rem["spec"]["issue"].get("detectedAt") or rem["metadata"]["creationTimestamp"])
    resolved = _when(rem["status"].get("resolvedAt") or rem["status"]["completedAt"])
    assert abs(critical["mttrSeconds"] - (resolved - detected).total_seconds()) < 1.0
    assert any(i["severity"] == "critical" and i["count"] >= 1 for i in status["issues"])
    assert {d["planner"] for d in status["aiDecisions"]} == {"Offline"}
    assert [c["type"] for c in status["conditions"]] == ["Ready"] and status["conditions"][0][
        "status"
    ] == "True"
    if status["phase"] == "Partial":
        assert all("score history" in g for g in status["gaps"]), status["gaps"]
    else:
        assert any(h["dimension"] == "overall" and h["points"] for h in status["health"])

    env = {**os.environ, "KUBECONFIG": str(local_cluster.kubeconfig), "MAINTENANCE_PYTHON": sys.executable}
    env["PYTHONPATH"] = str(ROOT / "operator")
    page = tmp_path / "report.html"
    proc = subprocess.run(
        [str(ROOT / "hack" / "kubectl-maintenance"), "report", "weekly", "-n", app, "--html", str(page)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "RolloutRestart" in page.read_text()
