"""The planning context for one issue, the same for the planner (propose) and the review (remediate).

Both read the knowledge base (the policy status's outcomes for this fingerprint or category), the known-good
ConfigMap values and the indicator summary of the assessment that raised the issue, so the plan is reviewed
against exactly what the planner was given.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import planning, rollout


def summaries(
    results: Sequence[api.IndicatorResult], policy: api.MaintenancePolicySpec
) -> list[planning.IndicatorSummary]:
    """The assessment's indicator results with the policy's thresholds and categories."""
    thresholds = {i.name: i for i in policy.indicators}
    return [
        planning.IndicatorSummary(
            name=r.name,
            dimension=r.dimension.value,
            phase=r.phase.value,
            category=thresholds[r.name].category if r.name in thresholds else "general",
            value=r.value,
            warning=thresholds[r.name].warning if r.name in thresholds else None,
            critical=thresholds[r.name].critical if r.name in thresholds else None,
        )
        for r in results
    ]


def build(
    *,
    namespace: str,
    target_name: str,
    issue: api.Issue,
    state: rollout.TargetSnapshot,
    policy: api.MaintenancePolicySpec,
    policy_status: api.MaintenancePolicyStatus,
    config: dict[str, str],
    indicator_results: Sequence[api.IndicatorResult],
    now: datetime,
) -> planning.PlanningContext:
    """Everything a planner and the plan review may use for ``issue``."""
    known_good = policy_status.known_good_config.data if policy_status.known_good_config else {}
    return planning.PlanningContext(
        namespace=namespace,
        target_name=target_name,
        issue=issue,
        target=state,
        actions=policy.actions,
        config=config,
        known_good_config=dict(known_good),
        outcomes=[
            o
            for o in policy_status.outcomes
            if o.fingerprint == issue.fingerprint or o.category == issue.category
        ],
        indicator_summary=summaries(indicator_results, policy),
        now=now,
    )
