"""An external LLM outage on real Pods: the app's dependency Service has no endpoints, its calls fail; the
operator reports it and changes nothing in the cluster."""

from __future__ import annotations

import uuid

import pytest

from tests.fixtures import kind as kind_lib

pytestmark = pytest.mark.kind
stack_lib = kind_lib.stack_lib


def test_external_llm_outage_writes_nothing(kind: kind_lib.KindCluster, app: str) -> None:
    api = kind.api()
    policy = kind_lib.demo_policy(app, autoApprove={"severities": ["critical", "high"], "maxRisk": "High"})
    stack_lib.create(api, "maintenancepolicies", app, policy)
    before = stack_lib.deployment(api, app)
    timeline = kind_lib.Timeline("llm_outage")
    kind_lib.faults.inject(kind, app, kind_lib.faults.LLM_OUTAGE)  # the dependency scaled to zero
    timeline.mark("breach")
    stack_lib.request_assessment(api, app, f"llm-{uuid.uuid4().hex[:6]}")
    rem = kind_lib.remediation_for(kind, app, "llm-error-ratio")
    timeline.mark("detected")
    rem = kind_lib.follow(kind, app, rem["metadata"]["name"], timeline)
    timeline.save(kind)

    assert {a["type"] for a in rem["spec"]["plan"]["actions"]} <= {"NoAction", "Escalate"}
    assert rem["status"]["phase"] in ("Escalated", "Succeeded")
    assert not rem["status"].get("steps") or all(s["phase"] == "Skipped" for s in rem["status"]["steps"])
    after = stack_lib.deployment(api, app)
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    assert after["spec"]["replicas"] == before["spec"]["replicas"]
