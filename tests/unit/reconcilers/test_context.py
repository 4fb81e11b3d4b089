"""The planning context shared by the planner and the plan review (reconcilers/context.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from maintenance_operator.api import stored
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import rollout
from maintenance_operator.reconcilers import context

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
POLICY = api.MaintenancePolicySpec.model_validate(
    {
        "targetRef": {"name": "chatapp"},
        "indicators": [
            {
                "name": "queue",
                "dimension": "core",
                "category": "queue",
                "query": "q",
                "warning": 1,
                "critical": 2,
            }
        ],
    }
)
ISSUE = api.Issue(
    fingerprint="chatapp/queue",
    title="t",
    severity=api.Severity.CRITICAL,
    category="queue",
    dimension=api.Dimension.CORE,
    indicator="queue",
)


def outcome(fingerprint: str, category: str) -> dict[str, str]:
    return {
        "fingerprint": fingerprint,
        "category": category,
        "action": "Scale",
        "result": "Failed",
        "at": "x",
    }


def test_the_context_carries_the_knowledge_base_known_good_config_and_indicator_summary() -> None:
    status = {
        "outcomes": [
            outcome("chatapp/queue", "queue"),
            outcome("chatapp/other", "queue"),
            outcome("chatapp/memory", "memory"),
            {"broken": True},
        ],
        "knownGoodConfig": {"configMap": "cfg", "data": {"POOL": "50"}, "recordedAt": "x"},
    }
    result = api.IndicatorResult.model_validate(
        {"name": "queue", "dimension": "core", "phase": "Successful", "value": 3.0, "query": "q"}
    )
    ctx = context.build(
        namespace="shop",
        target_name="chatapp",
        issue=ISSUE,
        state=rollout.TargetSnapshot(replicas=3, available_replicas=3, image="i"),
        policy=POLICY,
        policy_status=stored.read(api.MaintenancePolicyStatus, {"status": status}).status,
        config={"POOL": "10"},
        indicator_results=[result],
        now=NOW,
    )
    assert [o.fingerprint for o in ctx.outcomes] == ["chatapp/queue", "chatapp/other"]
    assert ctx.known_good_config == {"POOL": "50"}
    [summary] = ctx.indicator_summary
    assert (summary.name, summary.category, summary.value, summary.critical) == ("queue", "queue", 3.0, 2)
