"""Plans for the findings of the periodic analyses (configuration audit, security review, capacity).

An analysis finding is an Issue whose ``indicator`` is ``<analysis>.<check>`` (``configAudit.pdb``,
``security.privileged``, ``capacity.right-sizing``): user indicator names are DNS labels, so the dot marks
it as an analysis finding. Its plan is deterministic, never the LLM's:

- ``configAudit.config-drift`` with ConfigPatch allowlisted for the key: patch the key back to its
  known-good value;
- anything else: Escalate with the check's plain-language fix (no typed action can add a probe or a
  securityContext).

Remediations of these issues always need a human: ``domain.approval`` never auto-approves them, whatever
the severity routing says (see :func:`human_only`).
"""

from __future__ import annotations

from collections.abc import Mapping

from maintenance_operator.api import v1alpha1 as api

ANALYSIS_PREFIXES = ("configAudit.", "security.", "capacity.")


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
