"""Plans for analysis findings (domain/findings.py)."""

from __future__ import annotations

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import findings

PATCHING = api.ActionsSpec.model_validate(
    {"configPatch": {"enabled": True, "configMapRef": {"name": "chatapp-config"}, "allowedKeys": ["POOL"]}}
)


def finding(indicator: str) -> api.Issue:
    return api.Issue(
        fingerprint="f",
        title="t",
        severity=api.Severity.MEDIUM,
        category="configuration",
        dimension=api.Dimension.OPERATIONAL,
        indicator=indicator,
    )


def test_analysis_findings_are_told_apart_from_indicators() -> None:
    assert findings.is_analysis_finding(finding("configAudit.pdb"))
    assert findings.is_analysis_finding(finding("security.vuln-overdue"))
    assert not findings.is_analysis_finding(finding("error-rate"))


def test_drift_of_an_allowlisted_key_is_patched_back_to_known_good() -> None:
    plan = findings.finding_plan(
        finding("configAudit.config-drift"),
        check="config-drift",
        subject="POOL",
        fix="restore",
        actions=PATCHING,
        known_good={"POOL": "20"},
    )
    (action,) = plan.actions
    assert action.type is api.ActionType.CONFIG_PATCH and action.config_patch is not None
    assert (action.config_patch.key, action.config_patch.value) == ("POOL", "20")


def test_findings_without_an_allowlisted_action_escalate_with_the_fix() -> None:
    for check, subject, actions, good in [
        ("pdb", "deployment", PATCHING, {}),
        ("config-drift", "POOL", api.ActionsSpec(), {"POOL": "20"}),  # ConfigPatch not enabled
        ("config-drift", "OTHER", PATCHING, {"OTHER": "1"}),  # key not allowlisted
        ("config-drift", "POOL", PATCHING, {}),  # no known-good value
    ]:
        plan = findings.finding_plan(
            finding(f"configAudit.{check}"),
            check=check,
            subject=subject,
            fix="Add a PDB.",
            actions=actions,
            known_good=good,
        )
        (action,) = plan.actions
        assert action.type is api.ActionType.ESCALATE and action.escalate is not None
        assert "Add a PDB." in action.escalate.reason


SIZING = api.RightSizingResult(
    container="app",
    cpu_request_cores=0.25,
    memory_request_bytes=200 * 1024.0**2,
    memory_limit_bytes=230 * 1024.0**2,
    assumptions="CPU p95, memory peak + 15%, 14.0 days of data",
)
CURRENT = {"requests": {"cpu": "1", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}
SIZING_ON = api.ActionsSpec.model_validate({"setResources": {"enabled": True}})


def test_right_sizing_becomes_a_low_operational_set_resources_plan() -> None:
    found = findings.right_sizing(SIZING, target="chatapp", current=CURRENT, actions=SIZING_ON)
    assert found is not None
    issue, plan = found
    assert (issue.severity, issue.dimension, issue.indicator) == (
        api.Severity.LOW,
        api.Dimension.OPERATIONAL,
        "capacity.app",
    )
    assert findings.human_only(issue, plan)
    (action,) = plan.actions
    assert action.set_resources is not None
    assert action.set_resources.values() == {
        "requests": {"cpu": "250m", "memory": "200Mi"},
        "limits": {"memory": "230Mi"},
    }
    again = findings.right_sizing(SIZING, target="chatapp", current=CURRENT, actions=SIZING_ON)
    assert again is not None and again[0].fingerprint == issue.fingerprint


def test_right_sizing_recommends_nothing_when_disabled_thin_or_close() -> None:
    assert findings.right_sizing(SIZING, target="chatapp", current=CURRENT, actions=api.ActionsSpec()) is None
    thin = api.RightSizingResult(container="app", assumptions="too little data")
    assert findings.right_sizing(thin, target="chatapp", current=CURRENT, actions=SIZING_ON) is None
    close = {"requests": {"cpu": "240m", "memory": "190Mi"}, "limits": {"memory": "220Mi"}}
    assert findings.right_sizing(SIZING, target="chatapp", current=close, actions=SIZING_ON) is None
