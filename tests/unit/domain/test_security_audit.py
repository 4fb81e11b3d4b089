"""Security posture of the target (domain/security_audit.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from maintenance_operator.domain import redaction
from maintenance_operator.domain import security_audit as sa
from tests.fixtures.analysis_fakes import HARDENED

DAY = 86400.0


def pod_with(**changes: Any) -> dict[str, Any]:
    d = copy.deepcopy(HARDENED)
    d["spec"]["template"]["spec"].update(changes)
    return d


def container_with(**changes: Any) -> dict[str, Any]:
    d = copy.deepcopy(HARDENED)
    d["spec"]["template"]["spec"]["containers"][0].update(changes)
    return d


def context_with(**changes: Any) -> dict[str, Any]:
    d = copy.deepcopy(HARDENED)
    d["spec"]["template"]["spec"]["containers"][0]["securityContext"].update(changes)
    return d


def test_hardened_pod_has_no_findings() -> None:
    result = sa.audit(HARDENED, vulnerabilities=[], now=0)
    assert result.findings == () and result.score == 10.0
    assert result.vulnerability_counts == {"critical": 0, "high": 0, "medium": 0, "low": 0}


@pytest.mark.parametrize(
    ("deployment", "check"),
    [
        (pod_with(securityContext={}), "run-as-non-root"),
        (context_with(runAsUser=0), "run-as-non-root"),
        (context_with(readOnlyRootFilesystem=False), "read-only-root-fs"),
        (context_with(allowPrivilegeEscalation=None), "privilege-escalation"),
        (context_with(privileged=True), "privileged"),
        (context_with(capabilities={"drop": ["ALL"], "add": ["SYS_ADMIN"]}), "capabilities"),
        (context_with(capabilities={}), "capabilities"),
        (pod_with(hostNetwork=True, hostPID=True), "host-namespaces"),
        (pod_with(volumes=[{"name": "docker", "hostPath": {"path": "/var/run"}}]), "host-path"),
        (pod_with(automountServiceAccountToken=None), "sa-token"),
        (container_with(image="chatapp:1.2"), "image-digest"),
        (
            container_with(
                env=[{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "p"}}}]
            ),
            "secret-env",
        ),
        (container_with(envFrom=[{"secretRef": {"name": "db"}}]), "secret-env"),
    ],
)
def test_each_weakness_gives_exactly_its_finding(deployment: dict[str, Any], check: str) -> None:
    result = sa.audit(deployment)
    assert [f.check for f in result.findings] == [check]
    assert result.score < 10.0 and result.findings[0].fix == sa.CHECKS[check].fix


def test_finding_messages_survive_redaction_unchanged() -> None:
    """Reports and prompts redact their text; a finding's own words must not look like a secret."""
    weak = pod_with(
        automountServiceAccountToken=None,
        hostNetwork=True,
        volumes=[{"name": "d", "hostPath": {"path": "/"}}],
    )
    findings = sa.audit(weak).findings
    assert {"sa-token", "host-namespaces", "host-path"} <= {f.check for f in findings}
    for finding in findings:
        assert redaction.redact(finding.message) == finding.message


def test_secret_env_names_only() -> None:
    d = container_with(env=[{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "t"}}}])
    [f] = sa.audit(d).findings
    assert "TOKEN" in f.message and "api" in f.message


def test_risky_permissions_are_findings() -> None:
    result = sa.audit(HARDENED, risky_permissions=["list secrets", "create pods/exec"])
    assert [(f.check, f.subject) for f in result.findings] == [
        ("rbac", "list secrets"),
        ("rbac", "create pods/exec"),
    ]


@pytest.mark.parametrize(
    ("severity", "age_days", "is_overdue"),
    [
        ("CRITICAL", 0.5, False),
        ("CRITICAL", 1.5, True),
        ("HIGH", 6, False),
        ("HIGH", 8, True),
        ("MEDIUM", 29, False),
        ("MEDIUM", 31, True),
        ("LOW", 89, False),
        ("LOW", 91, True),
        ("UNKNOWN", 1000, False),
    ],
)
def test_patch_deadlines(severity: str, age_days: float, is_overdue: bool) -> None:
    now = 1000 * DAY
    v = sa.Vulnerability("CVE-1", severity, "chatapp:1", now - age_days * DAY)
    assert (sa.overdue([v], now=now) == [v]) is is_overdue


def test_overdue_critical_is_a_critical_finding_and_counts_by_severity() -> None:
    now = 100 * DAY
    vulns = [
        sa.Vulnerability("CVE-A", "CRITICAL", "chatapp:1", now - 2 * DAY),
        sa.Vulnerability("CVE-B", "HIGH", "chatapp:1", now - 1 * DAY),
        sa.Vulnerability("CVE-C", "HIGH", "chatapp:1", now - 1 * DAY),
    ]
    result = sa.audit(HARDENED, vulnerabilities=vulns, now=now)
    assert [(f.check, f.severity, f.subject) for f in result.findings] == [
        ("vuln-overdue", "critical", "CVE-A")
    ]
    assert result.vulnerability_counts == {"critical": 1, "high": 2, "medium": 0, "low": 0}
    assert result.overdue == (vulns[0],)


def test_no_scanner_says_so_and_does_not_fail() -> None:
    result = sa.audit(HARDENED, vulnerabilities=None)
    assert result.vulnerability_counts is None and "not installed" in result.scanner_note
    assert result.score == 10.0
