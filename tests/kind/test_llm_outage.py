"""An external LLM outage on real Pods: the app's dependency Service has no endpoints, its calls fail; the
operator reports it and changes nothing in the cluster."""

from __future__ import annotations

import pytest

from tests.fixtures import kind as kind_lib

pytestmark = pytest.mark.kind
stack_lib = kind_lib.stack_lib


def test_external_llm_outage_writes_nothing(kind: kind_lib.KindCluster, app: str) -> None:
    api = kind.api()
    kind_lib.auto_policy(kind, app, route_high=False)
    before = stack_lib.deployment(api, app)
    timeline = kind_lib.Timeline("llm_outage")
    kind.kubectl("-n", app, "scale", "deploy/chatapp-llm", "--replicas=0")
    errors = (
        f'sum(rate(chatapp_llm_api_errors_total{{namespace="{app}"}}[15s]))'
        f' / sum(rate(chatapp_llm_api_requests_total{{namespace="{app}"}}[15s]))'
    )
    stack_lib.wait_for(lambda: (kind.prometheus(errors) or 0) > 0.2, timeout=90, what="LLM calls failing")
    rem = kind_lib.remediate(kind, app, "llm-error-ratio", timeline)
    timeline.save(kind)

    assert {a["type"] for a in rem["spec"]["plan"]["actions"]} <= {"NoAction", "Escalate"}
    assert rem["status"]["phase"] in ("Escalated", "Succeeded")
    assert not rem["status"].get("steps") or all(s["phase"] == "Skipped" for s in rem["status"]["steps"])
    after = stack_lib.deployment(api, app)
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    assert after["spec"]["replicas"] == before["spec"]["replicas"]
