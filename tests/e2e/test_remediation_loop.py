"""The whole loop on the local cluster: fault → assessment → plan → approval → execution → verification
in Prometheus → success or rollback, with the operator running as a real process."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from tests.fixtures import remediation_loop
from tests.fixtures.remediation_loop import (
    action_types,
    assess,
    manual_remediation,
    policy,
    remediation_for,
    remediations,
    replica_sets,
    stack_lib,
    wait_terminal,
)

pytestmark = pytest.mark.e2e
stack, app, operator = remediation_loop.stack, remediation_loop.app, remediation_loop.operator  # fixtures


# ---------------------------------------------------------------- faults the operator can fix


def test_memory_leak_is_fixed_by_a_verified_restart(
    stack: stack_lib.Stack, app: str, kube_api: Any, operator: stack_lib.OperatorProcess
) -> None:
    policy(kube_api, app)
    stack_lib.inject(stack, {"type": "memory_leak", "namespace": app, "bytesPerSecond": 40_000_000})
    time.sleep(10)
    assessment = assess(kube_api, app)
    issues = assessment["status"]["issues"]
    assert any(i["indicator"] == "memory-usage" and i["severity"] == "critical" for i in issues), issues
    rem = wait_terminal(kube_api, app, remediation_for(kube_api, app, "memory-usage")["metadata"]["name"])
    assert action_types(rem) == ["RolloutRestart"]
    assert rem["status"]["phase"] == "Succeeded", rem["status"]
    assert rem["status"]["approvedBy"] == "policy:autoApprove"
    assert rem["status"]["verification"]["successes"] >= 1
    ratio = stack_lib.prometheus_value(
        stack,
        f'max(chatapp_memory_bytes{{namespace="{app}"}} / chatapp_memory_limit_bytes{{namespace="{app}"}})',
    )
    assert ratio is not None and ratio < 0.5
    outcomes = stack_lib.get(kube_api, "maintenancepolicies", app, "chatapp")["status"]["outcomes"]
    assert outcomes[-1]["result"] == "Succeeded" and outcomes[-1]["action"] == "RolloutRestart"


def test_bad_release_is_rolled_back_to_the_previous_revision(
    stack: stack_lib.Stack, app: str, kube_api: Any, operator: stack_lib.OperatorProcess
) -> None:
    policy(kube_api, app, autoApprove={"severities": ["critical", "high"], "maxRisk": "High"})
    stack_lib.set_image(kube_api, app, "chatapp:1.1")
    stack_lib.wait_for(lambda: stack_lib.rolled_out(kube_api, app), timeout=90, what="release rollout")
    stack_lib.inject(stack, {"type": "bad_release", "namespace": app, "image": "chatapp:1.1"})
    time.sleep(16)
    assess(kube_api, app)
    rem = wait_terminal(kube_api, app, remediation_for(kube_api, app, "error-ratio")["metadata"]["name"])
    assert action_types(rem) == ["Rollback"]
    assert rem["spec"]["plan"]["actions"][0]["rollback"]["toRevision"] == 1
    assert rem["status"]["phase"] == "Succeeded", rem["status"]
    image = stack_lib.deployment(kube_api, app)["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "chatapp:1.0"


def test_load_surge_is_absorbed_by_scaling_within_bounds(
    stack: stack_lib.Stack, app: str, kube_api: Any, operator: stack_lib.OperatorProcess
) -> None:
    policy(kube_api, app, autoApprove={"severities": ["critical", "high"], "maxRisk": "High"})
    stack_lib.inject(stack, {"type": "load_surge", "namespace": app, "totalLoad": 250})
    time.sleep(15)
    assess(kube_api, app)
    rem = wait_terminal(kube_api, app, remediation_for(kube_api, app, "queue-depth")["metadata"]["name"])
    assert action_types(rem) == ["Scale"]
    replicas = rem["spec"]["plan"]["actions"][0]["scale"]["replicas"]
    assert 3 <= replicas <= 4
    assert rem["status"]["phase"] == "Succeeded", rem["status"]
    assert stack_lib.deployment(kube_api, app)["spec"]["replicas"] == replicas


def test_config_corruption_is_patched_back_to_the_known_good_value(
    stack: stack_lib.Stack, app: str, kube_api: Any, operator: stack_lib.OperatorProcess
) -> None:
    policy(kube_api, app, autoApprove={"severities": ["critical", "high"], "maxRisk": "High"})

    def known_good() -> dict[str, Any] | None:
        status = stack_lib.get(kube_api, "maintenancepolicies", app, "chatapp").get("status") or {}
        if status.get("knownGoodConfig"):
            return dict(status["knownGoodConfig"])
        assess(kube_api, app)  # values become known-good only after staying healthy for a minute
        return None

    known = stack_lib.wait_for(known_good, timeout=180, interval=15, what="a known-good config")
    assert known["data"]["eventbus.maxQueue"] == "1000"
    stack_lib.inject(
        stack,
        {
            "type": "config_corruption",
            "namespace": app,
            "configMap": stack_lib.CONFIG_MAP,
            "key": "eventbus.maxQueue",
            "badValue": "-1",
        },
    )
    time.sleep(15)
    assess(kube_api, app)
    rem = wait_terminal(
        kube_api, app, remediation_for(kube_api, app, "config-reload-failure-rate")["metadata"]["name"]
    )
    assert action_types(rem) == ["ConfigPatch"]
    assert rem["spec"]["plan"]["actions"][0]["configPatch"]["value"] == "1000"
    assert rem["status"]["phase"] == "Succeeded", rem["status"]
    data = client.CoreV1Api(kube_api).read_namespaced_config_map(stack_lib.CONFIG_MAP, app).data
    assert data["eventbus.maxQueue"] == "1000"


# ---------------------------------------------------------------- what must not be "fixed"


def test_external_outage_changes_nothing(
    stack: stack_lib.Stack, app: str, kube_api: Any, operator: stack_lib.OperatorProcess
) -> None:
    policy(kube_api, app, autoApprove={"severities": ["critical", "high"], "maxRisk": "High"})
    generation = stack_lib.deployment(kube_api, app)["metadata"]["generation"]
    stack_lib.inject(stack, {"type": "llm_slowdown", "namespace": app})
    time.sleep(15)
    assessment = assess(kube_api, app)
    assert any(i["category"] == "external-dependency" for i in assessment["status"]["issues"])
    rem = wait_terminal(kube_api, app, remediation_for(kube_api, app, "llm-error-ratio")["metadata"]["name"])
    assert set(action_types(rem)) <= {"NoAction", "Escalate"}
    assert rem["status"]["phase"] in ("Escalated", "Succeeded")
    assert not rem["status"].get("steps") or all(s["phase"] == "Skipped" for s in rem["status"]["steps"])
    assert stack_lib.deployment(kube_api, app)["metadata"]["generation"] == generation


def test_a_remediation_that_does_not_help_is_rolled_back(
    stack: stack_lib.Stack, app: str, kube_api: Any, operator: stack_lib.OperatorProcess
) -> None:
    policy(kube_api, app)
    before = stack_lib.deployment(kube_api, app)["spec"]["template"]
    stack_lib.inject(stack, {"type": "llm_slowdown", "namespace": app})
    time.sleep(15)
    name = manual_remediation(
        kube_api,
        app,
        severity="critical",
        indicator="llm-error-ratio",
        category="external-dependency",
        actions=[{"type": "RolloutRestart"}],
    )
    # a restart does not fit an external outage: held for a human, who approves it anyway
    stack_lib.wait_for(
        lambda: (
            (stack_lib.get(kube_api, "remediations", app, name).get("status") or {}).get("phase")
            == "AwaitingApproval"
        ),
        timeout=30,
        what="AwaitingApproval",
    )
    assert stack_lib.get(kube_api, "remediations", app, name)["status"]["review"]["fits"] is False
    assert "approved=true" in stack_lib.subprocess_plugin(stack, "approve", name, app)
    rem = wait_terminal(kube_api, app, name)
    assert rem["status"]["phase"] == "RolledBack", rem["status"]
    assert rem["status"]["rolledBack"] is True
    assert rem["status"]["verification"]["failures"] >= 1
    stack_lib.wait_for(lambda: stack_lib.rolled_out(kube_api, app), timeout=90, what="rollback rollout")
    after = stack_lib.deployment(kube_api, app)["spec"]["template"]
    assert (after["metadata"].get("annotations") or {}).get("kubectl.kubernetes.io/restartedAt") == (
        before["metadata"].get("annotations") or {}
    ).get("kubectl.kubernetes.io/restartedAt")


def test_prometheus_outage_means_no_action(
    stack: stack_lib.Stack, app: str, kube_api: Any, operator: stack_lib.OperatorProcess
) -> None:
    stack_lib.create(
        kube_api,
        "maintenancepolicies",
        app,
        stack_lib.demo_policy(
            app,
            prometheus={"url": "http://127.0.0.1:9", "timeout": "2s"},
            schedule={"healthCheck": "1h", "performanceAnalysis": "1h"},
        ),
    )
    stack_lib.inject(stack, {"type": "memory_leak", "namespace": app, "bytesPerSecond": 40_000_000})
    time.sleep(5)
    assessment = assess(kube_api, app)
    assert assessment["status"]["phase"] == "Inconclusive"
    assert (
        "unreachable" in assessment["status"]["message"].lower()
        or "no usable" in assessment["status"]["message"].lower()
    )
    assert not assessment["status"].get("issues")
    time.sleep(5)
    assert remediations(kube_api, app) == []


# ---------------------------------------------------------------- approvals, guards, crashes


def test_high_severity_waits_for_a_human_and_the_webhook_records_who(
    stack: stack_lib.Stack, app: str, kube_api: Any, operator: stack_lib.OperatorProcess, kubectl: Any
) -> None:
    policy(kube_api, app)
    name = manual_remediation(
        kube_api,
        app,
        severity="high",
        indicator="memory-usage",
        category="memory",
        actions=[{"type": "RolloutRestart"}],
    )
    stack_lib.wait_for(
        lambda: (
            (stack_lib.get(kube_api, "remediations", app, name).get("status") or {}).get("phase")
            == "AwaitingApproval"
        ),
        timeout=30,
        what="AwaitingApproval",
    )
    time.sleep(6)
    assert stack_lib.get(kube_api, "remediations", app, name)["status"]["phase"] == "AwaitingApproval"
    # a human approves with the kubectl plugin; the webhook stamps who, from the API server's user info
    out = stack_lib.subprocess_plugin(stack, "approve", name, app)
    assert "approved=true" in out
    approval = stack_lib.get(kube_api, "remediations", app, name)["spec"]["approval"]
    assert approval["approvedBy"] and approval["approvedAt"]
    signature = stack_lib.get(kube_api, "remediations", app, name)["metadata"]["annotations"]
    assert signature.get("maintenance.chatapp.io/approval-signature")
    rem = wait_terminal(kube_api, app, name)
    assert rem["status"]["phase"] == "Succeeded", rem["status"]
    assert rem["status"]["approvedBy"] == approval["approvedBy"]
    # nobody can rewrite who approved
    forged = kubectl(
        "patch",
        "remediation",
        name,
        "-n",
        app,
        "--type",
        "merge",
        "-p",
        '{"spec":{"approval":{"approved":true,"approvedBy":"mallory"}}}',
        check=False,
    )
    assert forged.returncode != 0
    assert stack_lib.get(kube_api, "remediations", app, name)["spec"]["approval"]["approvedBy"] != "mallory"
    # and the decision cannot be revoked afterwards
    result = kubectl(
        "patch",
        "remediation",
        name,
        "-n",
        app,
        "--type",
        "merge",
        "-p",
        '{"spec":{"approval":{"approved":false}}}',
        check=False,
    )
    assert result.returncode != 0


def test_a_remediation_cannot_be_created_pre_approved(
    stack: stack_lib.Stack, app: str, kube_api: Any, operator: stack_lib.OperatorProcess
) -> None:
    policy(kube_api, app)
    with pytest.raises(ApiException) as caught:
        stack_lib.create(
            kube_api,
            "remediations",
            app,
            {
                "kind": "Remediation",
                "metadata": {"name": "sneaky"},
                "spec": {
                    "policyRef": {"name": "chatapp"},
                    "targetRef": {"name": "chatapp"},
                    "issue": {
                        "fingerprint": "x",
                        "title": "x",
                        "severity": "high",
                        "category": "memory",
                        "dimension": "core",
                        "indicator": "memory-usage",
                    },
                    "plan": {"actions": [{"type": "RolloutRestart"}], "rationale": "x", "confidence": 9},
                    "approval": {"approved": True, "approvedBy": "system:admin"},
                },
            },
        )
    assert "cannot be created already approved" in str(caught.value.body)


def test_cooldown_stops_repeated_actions(
    stack: stack_lib.Stack, app: str, kube_api: Any, operator: stack_lib.OperatorProcess
) -> None:
    policy(kube_api, app, rateLimit={"maxPerHour": 5, "cooldown": "10m"})
    first = manual_remediation(
        kube_api,
        app,
        severity="critical",
        indicator="memory-usage",
        category="memory",
        actions=[{"type": "RolloutRestart"}],
    )
    assert wait_terminal(kube_api, app, first)["status"]["phase"] == "Succeeded"
    second = manual_remediation(
        kube_api,
        app,
        severity="critical",
        indicator="memory-usage",
        category="memory",
        actions=[{"type": "RolloutRestart"}],
    )

    def blocked() -> dict[str, Any] | None:
        status = stack_lib.get(kube_api, "remediations", app, second).get("status") or {}
        conditions = {c["type"]: c for c in status.get("conditions") or []}
        return conditions.get("Blocked")

    condition = stack_lib.wait_for(blocked, timeout=30, what="the cooldown guard")
    assert condition["reason"] == "CooldownActive"
    status = stack_lib.get(kube_api, "remediations", app, second)["status"]
    assert status["phase"] == "Approved" and not status.get("steps")


@pytest.mark.parametrize("kill_in", ["Executing", "Verifying"])
def test_operator_killed_mid_remediation_finishes_without_applying_twice(
    stack: stack_lib.Stack, app: str, kube_api: Any, operator: stack_lib.OperatorProcess, kill_in: str
) -> None:
    policy(kube_api, app)
    before = {rs.metadata.name for rs in replica_sets(kube_api, app)}
    name = manual_remediation(
        kube_api,
        app,
        severity="critical",
        indicator="memory-usage",
        category="memory",
        actions=[{"type": "RolloutRestart"}],
    )

    def phase() -> str | None:
        return (stack_lib.get(kube_api, "remediations", app, name).get("status") or {}).get("phase")

    stack_lib.wait_for(lambda: phase() == kill_in, timeout=60, interval=0.2, what=kill_in)
    operator.kill()
    time.sleep(3)
    operator.start()
    rem = wait_terminal(kube_api, app, name)
    assert rem["status"]["phase"] == "Succeeded", rem["status"]
    created = {rs.metadata.name for rs in replica_sets(kube_api, app)} - before
    assert len(created) == 1, f"expected exactly one new ReplicaSet, got {created}"
    [step] = rem["status"]["steps"]
    annotations = stack_lib.deployment(kube_api, app)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["kubectl.kubernetes.io/restartedAt"] == step["marker"]
