"""Memory leak on real Pods: the processes really allocate memory; the operator restarts the Deployment, and
the new processes start back at the baseline."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.fixtures import kind as kind_lib

pytestmark = pytest.mark.kind
stack_lib = kind_lib.stack_lib
MIB = 1024 * 1024


def test_memory_leak_is_fixed_by_a_restart_that_resets_the_process_memory(
    kind: kind_lib.KindCluster, app: str
) -> None:
    api = kind.api()
    # a leak held at 92% of the limit is classified high: routed and auto-approved like critical here
    policy = kind_lib.demo_policy(
        app,
        severityRouting={"high": "AutoResolve"},
        autoApprove={"severities": ["critical", "high"], "maxRisk": "High"},
    )
    stack_lib.create(api, "maintenancepolicies", app, policy)
    before = {p["metadata"]["name"]: p["metadata"]["uid"] for p in kind_lib.app_pods(kind, app)}
    assert len(before) == 2
    baseline = kind_lib.memory_ratio(kind, app)
    assert baseline is not None and baseline < 0.6, baseline

    timeline = kind_lib.Timeline("memory_leak")
    # every process leaks up to 92% of the 128Mi limit, 4 MiB/s: past the critical 0.9 within ~25 s
    kind_lib.faults.inject(kind, app, kind_lib.faults.MEMORY_LEAK)
    timeline.mark("breach")
    stack_lib.request_assessment(api, app, f"leak-{uuid.uuid4().hex[:6]}")
    rem = kind_lib.remediation_for(kind, app, "memory-usage")
    timeline.mark("detected")
    rem = kind_lib.follow(kind, app, rem["metadata"]["name"], timeline)
    timeline.save(kind)

    assert [a["type"] for a in rem["spec"]["plan"]["actions"]] == ["RolloutRestart"]
    assert rem["status"]["phase"] == "Succeeded", rem["status"]
    assert rem["status"]["approvedBy"] == "policy:autoApprove"
    # every process was replaced by the restart (new Pods), not by an OOM kill of the old ones
    after = kind_lib.app_pods(kind, app)
    assert after and not {p["metadata"]["uid"] for p in after} & set(before.values())
    assert all(c["restartCount"] == 0 for p in after for c in p["status"]["containerStatuses"])
    # and the new processes' resident memory is back at the baseline
    query = f'max(chatapp_memory_bytes{{namespace="{app}"}})'
    new_names = "|".join(p["metadata"]["name"] for p in after)
    fresh = f'max(chatapp_memory_bytes{{namespace="{app}",pod=~"{new_names}"}})'
    stack_lib.wait_for(lambda: kind.prometheus(fresh) is not None, timeout=30, what="the new Pods scraped")
    time.sleep(4)
    ratio = kind_lib.memory_ratio(kind, app)
    assert ratio is not None and ratio < baseline + 0.1, (ratio, baseline, kind.prometheus(query))
