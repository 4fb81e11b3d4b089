"""Config corruption on real Pods: a bad value in the mounted ConfigMap fails the processes' reloads; the
operator patches the key back to its known-good value and the reloads succeed again."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.fixtures import kind as kind_lib

pytestmark = pytest.mark.kind
stack_lib = kind_lib.stack_lib
CONFIG_MAP = "chatapp-config"


def test_config_corruption_is_patched_back_and_the_app_reloads(kind: kind_lib.KindCluster, app: str) -> None:
    api = kind.api()
    # the kubelet refreshes a mounted ConfigMap on its pod sync (up to ~90 s): verify after that
    policy = kind_lib.demo_policy(
        app,
        severityRouting={"high": "AutoResolve"},
        autoApprove={"severities": ["critical", "high"], "maxRisk": "High"},
        verification={"initialDelay": "100s", "window": "30s", "interval": "5s", "failureLimit": 1},
    )
    stack_lib.create(api, "maintenancepolicies", app, policy)

    known = kind_lib.faults.known_good_config(kind, app)
    assert known["data"]["eventbus.maxQueue"] == "1000"
    timeline = kind_lib.Timeline("config_corruption")
    kind_lib.faults.inject(kind, app, kind_lib.faults.CONFIG_CORRUPTION)  # eventbus.maxQueue=-1: reloads fail
    failures = kind_lib.faults.CONFIG_CORRUPTION.query(app)
    timeline.mark("breach")
    stack_lib.request_assessment(api, app, f"config-{uuid.uuid4().hex[:6]}")
    rem = kind_lib.remediation_for(kind, app, "config-reload-failure-rate")
    timeline.mark("detected")
    rem = kind_lib.follow(kind, app, rem["metadata"]["name"], timeline, timeout=400)
    timeline.save(kind)

    assert [a["type"] for a in rem["spec"]["plan"]["actions"]] == ["ConfigPatch"]
    assert rem["spec"]["plan"]["actions"][0]["configPatch"]["value"] == "1000"
    assert rem["status"]["phase"] == "Succeeded", rem["status"]
    data = json.loads(kind.kubectl("-n", app, "get", "configmap", CONFIG_MAP, "-o", "json"))["data"]
    assert data["eventbus.maxQueue"] == "1000"
    assert (kind.prometheus(failures) or 0) < 0.1
