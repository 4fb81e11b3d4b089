"""Configuration audit of the target Deployment (Polaris/kube-score style, plus rollback readiness).

Input is the Deployment as the API server serves it (camelCase JSON), plus facts read next to it:
whether a PodDisruptionBudget selects its pods, and the allowlisted ConfigMap keys with their
known-good values. Each check has an id, a severity and a plain-language fix; a check that fails
for several containers gives one finding per container.

Checks: ``cpu-requests``, ``memory-requests``, ``memory-limits`` (every container), ``readiness-probe``,
``liveness-probe``, ``image-tag`` (no ``latest`` or missing tag), ``replicas`` (>= 2),
``pdb`` (a PodDisruptionBudget when replicas >= 2), ``spread`` (topologySpreadConstraints or pod
anti-affinity), ``progress-deadline`` (set explicitly, <= 1800 s so a stuck rollout fails in time to roll
back), ``revision-history`` (>= 2 so there is a revision to roll back to), ``config-drift`` (an allowlisted
key differs from its known-good value).

Score 1-10: 1 + 9 x (weight of passed checks / weight of all checks), weights high 3, medium 2, low 1,
each check counted once however many containers fail it; rounded to one decimal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

WEIGHTS = {"high": 3, "medium": 2, "low": 1}


@dataclasses.dataclass(frozen=True)
class Check:
    """One rule of an audit."""

    id: str
    severity: str
    fix: str


@dataclasses.dataclass(frozen=True)
class Finding:
    """A failed check on one object (``subject`` is a container name, a key, or the Deployment)."""

    check: str
    severity: str
    subject: str
    message: str
    fix: str


@dataclasses.dataclass(frozen=True)
class AuditResult:
    """Findings and the score they give."""

    findings: tuple[Finding, ...]
    checks_run: int
    score: float


CHECKS = {
    c.id: c
    for c in (
        Check("cpu-requests", "medium", "Set resources.requests.cpu so the scheduler reserves CPU."),
        Check("memory-requests", "medium", "Set resources.requests.memory so the pod is not evicted first."),
        Check("memory-limits", "medium", "Set resources.limits.memory so a leak cannot starve the node."),
        Check("readiness-probe", "high", "Add a readinessProbe so traffic waits until the pod can serve."),
        Check("liveness-probe", "medium", "Add a livenessProbe so a hung process is restarted."),
        Check("image-tag", "high", "Pin the image to a version tag (not latest) or a digest."),
        Check("replicas", "medium", "Run at least 2 replicas so one pod can fail or move."),
        Check("pdb", "medium", "Add a PodDisruptionBudget so drains keep pods serving."),
        Check("spread", "low", "Add topologySpreadConstraints or pod anti-affinity across nodes."),
        Check("progress-deadline", "low", "Set progressDeadlineSeconds (<= 1800) so stuck rollouts fail."),
        Check("revision-history", "medium", "Set revisionHistoryLimit >= 2 so rollback has a revision."),
        Check("config-drift", "medium", "Restore the key to its known-good value or record the new one."),
    )
}


def containers(deployment: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The containers of the pod template (not init containers)."""
    pod = deployment.get("spec", {}).get("template", {}).get("spec", {})
    return list(pod.get("containers") or [])


def pod_spec(deployment: Mapping[str, Any]) -> Mapping[str, Any]:
    """The pod template's spec ({} if absent)."""
    spec: Mapping[str, Any] = deployment.get("spec", {}).get("template", {}).get("spec", {}) or {}
    return spec


def image_tag(image: str) -> str | None:
    """The tag of an image reference (None when absent); a digest reference has no tag."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def finding(check_id: str, subject: str, message: str, *, catalogue: Mapping[str, Check] = CHECKS) -> Finding:
    """A Finding of a check of ``catalogue``."""
    check = catalogue[check_id]
    return Finding(check.id, check.severity, subject, message, check.fix)


def score(findings: Iterable[Finding], checks: Iterable[Check]) -> float:
    """1 + 9 x passed weight / total weight (a check fails once however many findings it has)."""
    all_checks = list(checks)
    failed = {f.check for f in findings}
    total = sum(WEIGHTS[c.severity] for c in all_checks)
    if total == 0:
        return 10.0
    passed = sum(WEIGHTS[c.severity] for c in all_checks if c.id not in failed)
    return round(1.0 + 9.0 * passed / total, 1)


def _container_findings(deployment: Mapping[str, Any]) -> list[Finding]:
    out: list[Finding] = []
    for c in containers(deployment):
        name = str(c.get("name", "?"))
        resources = c.get("resources") or {}
        requests = resources.get("requests") or {}
        limits = resources.get("limits") or {}
        if "cpu" not in requests:
            out.append(finding("cpu-requests", name, f"container {name} has no CPU request"))
        if "memory" not in requests:
            out.append(finding("memory-requests", name, f"container {name} has no memory request"))
        if "memory" not in limits:
            out.append(finding("memory-limits", name, f"container {name} has no memory limit"))
        if not c.get("readinessProbe"):
            out.append(finding("readiness-probe", name, f"container {name} has no readiness probe"))
        if not c.get("livenessProbe"):
            out.append(finding("liveness-probe", name, f"container {name} has no liveness probe"))
        image = str(c.get("image", ""))
        tag = image_tag(image)
        if "@" not in image and tag in (None, "latest"):
            out.append(finding("image-tag", name, f"container {name} runs {image!r} (no pinned tag)"))
    return out


def audit(
    deployment: Mapping[str, Any],
    *,
    has_pdb: bool,
    config: Mapping[str, str] | None = None,
    known_good: Mapping[str, str] | None = None,
    allowed_keys: Sequence[str] = (),
) -> AuditResult:
    """Every configuration finding of the Deployment and its score (see module rules)."""
    spec = deployment.get("spec", {}) or {}
    pod = pod_spec(deployment)
    findings = _container_findings(deployment)
    replicas = int(spec.get("replicas", 1))
    if replicas < 2:
        findings.append(finding("replicas", "deployment", f"{replicas} replica(s): one failure is an outage"))
    elif not has_pdb:
        findings.append(finding("pdb", "deployment", "no PodDisruptionBudget selects the pods"))
    anti = (pod.get("affinity") or {}).get("podAntiAffinity")
    if not pod.get("topologySpreadConstraints") and not anti:
        findings.append(finding("spread", "deployment", "pods may all land on one node"))
    deadline = spec.get("progressDeadlineSeconds")
    if deadline is None or int(deadline) > 1800:
        findings.append(finding("progress-deadline", "deployment", f"progressDeadlineSeconds is {deadline}"))
    history = spec.get("revisionHistoryLimit")
    if history is not None and int(history) < 2:
        findings.append(finding("revision-history", "deployment", f"revisionHistoryLimit is {history}"))
    checks = [c for c in CHECKS.values() if c.id != "pdb" or replicas >= 2]
    if known_good is not None and config is not None:
        for key in allowed_keys or sorted(known_good):
            if key in known_good and config.get(key) != known_good[key]:
                findings.append(finding("config-drift", key, f"{key} differs from its known-good value"))
    else:
        checks = [c for c in checks if c.id != "config-drift"]
    return AuditResult(tuple(findings), len(checks), score(findings, checks))


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether a LabelSelector (matchLabels and matchExpressions) selects ``labels``; {} selects all."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or ():
        key, op, values = expr.get("key"), expr.get("operator"), list(expr.get("values") or ())
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True
