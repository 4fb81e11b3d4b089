"""Security posture of the target: pod security, exposed secrets, token, RBAC reach, images, CVEs.

Input is the Deployment as the API server serves it (camelCase JSON) and facts read next to it: the
risky permissions a SubjectAccessReview granted the target's ServiceAccount, and vulnerability counts
from Trivy Operator's VulnerabilityReports (None when that CRD is not installed: said, never failed).

Pod security checks (per container, pod-level securityContext counts as the default):
``run-as-non-root``, ``read-only-root-fs``, ``privilege-escalation`` (allowPrivilegeEscalation must be
false), ``privileged``, ``capabilities`` (added capabilities other than NET_BIND_SERVICE, or ALL not
dropped), ``host-namespaces`` (hostNetwork/hostPID/hostIPC), ``host-path`` volumes, ``secret-env``
(a Secret exposed as an env var or envFrom; names only, values are never read), ``sa-token``
(automountServiceAccountToken not false), ``image-digest`` (reference without ``@sha256:``),
``rbac`` (one finding per risky permission granted).

Vulnerability patch deadlines (the framework's): critical 24 h, high 7 d, medium 30 d, low 90 d from
``Vulnerability.first_seen`` (the adapter decides when the clock starts). A finding past its
deadline is ``vuln-overdue`` with the vulnerability's severity; ones within it are counted, not raised.

Score 1-10 as in config_audit (weights by severity, each check counted once).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from maintenance_operator.domain import config_audit

Finding = config_audit.Finding
Check = config_audit.Check

PATCH_DEADLINES = {"critical": 86400.0, "high": 7 * 86400.0, "medium": 30 * 86400.0, "low": 90 * 86400.0}
ALLOWED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})

CHECKS = {
    c.id: c
    for c in (
        Check(
            "run-as-non-root", "high", "Set securityContext.runAsNonRoot: true (and a non-zero runAsUser)."
        ),
        Check(
            "read-only-root-fs", "medium", "Set securityContext.readOnlyRootFilesystem: true; mount emptyDir."
        ),
        Check("privilege-escalation", "high", "Set securityContext.allowPrivilegeEscalation: false."),
        Check("privileged", "high", "Remove securityContext.privileged: true."),
        Check("capabilities", "medium", "Drop ALL capabilities and add back only what is needed."),
        Check("host-namespaces", "high", "Remove hostNetwork, hostPID and hostIPC."),
        Check("host-path", "high", "Replace hostPath volumes with emptyDir, a ConfigMap or a PVC."),
        Check("secret-env", "low", "Mount the Secret as a file instead of an environment variable."),
        Check("sa-token", "medium", "Set automountServiceAccountToken: false unless the app calls the API."),
        Check("image-digest", "low", "Reference the image by digest (@sha256:...) so it cannot change."),
        Check("rbac", "high", "Remove the Role/ClusterRole binding that grants this to the ServiceAccount."),
        Check("vuln-overdue", "high", "Rebuild the image with the fixed package versions."),
    )
}


@dataclasses.dataclass(frozen=True)
class Vulnerability:
    """One vulnerability of one image, with when it was first reported (unix seconds)."""

    id: str
    severity: str
    image: str
    first_seen: float


@dataclasses.dataclass(frozen=True)
class SecurityResult:
    """Findings, score, counts by severity (None: scanner not installed) and overdue vulnerabilities."""

    findings: tuple[Finding, ...]
    score: float
    vulnerability_counts: Mapping[str, int] | None
    overdue: tuple[Vulnerability, ...] = ()
    scanner_note: str = ""


def _f(check_id: str, subject: str, message: str) -> Finding:
    return config_audit.finding(check_id, subject, message, catalogue=CHECKS)


def _setting(container: Mapping[str, Any], pod: Mapping[str, Any], key: str) -> Any:
    own = (container.get("securityContext") or {}).get(key)
    return own if own is not None else (pod.get("securityContext") or {}).get(key)


def _container_findings(c: Mapping[str, Any], pod: Mapping[str, Any]) -> list[Finding]:
    name = str(c.get("name", "?"))
    ctx = c.get("securityContext") or {}
    out: list[Finding] = []
    if _setting(c, pod, "runAsNonRoot") is not True or _setting(c, pod, "runAsUser") == 0:
        out.append(_f("run-as-non-root", name, f"container {name} may run as root"))
    if ctx.get("readOnlyRootFilesystem") is not True:
        out.append(_f("read-only-root-fs", name, f"container {name} has a writable root filesystem"))
    if ctx.get("allowPrivilegeEscalation") is not False:
        out.append(_f("privilege-escalation", name, f"container {name} allows privilege escalation"))
    if ctx.get("privileged") is True:
        out.append(_f("privileged", name, f"container {name} is privileged"))
    caps = ctx.get("capabilities") or {}
    added = sorted(set(caps.get("add") or ()) - ALLOWED_CAPABILITIES)
    if added or "ALL" not in (caps.get("drop") or ()):
        what = f"adds {', '.join(added)}" if added else "does not drop ALL"
        out.append(_f("capabilities", name, f"container {name} {what}"))
    for env in c.get("env") or ():
        ref = (env.get("valueFrom") or {}).get("secretKeyRef")
        if ref:
            out.append(
                _f("secret-env", name, f"env {env.get('name')} of {name} comes from Secret {ref.get('name')}")
            )
    for source in c.get("envFrom") or ():
        ref = source.get("secretRef")
        if ref:
            out.append(
                _f("secret-env", name, f"container {name} imports every key of Secret {ref.get('name')}")
            )
    image = str(c.get("image", ""))
    if "@sha256:" not in image:
        out.append(_f("image-digest", name, f"container {name} image {image!r} has no digest"))
    return out


def overdue(vulnerabilities: Sequence[Vulnerability], *, now: float) -> list[Vulnerability]:
    """Vulnerabilities older than their severity's patch deadline (unknown severities never are)."""
    return [
        v
        for v in vulnerabilities
        if v.severity.lower() in PATCH_DEADLINES and now - v.first_seen > PATCH_DEADLINES[v.severity.lower()]
    ]


def audit(
    deployment: Mapping[str, Any],
    *,
    risky_permissions: Sequence[str] = (),
    vulnerabilities: Sequence[Vulnerability] | None = None,
    now: float = 0.0,
) -> SecurityResult:
    """Every security finding of the Deployment and its score (see module rules)."""
    pod = config_audit.pod_spec(deployment)
    findings: list[Finding] = []
    for c in config_audit.containers(deployment):
        findings.extend(_container_findings(c, pod))
    hosts = [k for k in ("hostNetwork", "hostPID", "hostIPC") if pod.get(k) is True]
    if hosts:
        findings.append(_f("host-namespaces", "pod", f"pod uses {', '.join(hosts)}"))
    for volume in pod.get("volumes") or ():
        if volume.get("hostPath"):
            findings.append(
                _f("host-path", str(volume.get("name")), f"volume {volume.get('name')} is a hostPath")
            )
    if pod.get("automountServiceAccountToken") is not False:
        findings.append(_f("sa-token", "pod", "every pod mounts the ServiceAccount token"))
    for permission in risky_permissions:
        findings.append(_f("rbac", permission, f"the ServiceAccount may {permission}"))
    counts: dict[str, int] | None = None
    late: list[Vulnerability] = []
    note = "vulnerability scanner (Trivy Operator) not installed" if vulnerabilities is None else ""
    if vulnerabilities is not None:
        counts = {s: 0 for s in PATCH_DEADLINES}
        for v in vulnerabilities:
            counts[v.severity.lower()] = counts.get(v.severity.lower(), 0) + 1
        late = overdue(vulnerabilities, now=now)
        for v in late:
            days = (now - v.first_seen) / 86400.0
            findings.append(
                dataclasses.replace(
                    _f("vuln-overdue", v.id, f"{v.severity} {v.id} in {v.image} open {days:.1f} days"),
                    severity=v.severity.lower(),
                )
            )
    checks = [c for c in CHECKS.values() if c.id != "vuln-overdue" or vulnerabilities is not None]
    return SecurityResult(tuple(findings), config_audit.score(findings, checks), counts, tuple(late), note)
