"""Plans for the findings of the periodic analyses (configuration audit, security review, capacity).

An analysis finding is an Issue whose ``indicator`` is ``<analysis>.<check>`` (``configAudit.pdb``,
``security.privileged``, ``capacity.right-sizing``): user indicator names are DNS labels, so the dot marks
it as an analysis finding. Its plan is deterministic, never the LLM's:

- ``configAudit.config-drift`` with ConfigPatch allowlisted for the key: patch the key back to its
  known-good value;
- ``capacity.<container>`` (a right-sizing recommendation, with SetResources enabled): SetResources of
  the container's requests (and memory limit) to the recommended values;
- anything else: Escalate with the check's plain-language fix (no typed action can add a probe or a
  securityContext).

Remediations of these issues always need a human: ``domain.approval`` never auto-approves them, whatever
the severity routing says (see :func:`human_only`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import capacity

ANALYSIS_PREFIXES = ("configAudit.", "security.", "capacity.")
MIB = 1024.0**2
#: A recommendation within this fraction of every current value is not worth replacing every pod.
MIN_RELATIVE_CHANGE = 0.2


def is_analysis_finding(issue: api.Issue) -> bool:
    """Whether the issue comes from a periodic analysis rather than a live indicator."""
    return issue.indicator.startswith(ANALYSIS_PREFIXES)


def human_only(issue: api.Issue, plan: api.Plan) -> bool:
    """Whether the remediation must wait for a human whatever the routing: analysis findings, and any
    plan that sets container resources."""
    return is_analysis_finding(issue) or any(a.type is api.ActionType.SET_RESOURCES for a in plan.actions)


def finding_plan(
    issue: api.Issue,
    *,
    check: str,
    subject: str,
    fix: str,
    actions: api.ActionsSpec,
    known_good: Mapping[str, str],
) -> api.Plan:
    """The plan for one analysis finding (see the module docstring)."""
    patch = actions.config_patch
    if (
        check == "config-drift"
        and patch.enabled
        and patch.config_map_ref is not None
        and subject in patch.allowed_keys
        and subject in known_good
    ):
        return api.Plan(
            actions=[
                api.Action(
                    type=api.ActionType.CONFIG_PATCH,
                    config_patch=api.ConfigPatchParams(
                        config_map_ref=patch.config_map_ref, key=subject, value=known_good[subject]
                    ),
                )
            ],
            rationale=f"{subject} differs from the value recorded as known-good; restore it.",
            expected_effect="The key holds its known-good value again.",
            rollback_plan="Restore the recorded value of the key.",
            confidence=7.0,
        )
    return api.Plan(
        actions=[
            api.Action(
                type=api.ActionType.ESCALATE,
                escalate=api.EscalateParams(reason=f"{issue.title[:400]}. Fix: {fix[:500]}"),
            )
        ],
        rationale=f"{check} on {subject or 'the target'} has no allowlisted action: a human must fix it.",
        confidence=10.0,
    )


def _changed(wanted: float | None, current: str | None) -> bool:
    now = capacity.parse_quantity(current)
    if wanted is None:
        return False
    return not now or abs(wanted - now) / now > MIN_RELATIVE_CHANGE


def right_sizing(
    result: api.RightSizingResult,
    *,
    target: str,
    current: Mapping[str, Mapping[str, str]],
    actions: api.ActionsSpec,
) -> tuple[api.Issue, api.Plan] | None:
    """A right-sizing recommendation as a low operational issue with its SetResources plan; None when
    SetResources is not enabled, the data recommended nothing, or nothing moves by more than
    ``MIN_RELATIVE_CHANGE``. ``current``: the container's resources ({"requests": {...}, "limits": {...}})."""
    if not actions.set_resources.enabled:
        return None
    requests, limits = current.get("requests") or {}, current.get("limits") or {}
    cpu, memory, memory_limit = (
        result.cpu_request_cores,
        result.memory_request_bytes,
        result.memory_limit_bytes,
    )
    if not (
        _changed(cpu, requests.get("cpu"))
        or _changed(memory, requests.get("memory"))
        or _changed(memory_limit, limits.get("memory"))
    ):
        return None
    params = api.SetResourcesParams(
        container=result.container,
        cpu_request=f"{max(1, math.ceil(cpu * 1000))}m" if cpu else None,
        memory_request=f"{max(1, math.ceil(memory / MIB))}Mi" if memory else None,
        memory_limit=f"{max(1, math.ceil(memory_limit / MIB))}Mi" if memory_limit else None,
    )
    wanted = params.values()
    digest = hashlib.sha256(f"{target}/capacity/{result.container}/{sorted(wanted.items())}".encode())
    issue = api.Issue(
        fingerprint=digest.hexdigest()[:16],
        title=f"right-size {result.container}: {wanted}"[:256],
        severity=api.Severity.LOW,
        category="capacity",
        dimension=api.Dimension.OPERATIONAL,
        indicator=f"capacity.{result.container}",
        description=result.assumptions,
    )
    plan = api.Plan(
        actions=[api.Action(type=api.ActionType.SET_RESOURCES, set_resources=params)],
        rationale=f"Right-sizing from Prometheus history: {result.assumptions}"[:2000],
        expected_effect="Requests match observed use; memory keeps its buffer above the peak.",
        rollback_plan="Restore the pod template of the revision before the change.",
        confidence=6.0,
    )
    return issue, plan
