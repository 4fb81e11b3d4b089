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
