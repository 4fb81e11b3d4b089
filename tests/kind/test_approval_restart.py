"""High severity on real Pods: a human approves with the kubectl plugin through the in-cluster webhook,
and the approval, signed with the chart's approval key, is still executed by the operator Pod that
replaces the one that saw it."""

from __future__ import annotations

import pytest

from tests.fixtures import kind as kind_lib

pytestmark = pytest.mark.kind
stack_lib = kind_lib.stack_lib


def test_an_approval_given_before_the_operator_pod_restarts_is_executed_after_it(
    kind: kind_lib.KindCluster, app: str
) -> None:
    api = kind.api()
    # suspended: an approved plan waits (guard "Suspended") instead of running before the restart
    stack_lib.create(api, "maintenancepolicies", app, kind_lib.demo_policy(app, suspend=True))
    name = kind_lib.manual_remediation(
        kind,
        app,
        severity="high",
        indicator="queue-depth",
        category="queue",
        actions=[{"type": "Scale", "scale": {"replicas": 3}}],
    )
    stack_lib.wait_for(
        lambda: kind_lib.phase(kind, app, name) == "AwaitingApproval", timeout=60, what="AwaitingApproval"
    )
    out = kind_lib.plugin(kind, "approve", name, app)
    assert "approved=true" in out
    rem = stack_lib.get(api, "remediations", app, name)
    approval = rem["spec"]["approval"]
    assert approval["approved"] and approval["approvedBy"] and approval["approvedAt"]
    assert rem["metadata"]["annotations"].get("maintenance.chatapp.io/approval-signature")

    old = kind_lib.operator_ready(kind)
    assert old is not None
    kind_lib.delete_operator_pod(kind, old, wait=True)
    new = kind_lib.replacement_ready(kind, old)
    assert stack_lib.deployment(api, app)["spec"]["replicas"] == 2  # nothing ran before the restart
    timeline = kind_lib.Timeline("approval_after_restart")
    stack_lib.custom(api).patch_namespaced_custom_object(
        stack_lib.GROUP,
        stack_lib.VERSION,
        app,
        "maintenancepolicies",
        "chatapp",
        {"spec": {"suspend": False}},
    )
    done = kind_lib.follow(kind, app, name, timeline)
    timeline.save(kind)

    assert done["status"]["phase"] == "Succeeded", done["status"]
    assert done["status"]["approvedBy"] == approval["approvedBy"]
    assert stack_lib.deployment(api, app)["spec"]["replicas"] == 3
    assert new["metadata"]["name"] != old["metadata"]["name"]
