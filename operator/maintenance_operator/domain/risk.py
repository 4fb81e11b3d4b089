"""Risk of a plan, scored by the operator (never taken from a planner).

The score is 0-10: the riskiest action's base score, plus modifiers for the number of actions,
reversibility, the target's health, forecast-only issues and business hours. Levels: Low < 3 <= Medium
< 6 <= High < 8 <= Critical.

Base scores per action:

- NoAction, Escalate: 0 (nothing is written).
- RolloutRestart: 2 (pods are replaced one batch at a time).
- Scale up: 1 + relative growth (capped at +2); scale down: 2 + 4 x relative shrink; to zero: 9.
- ConfigPatch: 4 (changes behaviour and restarts).
- Rollback: 4.5 + 0.75 per revision back beyond the first (capped at 8); 6 when the current revision is
  unknown or the target revision is not older than it.

Business hours are Mon-Fri 08:00-18:00 UTC (+0.5): more users are online, so a bad rollout hurts more.
Operators in other regions express their quiet hours with maintenance windows instead.
"""

from __future__ import annotations

from datetime import UTC, datetime

from maintenance_operator.api.v1alpha1 import RISK_ORDER, Action, ActionType, Issue, Plan, Risk, RiskLevel
from maintenance_operator.domain.rollout import TargetSnapshot

LOW_BELOW = 3.0
MEDIUM_BELOW = 6.0
HIGH_BELOW = 8.0
BUSINESS_HOURS_UTC = (8, 18)
BUSINESS_HOURS_BUMP = 0.5
EXTRA_ACTION_BUMP = 0.5
#: Planner confidence at or above which the planner does not raise risk.
CONFIDENT = 7.0
LOW_CONFIDENCE_BUMP_PER_POINT = 0.5


def level_for(score: float) -> RiskLevel:
    """The risk level of a 0-10 score."""
    if score < LOW_BELOW:
        return RiskLevel.LOW
    if score < MEDIUM_BELOW:
        return RiskLevel.MEDIUM
    if score < HIGH_BELOW:
        return RiskLevel.HIGH
    return RiskLevel.CRITICAL


def _action_score(action: Action, target: TargetSnapshot) -> tuple[float, str]:
    if action.type is ActionType.ROLLOUT_RESTART:
        return 2.0, "RolloutRestart replaces every pod (base 2)"
    if action.type is ActionType.SCALE and action.scale is not None:
        desired, current = action.scale.replicas, target.replicas
        if desired == current:
            return 0.5, f"Scale to {desired} changes nothing (base 0.5)"
        if desired == 0:
            return 9.0, "Scale to 0 takes the service down (base 9)"
        if desired > current:
            growth = (desired - current) / max(current, 1)
            score = 1.0 + min(growth, 2.0)
            return score, f"Scale up {current}->{desired} (base {score:.1f})"
        shrink = (current - desired) / current
        score = 2.0 + 4.0 * shrink
        return score, f"Scale down {current}->{desired} removes capacity (base {score:.1f})"
    if action.type is ActionType.CONFIG_PATCH:
        return 4.0, "ConfigPatch changes behaviour and restarts (base 4)"
    if action.type is ActionType.SET_RESOURCES and action.set_resources is not None:
        if "limits" in action.set_resources.values():
            return 4.0, "SetResources changes limits and replaces every pod (base 4)"
        return 3.0, "SetResources changes requests and replaces every pod (base 3)"
    if action.type is ActionType.ROLLBACK and action.rollback is not None:
        to = action.rollback.to_revision
        if target.revision is None or to >= target.revision:
            return 6.0, f"Rollback to revision {to}: distance from the current revision unknown (base 6)"
        back = target.revision - to
        score = min(4.5 + 0.75 * (back - 1), 8.0)
        return score, f"Rollback {back} revision(s) back to {to} (base {score:.2f})"
    return 0.0, f"{action.type} writes nothing"


def _reversibility(actions: list[Action]) -> tuple[float, list[str]]:
    bump, factors = 0.0, []
    if any(
        a.type in (ActionType.ROLLOUT_RESTART, ActionType.CONFIG_PATCH, ActionType.SET_RESOURCES)
        for a in actions
    ):
        bump += 0.5
        factors.append("pods are replaced: in-memory state (sessions, caches) cannot be restored (+0.5)")
    if any(a.type is ActionType.ROLLBACK for a in actions):
        bump += 0.5
        factors.append("rollback undoes later template changes as well (+0.5)")
    return bump, factors


def _rolls_pods(actions: list[Action]) -> bool:
    return any(
        a.type
        in (
            ActionType.ROLLOUT_RESTART,
            ActionType.CONFIG_PATCH,
            ActionType.ROLLBACK,
            ActionType.SET_RESOURCES,
        )
        for a in actions
    )


def _health(target: TargetSnapshot, actions: list[Action]) -> tuple[float, list[str]]:
    bump, factors = 0.0, []
    if target.replicas > 0:
        if target.available_replicas == 0:
            bump += 2.0
            factors.append("no replica is available (+2)")
        elif target.available_replicas < target.replicas:
            missing = 1 - target.available_replicas / target.replicas
            bump += round(2.0 * missing, 2)
            factors.append(
                f"{target.available_replicas}/{target.replicas} replicas available (+{2.0 * missing:.2f})"
            )
    if target.progress_deadline_exceeded:
        bump += 1.0
        factors.append("the current rollout exceeded its progress deadline (+1)")
    elif not target.rollout_done:
        bump += 1.0
        factors.append("a rollout is already in progress (+1)")
    if _rolls_pods(actions) and target.replicas > 0 and target.max_unavailable >= target.replicas:
        bump += 1.5
        factors.append(f"the {target.strategy} strategy can take every replica down at once (+1.5)")
    return bump, factors


def in_business_hours(now: datetime) -> bool:
    """Mon-Fri 08:00-18:00 UTC."""
    utc = now.astimezone(UTC)
    return utc.weekday() < 5 and BUSINESS_HOURS_UTC[0] <= utc.hour < BUSINESS_HOURS_UTC[1]


def score_risk(*, plan: Plan, target: TargetSnapshot, issue: Issue, now: datetime) -> Risk:
    """Score the plan's risk against the target as it is now. Deterministic for equal inputs."""
    mutating = [a for a in plan.actions if a.mutating]
    if not mutating:
        return Risk(score=0.0, level=RiskLevel.LOW, factors=["no action writes to the cluster"])
    scored = [_action_score(a, target) for a in mutating]
    base, _ = max(scored, key=lambda s: s[0])
    factors = [f for _, f in scored]
    score = base
    if len(mutating) > 1:
        extra = EXTRA_ACTION_BUMP * (len(mutating) - 1)
        score += extra
        factors.append(f"{len(mutating)} writing actions (+{extra})")
    for bump, more in (_reversibility(mutating), _health(target, mutating)):
        score += bump
        factors.extend(more)
    if issue.predicted:
        score += 0.5
        factors.append("acting on a forecast, not an observed failure (+0.5)")
    if in_business_hours(now):
        score += BUSINESS_HOURS_BUMP
        factors.append(f"business hours, Mon-Fri 08:00-18:00 UTC (+{BUSINESS_HOURS_BUMP})")
    score = round(min(max(score, 0.0), 10.0), 2)
    return Risk(score=score, level=level_for(score), factors=factors)


def raise_with_planner(risk: Risk, planner_confidence: float) -> Risk:
    """Risk after taking the planner's confidence (0-10) into account: it may only raise the risk.

    Below :data:`CONFIDENT`, each missing point adds 0.5. A zero score (nothing is written) stays zero:
    an unsure plan that does nothing cannot break anything.
    """
    if risk.score == 0 or planner_confidence >= CONFIDENT:
        return risk
    bump = round((CONFIDENT - max(planner_confidence, 0.0)) * LOW_CONFIDENCE_BUMP_PER_POINT, 2)
    score = round(min(risk.score + bump, 10.0), 2)
    level = max(risk.level, level_for(score), key=lambda lv: RISK_ORDER[lv])
    factor = f"planner confidence {planner_confidence:g}/10 (+{bump})"
    return Risk(score=max(score, risk.score), level=level, factors=[*risk.factors, factor])


def within(risk: Risk, limit: RiskLevel) -> bool:
    """True when ``risk`` is at or below ``limit``."""
    return RISK_ORDER[risk.level] <= RISK_ORDER[limit]
