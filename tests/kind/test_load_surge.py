"""A load surge on real Pods: the load generator triples its traffic through the app's request path, the
queues grow; the operator scales the Deployment out and the queues drain."""

from __future__ import annotations

import uuid

import pytest

from tests.fixtures import kind as kind_lib

pytestmark = pytest.mark.kind
stack_lib = kind_lib.stack_lib


def test_load_surge_is_absorbed_by_scaling_and_the_queue_drains(kind: kind_lib.KindCluster, app: str) -> None:
    api = kind.api()
    # real traffic moves to new Pods only once they are Ready, in the Service and scraped, and the app
    # averages its load over 10 s: the queues need ~40 s to drain, so verification starts after that
    policy = kind_lib.demo_policy(
        app,
        autoApprove={"severities": ["critical", "high"], "maxRisk": "High"},
        verification={"initialDelay": "45s", "window": "30s", "interval": "5s", "failureLimit": 1},
    )
    stack_lib.create(api, "maintenancepolicies", app, policy)
    queue = kind_lib.faults.LOAD_SURGE.query(app)
    assert (kind.prometheus(queue) or 0) < 100
    timeline = kind_lib.Timeline("load_surge")
    # 250 messages/s for 2 Pods of capacity 100 each (hack/chatapp_sim/model.py); 3 Pods take it
    kind_lib.faults.inject(kind, app, kind_lib.faults.LOAD_SURGE)  # 250 messages/s: the queues past 500
    timeline.mark("breach")
    stack_lib.request_assessment(api, app, f"surge-{uuid.uuid4().hex[:6]}")
    rem = kind_lib.remediation_for(kind, app, "queue-depth")
    timeline.mark("detected")
    rem = kind_lib.follow(kind, app, rem["metadata"]["name"], timeline)

    assert [a["type"] for a in rem["spec"]["plan"]["actions"]] == ["Scale"]
    replicas = rem["spec"]["plan"]["actions"][0]["scale"]["replicas"]
    assert 3 <= replicas <= 4
    assert rem["status"]["phase"] == "Succeeded", (
        rem["status"].get("verification"),
        rem["status"]["message"],
    )
    assert stack_lib.deployment(api, app)["spec"]["replicas"] == replicas
    assert len(kind_lib.app_pods(kind, app)) == replicas
    # the traffic, spread over more processes, no longer overloads any of them: every queue drains
    stack_lib.wait_for(lambda: (kind.prometheus(queue) or 1e9) < 100, timeout=90, what="the queues drained")
    timeline.mark("drained")
    timeline.save(kind)
