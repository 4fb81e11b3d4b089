"""Configuration audit and security review of one policy's target: cluster reads in, reports and issues out.

Reads go through the ``ports.AuditTarget`` port (adapters.workload.WorkloadReader); decisions are in
``domain.config_audit`` and ``domain.security_audit``. Findings become Issues: configuration findings
are low or medium issues in the operational dimension; security findings keep their check's severity
(overdue vulnerabilities their own). They are routed like any issue but never auto-applied: the caller
must mark every remediation created from them as needing approval. A read that fails is said in the
report, never guessed at.

``raise_findings`` turns a report's findings into Remediations (one per finding, named after it, so a
finding that stays is never raised twice); their plans come from ``domain.findings`` and
``domain.approval`` never auto-approves them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from maintenance_operator.adapters import crs
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import cadence, config_audit, findings, security_audit
from maintenance_operator.reconcilers import ports

_SEVERITIES = {s.value: s for s in api.Severity}


def target_fingerprint(deployment: dict[str, Any], config_version: str = "") -> str:
    """What a configuration audit saw: the Deployment's generation and the ConfigMap's version."""
    generation = (deployment.get("metadata") or {}).get("generation", "")
    return f"{generation}/{config_version}"


def _findings(items: Iterable[config_audit.Finding]) -> list[api.AuditFinding]:
    return [
        api.AuditFinding(
            check=f.check, severity=f.severity, subject=f.subject, message=f.message[:512], fix=f.fix
        )
        for f in items
    ][:200]


async def run_config_audit(
    *,
    spec: api.MaintenancePolicySpec,
    target: ports.AuditTarget,
    known_good: api.KnownGoodConfig | None,
    now: float,
) -> api.ConfigAuditReport:
    """The configuration audit report of the policy's target."""
    deployment = await target.deployment()
    has_pdb = await target.has_pdb(deployment)
    patch = spec.actions.config_patch
    config: dict[str, str] | None = None
    if patch.config_map_ref is not None:
        config = await target.config_map_data(patch.config_map_ref.name)
    good = known_good.data if known_good is not None and config is not None else None
    result = config_audit.audit(
        deployment, has_pdb=has_pdb, config=config, known_good=good, allowed_keys=patch.allowed_keys
    )
    return api.ConfigAuditReport(
        analyzed_at=cadence.iso(now),
        score=result.score,
        checks_run=result.checks_run,
        finding_count=len(result.findings),
        findings=_findings(result.findings),
        target_fingerprint=target_fingerprint(deployment),
    )


async def run_security_review(
    *, spec: api.MaintenancePolicySpec, target: ports.AuditTarget, now: float
) -> api.SecurityReport:
    """The security posture report of the policy's target."""
    deployment = await target.deployment()
    pod = config_audit.pod_spec(deployment)
    notes: list[str] = []
    risky: list[str] = []
    if spec.analyses.security.check_service_account:
        account = str(pod.get("serviceAccountName") or "default")
        risky = await target.risky_permissions(account)
    vulns = await target.vulnerabilities(deployment)
    result = security_audit.audit(deployment, risky_permissions=risky, vulnerabilities=vulns, now=now)
    if result.scanner_note:
        notes.append(result.scanner_note)
    return api.SecurityReport(
        analyzed_at=cadence.iso(now),
        score=result.score,
        finding_count=len(result.findings),
        findings=_findings(result.findings),
        vulnerability_counts=dict(result.vulnerability_counts)
        if result.vulnerability_counts is not None
        else None,
        overdue_vulnerabilities=len(result.overdue),
        message="; ".join(notes),
    )


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:16]


def config_issues(report: api.ConfigAuditReport, *, target: str) -> list[api.Issue]:
    """Configuration findings as low or medium issues in the operational dimension."""
    issues = []
    for f in report.findings:
        severity = api.Severity.LOW if f.severity == "low" else api.Severity.MEDIUM
        issues.append(
            api.Issue(
                fingerprint=_fingerprint(target, "config", f.check, f.subject),
                title=f"{f.check}: {f.message}"[:256],
                severity=severity,
                category="configuration",
                dimension=api.Dimension.OPERATIONAL,
                indicator=f"configAudit.{f.check}",
                description=f"Fix: {f.fix}",
            )
        )
    return issues


def security_issues(
    report: api.SecurityReport, *, target: str, checks: Sequence[str] = ()
) -> list[api.Issue]:
    """Security findings as issues of their severity (``checks`` limits which, e.g. vuln-overdue only)."""
    issues = []
    for f in report.findings:
        if checks and f.check not in checks:
            continue
        issues.append(
            api.Issue(
                fingerprint=_fingerprint(target, "security", f.check, f.subject),
                title=f"{f.check}: {f.message}"[:256],
                severity=_SEVERITIES.get(f.severity, api.Severity.MEDIUM),
                category="security",
                dimension=api.Dimension.OPERATIONAL,
                indicator=f"security.{f.check}",
                description=f"Fix: {f.fix}",
            )
        )
    return issues


def finding_name(policy: str, fingerprint: str) -> str:
    """The Remediation of one finding: the same name every run, so creation is idempotent."""
    return f"{policy[:200]}-finding-{fingerprint[:12]}"


def finding_remediation(
    policy_body: Mapping[str, Any], *, name: str, target: str, issue: api.Issue, plan: api.Plan
) -> dict[str, Any]:
    """The Remediation object (metadata and spec) of one analysis finding, owned by the policy."""
    namespace = str(policy_body["metadata"]["namespace"])
    policy_name = str(policy_body["metadata"]["name"])
    return {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                crs.POLICY_LABEL: policy_name,
                crs.TARGET_LABEL: target,
                crs.FINGERPRINT_LABEL: issue.fingerprint[:63],
            },
            "annotations": {f"{api.GROUP}/planner": plan.planner.value},
            "ownerReferences": [crs.owner_reference(policy_body, kind="MaintenancePolicy")],
        },
        "spec": api.RemediationSpec(
            policy_ref=api.LocalObjectReference(name=policy_name),
            target_ref=api.TargetRef(name=target),
            issue=issue,
            plan=plan,
        ).wire(),
    }


async def raise_findings(
    resources: ports.ObjectStore,
    *,
    policy_body: Mapping[str, Any],
    policy: api.MaintenancePolicySpec,
    report: api.ConfigAuditReport | api.SecurityReport,
    known_good: Mapping[str, str],
) -> dict[str, str]:
    """Create a Remediation for each finding whose severity is not routed to Ignore; {fingerprint: name}.

    The severity routing of the policy applies when the remediation is reconciled (Backlog stays Backlog);
    nothing is ever auto-approved. An existing Remediation of the same finding, open or closed, is kept.
    """
    namespace = str(policy_body["metadata"]["namespace"])
    policy_name = str(policy_body["metadata"]["name"])
    target = policy.target_ref.name
    if isinstance(report, api.ConfigAuditReport):
        issues = config_issues(report, target=target)
    else:
        issues = security_issues(report, target=target)
    raised: dict[str, str] = {}
    for issue, finding in zip(issues, report.findings, strict=True):
        if policy.severity_routing.route(issue.severity) is api.Route.IGNORE or policy.suspend:
            continue
        plan = findings.finding_plan(
            issue,
            check=finding.check,
            subject=finding.subject,
            fix=finding.fix,
            actions=policy.actions,
            known_good=known_good,
        )
        name = finding_name(policy_name, issue.fingerprint)
        body = finding_remediation(policy_body, name=name, target=target, issue=issue, plan=plan)
        await resources.create("Remediation", namespace, body)
        raised[issue.fingerprint] = name
    return raised
