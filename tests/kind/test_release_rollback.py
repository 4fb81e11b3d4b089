"""A bad release on real Pods: chatapp:1.1's processes fail requests; the operator rolls it back."""

from __future__ import annotations

import uuid

import pytest

from tests.fixtures import kind as kind_lib

pytestmark = pytest.mark.kind
stack_lib = kind_lib.stack_lib


def test_bad_release_is_rolled_back_and_the_old_version_serves_again(
    kind: kind_lib.KindCluster, app: str
) -> None:
    api = kind.api()
    policy = kind_lib.demo_policy(
        app,
        severityRouting={"high": "AutoResolve"},
        autoApprove={"severities": ["critical", "high"], "maxRisk": "High"},
    )
    stack_lib.create(api, "maintenancepolicies", app, policy)
    timeline = kind_lib.Timeline("bad_release")
    kind_lib.faults.inject(kind, app, kind_lib.faults.BAD_RELEASE)  # chatapp:1.1 rolled out, failing
    errors = kind_lib.faults.BAD_RELEASE.query(app)
    timeline.mark("breach")
    stack_lib.request_assessment(api, app, f"release-{uuid.uuid4().hex[:6]}")
    rem = kind_lib.remediation_for(kind, app, "error-ratio")
    timeline.mark("detected")
    rem = kind_lib.follow(kind, app, rem["metadata"]["name"], timeline)
    timeline.save(kind)

    assert [a["type"] for a in rem["spec"]["plan"]["actions"]] == ["Rollback"]
    assert rem["spec"]["plan"]["actions"][0]["rollback"]["toRevision"] == 1
    assert rem["status"]["phase"] == "Succeeded", rem["status"]
    image = stack_lib.deployment(api, app)["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "chatapp:1.0"
    # the processes now running report version 1.0, and their error ratio is back to healthy
    running = f'count by (image) (chatapp_build_info{{namespace="{app}"}})'
    assert kind.prometheus(running.replace("count by (image) ", "count ") + "") is not None
    only_old = f'count(chatapp_build_info{{namespace="{app}",image="chatapp:1.1"}}) or vector(0)'
    stack_lib.wait_for(lambda: kind.prometheus(only_old) == 0, timeout=30, what="no 1.1 process left")
    assert (kind.prometheus(errors) or 1) < 0.05
