"""Config corruption on real Pods: a bad value in the mounted ConfigMap fails the processes' reloads; the
operator patches the key back to its known-good value and the reloads succeed again."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.fixtures import kind as kind_lib

pytestmark = pytest.mark.kind
stack_lib = kind_lib.stack_lib
CONFIG_MAP = "chatapp-config"


def test_config_corruption_is_patched_back_and_the_app_reloads(kind: kind_lib.KindCluster, app: str) -> None:
    api = kind.api()
    # the kubelet refreshes a mounted ConfigMap on its pod sync (up to ~90 s): verify after that
    kind_lib.auto_policy(
        kind,
        app,
        verification={"initialDelay": "100s", "window": "30s", "interval": "5s", "failureLimit": 1},
    )

    def known_good() -> dict[str, Any] | None:
        status = stack_lib.get(api, "maintenancepolicies", app, "chatapp").get("status") or {}
        if status.get("knownGoodConfig"):
            return dict(status["knownGoodConfig"])
        stack_lib.request_assessment(api, app, f"good-{uuid.uuid4().hex[:6]}")
        return None

    known = stack_lib.wait_for(known_good, timeout=240, interval=20, what="a known-good config")
    assert known["data"]["eventbus.maxQueue"] == "1000"
    timeline = kind_lib.Timeline("config_corruption")
    patch = json.dumps({"data": {"eventbus.maxQueue": "-1"}})
    kind.kubectl("-n", app, "patch", "configmap", CONFIG_MAP, "--type=merge", "-p", patch)
    failures = f'sum(rate(chatapp_config_reload_failures_total{{namespace="{app}"}}[15s]))'
    stack_lib.wait_for(lambda: (kind.prometheus(failures) or 0) > 0.1, timeout=180, what="reloads failing")
    rem = kind_lib.remediate(kind, app, "config-reload-failure-rate", timeline, timeout=400)
    timeline.save(kind)

    assert [a["type"] for a in rem["spec"]["plan"]["actions"]] == ["ConfigPatch"]
    assert rem["spec"]["plan"]["actions"][0]["configPatch"]["value"] == "1000"
    assert rem["status"]["phase"] == "Succeeded", rem["status"]
    data = json.loads(kind.kubectl("-n", app, "get", "configmap", CONFIG_MAP, "-o", "json"))["data"]
    assert data["eventbus.maxQueue"] == "1000"
    assert (kind.prometheus(failures) or 0) < 0.1
