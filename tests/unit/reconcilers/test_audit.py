"""Configuration audit and security review with in-memory ports (reconcilers/audit.py)."""

from __future__ import annotations

import copy
from typing import Any

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import security_audit
from maintenance_operator.reconcilers import audit
from tests.fixtures import fakes
from tests.fixtures.analysis_fakes import GOOD, HARDENED, FakeWorkload, policy

NOW = 1_900_000_000.0
DAY = 86400.0
PATCHING = policy(
    actions={
        "configPatch": {"enabled": True, "configMapRef": {"name": "chatapp-config"}, "allowedKeys": ["POOL"]}
    }
)


def known_good(**data: str) -> api.KnownGoodConfig:
    return api.KnownGoodConfig(config_map="chatapp-config", data=data, recorded_at="2030-01-01T00:00:00Z")


async def test_clean_target_scores_ten_and_raises_nothing() -> None:
    report = await audit.run_config_audit(
        spec=PATCHING,
        target=FakeWorkload(GOOD, pdb=True, config={"POOL": "20"}),
        known_good=known_good(POOL="20"),
        now=NOW,
    )
    assert report.score == 10.0 and report.findings == [] and report.checks_run == 12
    assert audit.config_issues(report, target="chatapp") == []


async def test_drift_and_missing_pdb_become_operational_medium_issues() -> None:
    target = FakeWorkload(GOOD, pdb=False, config={"POOL": "10"})
    report = await audit.run_config_audit(
        spec=PATCHING, target=target, known_good=known_good(POOL="20"), now=NOW
    )
    assert [(f.check, f.subject) for f in report.findings] == [
        ("pdb", "deployment"),
        ("config-drift", "POOL"),
    ]
    assert target.asked_for == ["configmap/chatapp-config"]
    issues = audit.config_issues(report, target="chatapp")
    assert {(i.severity, i.dimension, i.category) for i in issues} == {
        (api.Severity.MEDIUM, api.Dimension.OPERATIONAL, "configuration")
    }
    assert len({i.fingerprint for i in issues}) == 2
    again = audit.config_issues(report, target="chatapp")
    assert [i.fingerprint for i in again] == [i.fingerprint for i in issues]


async def test_without_known_good_drift_is_not_checked() -> None:
    report = await audit.run_config_audit(
        spec=PATCHING, target=FakeWorkload(GOOD, pdb=True, config={"POOL": "10"}), known_good=None, now=NOW
    )
    assert report.findings == [] and report.checks_run == 11


async def test_target_change_changes_the_fingerprint() -> None:
    changed = copy.deepcopy(GOOD) | {"metadata": {"generation": 8}}
    assert audit.target_fingerprint(changed) != audit.target_fingerprint(GOOD)


async def test_security_review_overdue_critical_is_a_critical_issue() -> None:
    vulns = [
        security_audit.Vulnerability("CVE-2030-1", "CRITICAL", "chatapp:1", NOW - 2 * DAY),
        security_audit.Vulnerability("CVE-2030-2", "LOW", "chatapp:1", NOW - 2 * DAY),
    ]
    target = FakeWorkload(HARDENED, vulns=vulns)
    report = await audit.run_security_review(spec=policy(), target=target, now=NOW)
    assert [(f.check, f.severity) for f in report.findings] == [("vuln-overdue", "critical")]
    assert report.vulnerability_counts == {"critical": 1, "high": 0, "medium": 0, "low": 1}
    assert report.overdue_vulnerabilities == 1 and report.message == ""
    assert target.asked_for == ["serviceaccount/default"]
    [issue] = audit.security_issues(report, target="chatapp", checks=["vuln-overdue"])
    assert issue.severity is api.Severity.CRITICAL and issue.category == "security"


async def test_security_review_without_scanner_and_without_rbac_check() -> None:
    body: dict[str, Any] = copy.deepcopy(HARDENED)
    body["spec"]["template"]["spec"]["serviceAccountName"] = "chat"
    target = FakeWorkload(body, risky=["list secrets"], vulns=None)
    report = await audit.run_security_review(
        spec=policy(analyses={"security": {"checkServiceAccount": False}}), target=target, now=NOW
    )
    assert report.findings == [] and report.vulnerability_counts is None and "not installed" in report.message
    assert target.asked_for == []
    checked = await audit.run_security_review(spec=policy(), target=target, now=NOW)
    assert [(f.check, f.subject) for f in checked.findings] == [("rbac", "list secrets")]
    assert target.asked_for == ["serviceaccount/chat"]


async def test_findings_become_one_remediation_each_and_are_never_raised_twice() -> None:
    store = fakes.FakeStore()
    body = {"metadata": {"name": "p", "namespace": "shop", "uid": "u1"}}
    report = await audit.run_config_audit(
        spec=PATCHING,
        target=FakeWorkload(GOOD, pdb=False, config={"POOL": "10"}),
        known_good=known_good(POOL="20"),
        now=NOW,
    )
    raised = await audit.raise_findings(
        store, policy_body=body, policy=PATCHING, report=report, known_good={"POOL": "20"}
    )
    assert len(raised) == 2
    items = await store.list("Remediation", "shop")
    plans = sorted(i["spec"]["plan"]["actions"][0]["type"] for i in items)
    assert plans == ["ConfigPatch", "Escalate"]
    assert {i["spec"]["issue"]["indicator"] for i in items} == {"configAudit.pdb", "configAudit.config-drift"}
    again = await audit.raise_findings(
        store, policy_body=body, policy=PATCHING, report=report, known_good={"POOL": "20"}
    )
    assert again == raised and len(await store.list("Remediation", "shop")) == 2


async def test_findings_routed_to_ignore_are_not_raised() -> None:
    store = fakes.FakeStore()
    spec = policy(severityRouting={"medium": "Ignore", "low": "Ignore"})
    report = await audit.run_config_audit(
        spec=spec, target=FakeWorkload(GOOD, pdb=False), known_good=None, now=NOW
    )
    assert report.findings
    body = {"metadata": {"name": "p", "namespace": "shop", "uid": "u1"}}
    assert (
        await audit.raise_findings(store, policy_body=body, policy=spec, report=report, known_good={}) == {}
    )
