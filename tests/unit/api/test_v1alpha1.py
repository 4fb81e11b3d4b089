"""The pydantic models reject what the CRD's schema and CEL rules reject, with the same messages."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from maintenance_operator.api import v1alpha1 as api

INDICATOR = {
    "name": "error-ratio",
    "dimension": "core",
    "category": "error-rate",
    "query": "sum(rate(chatapp_request_errors_total[1m]))",
    "warning": 0.01,
    "critical": 0.05,
}
POLICY: dict[str, Any] = {"targetRef": {"name": "chatapp"}, "indicators": [INDICATOR]}
ACTION_RESTART = {"type": "RolloutRestart"}
PLAN: dict[str, Any] = {"actions": [ACTION_RESTART], "rationale": "memory leak", "confidence": 8.5}
ISSUE: dict[str, Any] = {
    "fingerprint": "abc",
    "title": "memory",
    "severity": "high",
    "category": "memory",
    "dimension": "core",
    "indicator": "memory",
}
REMEDIATION: dict[str, Any] = {
    "policyRef": {"name": "chatapp"},
    "targetRef": {"name": "chatapp"},
    "issue": ISSUE,
    "plan": PLAN,
}


def with_change(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of base with the dotted path set (list indexes as numbers)."""
    out = copy.deepcopy(base)
    node: Any = out
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node.setdefault(key, {})
    last = keys[-1]
    if last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return out


def test_minimal_policy_gets_the_seed_defaults() -> None:
    spec = api.MaintenancePolicySpec.model_validate(POLICY)
    assert spec.schedule.health_check == "5m"
    assert spec.schedule.performance_analysis == "15m"
    assert spec.dimension_weights.as_dict() == {
        api.Dimension.CORE: 30,
        api.Dimension.COMPONENT: 25,
        api.Dimension.INTEGRATION: 20,
        api.Dimension.USER_EXPERIENCE: 15,
        api.Dimension.OPERATIONAL: 10,
    }
    assert spec.severity_routing.route(api.Severity.CRITICAL) is api.Route.AUTO_RESOLVE
    assert spec.severity_routing.route(api.Severity.HIGH) is api.Route.APPROVAL_REQUIRED
    assert spec.severity_routing.route(api.Severity.MEDIUM) is api.Route.MAINTENANCE_WINDOW
    assert spec.severity_routing.route(api.Severity.LOW) is api.Route.BACKLOG
    assert spec.auto_approve.min_confidence == 8.0
    assert spec.rate_limit.max_concurrent == 1


INVALID_POLICIES = [
    ("targetRef.namespace", "other", "target must be in the policy's own namespace"),
    ("targetRef.kind", "StatefulSet", "Deployment"),
    ("indicators", [], "at least 1"),
    ("indicators", [INDICATOR, INDICATOR], "indicator names must be unique"),
    ("indicators.0.critical", 0.001, "critical must be at or beyond warning"),
    ("indicators.0.dimension", "security", "core"),
    ("indicators.0.name", "Error_Ratio", "pattern"),
    ("indicators.0.for", "5 minutes", "pattern"),
    ("dimensionWeights", {"core": 50}, "dimensionWeights must sum to 100"),
    (
        "actions.scale",
        {"enabled": True, "min": 5, "max": 2},
        "actions.scale.min must be <= actions.scale.max",
    ),
    ("actions.configPatch", {"enabled": True}, "needs configMapRef"),
    ("schedule.healthCheck", "10s", "at least 30s"),
    ("schedule", {"healthCheck": "10m", "performanceAnalysis": "5m"}, "must not be shorter"),
    ("rateLimit.maxConcurrent", 2, "less than or equal to 1"),
    ("autoApprove.minConfidence", 11, "less than or equal to 10"),
    ("llm.mode", "Always", "Auto"),
    ("historyLimit", 0, "greater than or equal to 1"),
    ("unknownField", True, "Extra inputs are not permitted"),
]


@pytest.mark.parametrize(
    ("path", "value", "message"), INVALID_POLICIES, ids=[p for p, _, _ in INVALID_POLICIES]
)
def test_invalid_policies_are_rejected(path: str, value: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        api.MaintenancePolicySpec.model_validate(with_change(POLICY, path, value))


def test_forecast_needs_exactly_one_limit() -> None:
    with pytest.raises(ValidationError, match="exactly one of limit or limitQuery"):
        api.ForecastSpec.model_validate({"limit": 1.0, "limitQuery": "x"})
    assert api.ForecastSpec.model_validate({"limit": 1.0}).limit == 1.0


INVALID_ASSESSMENTS = [
    ({}, "Field required"),
    ({"policyRef": {}}, "Field required"),
    ({"policyRef": {"name": "UPPER"}}, "pattern"),
    ({"policyRef": {"name": ""}}, "at least 1"),
    ({"policyRef": {"name": "p"}, "trigger": "Cron"}, "Scheduled"),
    ({"policyRef": {"name": "p"}, "analysis": "Deep"}, "HealthCheck"),
    ({"policyRef": {"name": "p"}, "extra": 1}, "Extra inputs"),
    ({"policyRef": {"name": "p", "namespace": "x"}}, "Extra inputs"),
    ({"policyRef": "p"}, "valid dictionary"),
    ({"policyRef": {"name": "p" * 300}}, "at most 253"),
]


@pytest.mark.parametrize(("spec", "message"), INVALID_ASSESSMENTS)
def test_invalid_assessments_are_rejected(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        api.HealthAssessmentSpec.model_validate(spec)


INVALID_REMEDIATIONS = [
    ("plan.actions", [], "at least 1"),
    ("plan.actions", [ACTION_RESTART] * 6, "at most 5"),
    ("plan.actions.0", {"type": "Scale"}, "scale must be set exactly when type is Scale"),
    ("plan.actions.0", {"type": "RolloutRestart", "scale": {"replicas": 2}}, "scale must be set exactly"),
    ("plan.actions.0", {"type": "Delete"}, "RolloutRestart"),
    ("plan.actions.0", {"type": "Scale", "scale": {"replicas": -1}}, "greater than or equal to 0"),
    ("plan.actions.0", {"type": "Rollback", "rollback": {"toRevision": 0}}, "greater than or equal to 1"),
    ("plan.actions.0", {"type": "Escalate"}, "escalate must be set exactly"),
    ("plan.confidence", 11, "less than or equal to 10"),
    ("plan.actions.0", {"type": "RolloutRestart", "command": "kubectl delete ns"}, "Extra inputs"),
    ("targetRef.namespace", "kube-system", "target must be in the policy's own namespace"),
    ("issue.severity", "urgent", "critical"),
    ("approval", {"approvedBy": "me"}, "Field required"),
]


@pytest.mark.parametrize(("path", "value", "message"), INVALID_REMEDIATIONS)
def test_invalid_remediations_are_rejected(path: str, value: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        api.RemediationSpec.model_validate(with_change(REMEDIATION, path, value))


def test_valid_union_members() -> None:
    action = api.Action.model_validate(
        {"type": "ConfigPatch", "configPatch": {"configMapRef": {"name": "cm"}, "key": "k", "value": "v"}}
    )
    assert action.mutating
    assert not api.Action.model_validate({"type": "NoAction"}).mutating
    assert action.wire()["configPatch"]["configMapRef"] == {"name": "cm"}


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("5m", 300), ("1h30m", 5400), ("250ms", 0.25), ("0s", 0)]
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert api.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "5 m", "-1s", "1d"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        api.parse_duration(text)


def test_token_usage_adds_up() -> None:
    a = api.TokenUsage(input_tokens=10, output_tokens=5, calls=1, estimated_cost_usd=0.1)
    b = api.TokenUsage(cache_read_input_tokens=100, calls=1, estimated_cost_usd=0.05)
    total = a.plus(b)
    assert total.total == 115
    assert total.calls == 2
    assert total.estimated_cost_usd == pytest.approx(0.15)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "set exactly one of policyRef and selector"),
        ({"policyRef": {"name": "a"}, "selector": {"matchLabels": {"a": "b"}}}, "set exactly one"),
        ({"policyRef": {"name": "a"}, "period": "30m"}, "between 1h and 2160h"),
        ({"selector": {"matchLabels": {}}}, "at least 1"),
    ],
)
def test_report_spec_mirrors_cel(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        api.MaintenanceReportSpec.model_validate(spec)


def test_report_spec_defaults_to_a_week_once() -> None:
    spec = api.MaintenanceReportSpec.model_validate({"policyRef": {"name": "chatapp"}})
    assert (spec.period, spec.schedule) == ("168h", api.ReportSchedule.ONCE)
