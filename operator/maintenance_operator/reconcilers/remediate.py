"""One tick of a Remediation's state machine: route, approve, guard, execute, verify, roll back.

Every tick reads the Remediation as stored, does at most one step of work, and writes the status before
and after each write to the cluster (step markers), so an operator killed at any point resumes without
applying anything twice: the Kubernetes adapter recognises its own markers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from maintenance_operator import metrics
from maintenance_operator.adapters import crs, errors, kube
from maintenance_operator.api import stored
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import (
    approval,
    attestation,
    calibration,
    guards,
    judgement,
    knowledge,
    machine,
    notification,
    outcomes,
    plan_review,
    plan_validation,
    redaction,
    sla,
    timestamps,
    verification,
)
from maintenance_operator.reconcilers import context, measure, ports

log = logging.getLogger(__name__)
P = api.RemediationPhase
ROLLOUT_TIMEOUT_MARGIN = 60.0
OUTCOME_ATTEMPTS = 5
APPLIED = {api.StepPhase.APPLIED, api.StepPhase.ROLLED_OUT}
DONE = {api.StepPhase.ROLLED_OUT, api.StepPhase.SKIPPED, api.StepPhase.PROPOSED_ONLY}


@dataclass
class Tick:
    """The Remediation being advanced and everything a step may need."""

    world: ports.Ports
    body: dict[str, Any]
    spec: api.RemediationSpec
    status: api.RemediationStatus
    policy_body: dict[str, Any]
    policy: api.MaintenancePolicySpec
    now: datetime
    events: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.body["metadata"]["namespace"])

    @property
    def policy_status(self) -> api.MaintenancePolicyStatus:
        """The policy's status as read with the policy (malformed entries skipped, see api.stored)."""
        return stored.read(api.MaintenancePolicyStatus, self.policy_body).status

    @property
    def phase(self) -> api.RemediationPhase:
        return self.status.phase or P.PROPOSED

    def target(self) -> ports.Target:
        return self.world.target(namespace=self.namespace, name=self.spec.target_ref.name)

    def lease(self) -> ports.TargetLock:
        return self.world.lock(
            namespace=self.namespace, deployment=self.spec.target_ref.name, holder=self.name
        )

    async def save(self, **updates: Any) -> None:
        """Persist status fields now (before the next write to the cluster)."""
        self.status = self.status.model_copy(update=updates)
        wire = self.status.wire()
        patch = {
            key: wire.get(key) for key in (api.RemediationStatus.model_fields[k].alias or k for k in updates)
        }
        patch["observedGeneration"] = self.body["metadata"].get("generation")
        await self.world.resources.patch_status("Remediation", self.namespace, self.name, patch)

    async def move(self, phase: api.RemediationPhase, *, reason: str, message: str, **updates: Any) -> None:
        """A legal transition with its condition, Event and metric (the message redacted: it may quote the
        plan's text)."""
        machine.transition(self.phase, phase)
        message = redaction.redact(message)
        conditions = machine.set_condition(
            self.status.conditions,
            type=_CONDITION_FOR.get(phase, "Progressing"),
            status=api.ConditionStatus.FALSE if phase in _BAD else api.ConditionStatus.TRUE,
            reason=reason,
            message=message,
            now=self.now,
            observed_generation=self.body["metadata"].get("generation"),
        )
        extra: dict[str, Any] = {"phase": phase, "message": message, "conditions": conditions, **updates}
        if machine.is_terminal(phase):
            extra["completed_at"] = timestamps.rfc3339(self.now)
        await self.save(**extra)
        metrics.TRANSITIONS.labels(phase=phase.value).inc()
        log.info("remediation %s/%s: %s (%s): %s", self.namespace, self.name, phase.value, reason, message)
        level = "Warning" if phase in _BAD else "Normal"
        self.events.append((level, reason, f"{phase.value}: {message}"))


_CONDITION_FOR = {
    P.AWAITING_APPROVAL: "Approved",
    P.APPROVED: "Approved",
    P.REJECTED: "Approved",
    P.EXPIRED: "Approved",
    P.EXECUTING: "Executed",
    P.VERIFYING: "Executed",
    P.SUCCEEDED: "Verified",
    P.PAUSED: "Verified",
    P.ROLLING_BACK: "Verified",
    P.ROLLED_BACK: "RolledBack",
}
_BAD = {
    P.FAILED,
    P.REJECTED,
    P.EXPIRED,
    P.ROLLED_BACK,
    P.PAUSED,
    P.ROLLING_BACK,
    P.ESCALATED,
    P.AWAITING_APPROVAL,
}


async def advance(tick: Tick) -> None:
    """Do the next step for the Remediation's phase (nothing for terminal phases)."""
    if machine.is_terminal(tick.phase):
        if tick.phase is P.ESCALATED:
            await _escalation_reminder(tick)
        return
    if tick.spec.terminate:
        changed = any(s.phase in APPLIED for s in tick.status.steps)
        target = machine.on_terminate(tick.phase, changed=changed)
        if target is not None:
            await tick.move(target, reason="Terminated", message="spec.terminate was set")
            if target is P.TERMINATED:
                await _finish(tick, result=P.TERMINATED)
            return
    step = _STEPS[tick.phase]
    await step(tick)
    if tick.phase is P.APPROVED and step is not _start:
        # approved in this tick (by the policy, a human or an opening window): start now, not a tick later
        await _start(tick)
    if not machine.is_terminal(tick.phase):
        await _sla_watch(tick)


# ---------------------------------------------------------------- before execution


async def _propose(tick: Tick) -> None:
    target = tick.target()
    try:
        snapshot = await target.snapshot()
        state = await target.state(now=tick.now)
    except errors.ApiError as exc:
        await tick.move(P.FAILED, reason="TargetUnreadable", message=f"cannot read the target: {exc}")
        return
    ctx = context.build(
        namespace=tick.namespace,
        target_name=tick.spec.target_ref.name,
        issue=tick.spec.issue,
        state=state,
        policy=tick.policy,
        policy_status=tick.policy_status,
        config=await config_values(target, tick.policy),
        indicator_results=await _indicator_results(tick),
        now=tick.now,
    )
    violations = plan_validation.validate_plan(tick.spec.plan, ctx)
    if violations:
        await tick.move(P.FAILED, reason="PlanRejected", message="plan rejected: " + "; ".join(violations))
        return
    # the second opinion is the offline planner on this same context (what adapters.llm asked too), computed
    # here rather than read from the Remediation, which anyone allowed to patch it could edit
    gated = plan_review.gate(
        plan=tick.spec.plan, ctx=ctx, snapshot=snapshot, policy=tick.policy, now=tick.now
    )
    review, scored, decision = _redacted(gated.review), gated.risk, gated.decision
    _count_review(tick, review)
    route = tick.policy.severity_routing.route(tick.spec.issue.severity)
    due = _deadlines(tick)
    updates: dict[str, Any] = {
        "risk": scored,
        "route": route,
        "review": review,
        "response_due": timestamps.rfc3339(due.response_due),
        "resolution_due": timestamps.rfc3339(due.resolution_due),
    }
    if decision.phase is P.SCHEDULED and sla.window_too_far(
        next_window_opens=approval.next_window_start(tick.policy.maintenance_windows, tick.now),
        response_due=due.response_due,
    ):
        decision = approval.Decision(
            phase=P.AWAITING_APPROVAL,
            reason="WindowTooFar",
            message=(
                f"the next maintenance window opens after the response deadline "
                f"{timestamps.rfc3339(due.response_due)}: a human decides now"
            ),
        )
    if decision.phase in (P.AWAITING_APPROVAL, P.SCHEDULED):
        updates["approval_expires_at"] = timestamps.rfc3339(
            approval.approval_expires_at(tick.now, tick.policy.approval.expire_after)
        )
    if decision.approved_by:
        updates["approved_by"] = decision.approved_by
    message = decision.message
    held = [r for r in review.reasons if r not in message]
    if held and decision.phase in (P.AWAITING_APPROVAL, P.SCHEDULED, P.BACKLOG):
        message = f"{message}; the review holds it: {'; '.join(held)}"
    await tick.move(decision.phase, reason=decision.reason, message=message[:4096], **updates)
    if decision.phase is P.AWAITING_APPROVAL:
        await _approval_needed(tick)
    if machine.is_terminal(decision.phase):
        await _finish(tick, result=decision.phase)


async def _indicator_results(tick: Tick) -> list[api.IndicatorResult]:
    """The indicator results of the assessment that raised the issue (none when it is gone)."""
    if tick.spec.assessment_ref is None:
        return []
    try:
        found = await tick.world.resources.get(
            "HealthAssessment", tick.namespace, tick.spec.assessment_ref.name
        )
    except errors.ApiError as exc:
        log.warning("cannot read assessment %s: %s", tick.spec.assessment_ref.name, exc)
        return []
    return stored.read(api.HealthAssessmentStatus, found).status.indicator_results


def _redacted(review: api.PlanReview) -> api.PlanReview:
    """Reasons and notes quote plan text: stored and shown redacted."""
    return review.model_copy(
        update={
            "reasons": [redaction.redact(r) for r in review.reasons],
            "notes": [redaction.redact(n) for n in review.notes],
            "second_opinion": redaction.redact(review.second_opinion)[:512],
        }
    )


def _count_review(tick: Tick, review: api.PlanReview) -> None:
    planner = tick.spec.plan.planner.value
    policy = tick.spec.policy_ref.name
    metrics.PLAN_REVIEWS.labels(
        namespace=tick.namespace, policy=policy, planner=planner, result=plan_review.result_kind(review)
    ).inc()
    if review.agreement is api.Agreement.DISAGREE:
        metrics.PLANNER_DISAGREEMENTS.labels(namespace=tick.namespace, policy=policy).inc()
    metrics.EFFECTIVE_CONFIDENCE.labels(planner=planner).observe(review.effective_confidence)


async def _human_decision(tick: Tick) -> bool:
    """Apply a verified human decision; True if one was found (valid or not)."""
    decision = tick.spec.approval
    if decision is None:
        return False
    annotations = tick.body["metadata"].get("annotations") or {}
    signature = annotations.get(attestation.SIGNATURE_ANNOTATION)
    uid = str(tick.body["metadata"]["uid"])
    if not attestation.verify(key=tick.world.approval_key, uid=uid, approval=decision, signature=signature):
        conditions = machine.set_condition(
            tick.status.conditions,
            type="Approved",
            status=api.ConditionStatus.FALSE,
            reason="ApprovalUnverified",
            message="the approval was not stamped by the admission webhook (or was altered): ignored",
            now=tick.now,
        )
        if conditions != tick.status.conditions:
            await tick.save(conditions=conditions)
            tick.events.append(
                ("Warning", "ApprovalUnverified", "approval ignored: signature does not verify")
            )
        return True
    who = decision.approved_by or "unknown"
    responded = _responded(tick)
    if decision.approved:
        await tick.move(
            P.APPROVED, reason="ApprovedByHuman", message=f"approved by {who}", approved_by=who, **responded
        )
    else:
        await tick.move(
            P.REJECTED, reason="RejectedByHuman", message=f"rejected by {who}: {decision.reason}", **responded
        )
        await _finish(tick, result=P.REJECTED)
    return True


async def _await_approval(tick: Tick) -> None:
    if await _human_decision(tick):
        return
    await _on_expiry(tick)


async def _on_expiry(tick: Tick) -> None:
    """An approval that expired unanswered is re-raised while the resolution deadline can still be met,
    escalated after (never silently dropped)."""
    expires = tick.status.approval_expires_at
    if not expires or timestamps.parse(expires) > tick.now:
        return
    if sla.on_approval_expired(due=_deadlines(tick), now=tick.now) is sla.ExpiryAction.RERAISE:
        renewed = timestamps.rfc3339(
            approval.approval_expires_at(tick.now, tick.policy.approval.expire_after)
        )
        conditions = machine.set_condition(
            tick.status.conditions,
            type="Approved",
            status=api.ConditionStatus.FALSE,
            reason="ApprovalReRaised",
            message=f"no decision before {expires}: asked again until {renewed}",
            now=tick.now,
        )
        await tick.save(approval_expires_at=renewed, conditions=conditions)
        tick.events.append(("Warning", "ApprovalReRaised", f"no decision before {expires}: asked again"))
        await _approval_needed(tick)
        return
    await tick.move(
        P.ESCALATED,
        reason="ApprovalExpired",
        message=f"no decision before {expires} and the resolution deadline has passed: a human must act",
    )
    await _finish(tick, result=P.ESCALATED)


async def _scheduled(tick: Tick) -> None:
    if await _human_decision(tick):
        return
    if approval.in_maintenance_window(tick.policy.maintenance_windows, tick.now):
        await tick.move(
            P.APPROVED,
            reason="MaintenanceWindowOpen",
            message="the maintenance window opened",
            approved_by=approval.WINDOW_APPROVER,
        )
        return
    await _on_expiry(tick)


async def _backlog(tick: Tick) -> None:
    if await _human_decision(tick):
        return
    sent = set(tick.status.sla_notices)
    if sla.backlog_overdue(due=_deadlines(tick), now=tick.now) and sla.Notice.BREACHED.value not in sent:
        await _send_notice(tick, sla.Notice.BREACHED, detail="a Backlog item passed its response deadline")


# ---------------------------------------------------------------- execution


async def _history(tick: Tick) -> tuple[list[guards.ExecutionRecord], int]:
    # by spec, not label: Remediations written by people or other tools count too
    items = [
        item
        for item in await tick.world.resources.list("Remediation", tick.namespace)
        if ((item.get("spec") or {}).get("targetRef") or {}).get("name") == tick.spec.target_ref.name
    ]
    records: list[guards.ExecutionRecord] = []
    active = 0
    for item in items:
        name = item["metadata"]["name"]
        if name == tick.name:
            continue
        status = stored.read(api.RemediationStatus, item).status
        started = timestamps.parse_or_none(status.started_at)
        if started is not None:
            records.append(guards.ExecutionRecord(at=started, remediation=name))
        if status.phase in machine.ACTIVE:
            active += 1
    return records, active


async def _start(tick: Tick) -> None:
    if not tick.status.started_at and tick.spec.assessment_ref is not None and await _issue_gone(tick):
        # detected issues are re-measured before the first write: never act on a stale observation
        await tick.move(
            P.REJECTED,
            reason="IssueResolved",
            message=f"{tick.spec.issue.indicator} is healthy again before execution; nothing was changed",
        )
        await _finish(tick, result=P.REJECTED)
        return
    target = tick.target()
    snapshot = await target.snapshot()
    history, active = await _history(tick)
    violations = guards.check_guards(
        policy_spec=tick.policy,
        target=snapshot,
        plan=tick.spec.plan,
        history=history,
        open_executing=active,
        now=tick.now,
        remediation=tick.name,
    )
    lease = tick.lease()
    if not violations and not await lease.acquire(now=tick.now):
        holder = await lease.current_holder(now=tick.now)
        violations = [guards.GuardViolation(reason="LeaseHeld", message=f"{holder} holds the target's lease")]
    if violations:
        await _blocked(tick, violations)
        return
    pre_state = tick.status.pre_state or await target.capture_pre_state(
        now=tick.now, config_map=_config_map(tick.spec.plan), keys=_config_keys(tick.spec.plan)
    )
    steps = tick.status.steps or [
        api.Step(index=i, type=a.type, phase=api.StepPhase.PENDING)
        for i, a in enumerate(tick.spec.plan.actions)
    ]
    await tick.save(pre_state=pre_state, steps=steps, started_at=timestamps.rfc3339(tick.now))
    await tick.move(
        P.EXECUTING, reason="Executing", message=f"executing: {_describe(tick.spec.plan)}", **_responded(tick)
    )


async def _issue_gone(tick: Tick) -> bool:
    """True only when the triggering indicator is back inside its warning threshold now (no data, an
    error or a value between warning and critical is not "gone")."""
    indicator = next((i for i in tick.policy.indicators if i.name == tick.spec.issue.indicator), None)
    if indicator is None:
        return False
    [(_indicator, measurement)] = await _measure_each(tick, [indicator])
    return (
        measurement.phase is api.MeasurementPhase.SUCCESSFUL
        and measurement.value is not None
        and judgement.level_of(measurement.value, indicator) is judgement.Level.OK
    )


async def _blocked(tick: Tick, violations: Sequence[guards.GuardViolation]) -> None:
    message = "; ".join(v.message for v in violations)
    conditions = machine.set_condition(
        tick.status.conditions,
        type="Blocked",
        status=api.ConditionStatus.TRUE,
        reason=violations[0].reason,
        message=message,
        now=tick.now,
    )
    if [c.message for c in conditions] != [c.message for c in tick.status.conditions]:
        log.info("remediation %s/%s blocked: %s", tick.namespace, tick.name, message)
        tick.events.append(("Normal", violations[0].reason, f"waiting: {message}"))
        await tick.save(conditions=conditions, message=f"blocked: {message}")


def _config_map(plan: api.Plan) -> str | None:
    return next((a.config_patch.config_map_ref.name for a in plan.actions if a.config_patch), None)


def _config_keys(plan: api.Plan) -> list[str]:
    return [a.config_patch.key for a in plan.actions if a.config_patch]


async def _execute(tick: Tick) -> None:
    target = tick.target()
    await tick.lease().renew(now=tick.now)
    snapshot = await target.snapshot()
    proposed_only = set(guards.proposed_only_actions(plan=tick.spec.plan, target=snapshot))
    steps = list(tick.status.steps)
    for position, step in enumerate(steps):
        if step.phase in DONE:
            continue
        action = tick.spec.plan.actions[step.index]
        if not action.mutating:
            steps[position] = step.model_copy(
                update={"phase": api.StepPhase.SKIPPED, "message": "writes nothing"}
            )
            await tick.save(steps=steps)
            continue
        if step.phase is api.StepPhase.FAILED:
            return
        if step.phase is api.StepPhase.PENDING:
            if step.marker is None:
                # Persist the marker before writing: a restart re-applies the same change, which the
                # adapter recognises as already applied.
                steps[position] = step = step.model_copy(
                    update={
                        "marker": kube.restart_marker(tick.now),
                        "started_at": timestamps.rfc3339(tick.now),
                    }
                )
                await tick.save(steps=steps)
            try:
                result = await target.execute(
                    action,
                    marker=step.marker,
                    pre_state=tick.status.pre_state,
                    propose_only=step.index in proposed_only,
                )
            except errors.AdapterError as exc:
                detail = str(exc)
                steps[position] = step.model_copy(
                    update={"phase": api.StepPhase.FAILED, "message": str(detail)}
                )
                await tick.save(steps=steps)
                applied = any(s.phase in APPLIED for s in steps)
                await tick.move(
                    P.ROLLING_BACK if applied else P.FAILED,
                    reason="ActionFailed",
                    message=f"{action.type.value} failed: {detail}",
                )
                if not applied:
                    await _finish(tick, result=P.FAILED)
                return
            if step.index in proposed_only:
                steps[position] = step.model_copy(
                    update={"phase": api.StepPhase.PROPOSED_ONLY, "message": result.message}
                )
                await tick.save(steps=steps, proposed_change=result.diff[:8000] or result.message)
                tick.events.append(("Normal", "ProposedChange", f"GitOps-managed target: {result.message}"))
                continue
            steps[position] = step = step.model_copy(
                update={"phase": api.StepPhase.APPLIED, "message": result.message}
            )
            await tick.save(steps=steps)
            tick.events.append(("Normal", "Applied", result.message))
        state = await target.rollout_state()
        if state.done:
            steps[position] = step.model_copy(
                update={"phase": api.StepPhase.ROLLED_OUT, "completed_at": timestamps.rfc3339(tick.now)}
            )
            await tick.save(steps=steps)
            continue
        deadline = await target.progress_deadline_seconds()
        started = timestamps.parse(step.started_at) if step.started_at else tick.now
        if state.failed or tick.now - started > timedelta(seconds=deadline + ROLLOUT_TIMEOUT_MARGIN):
            await tick.move(
                P.ROLLING_BACK, reason="RolloutFailed", message=f"rollout did not complete: {state.message}"
            )
        return
    if all(s.phase in (api.StepPhase.SKIPPED, api.StepPhase.PROPOSED_ONLY) for s in steps):
        await tick.move(
            P.ESCALATED,
            reason="ProposedOnly",
            message="the target is managed by GitOps: the change is in status.proposedChange for a human",
        )
        await _finish(tick, result=P.ESCALATED)
        return
    await tick.move(
        P.VERIFYING,
        reason="RolledOut",
        message="rollout complete; verifying against Prometheus",
        verification=api.VerificationResult(started_at=timestamps.rfc3339(tick.now)),
    )


# ---------------------------------------------------------------- verification and rollback


def _indicators(tick: Tick) -> list[api.Indicator]:
    wanted = tick.spec.plan.success_criteria.indicators or [tick.spec.issue.indicator]
    by_name = {i.name: i for i in tick.policy.indicators}
    return [by_name[n] for n in wanted if n in by_name] or [
        i for i in tick.policy.indicators if i.name == tick.spec.issue.indicator
    ]


_WORST = [api.MeasurementPhase.ERROR, api.MeasurementPhase.FAILED, api.MeasurementPhase.INCONCLUSIVE]


async def _verify(tick: Tick) -> None:
    current = tick.status.verification or api.VerificationResult(started_at=timestamps.rfc3339(tick.now))
    started = timestamps.parse(current.started_at or timestamps.rfc3339(tick.now))
    # initialDelay is raised to the queries' look-back: no measurement sees pre-change samples
    spec = verification.effective_spec(tick.policy.verification, [i.query for i in _indicators(tick)])
    due = verification.next_measurement_due(
        measurements=current.measurements, spec=spec, started_at=started, now=tick.now
    )
    measurements = list(current.measurements)
    if due is not None and due <= tick.now:
        measurements.append(await _measure(tick))
    verdict = verification.verdict(measurements=measurements, spec=spec, started_at=started, now=tick.now)
    result = current.model_copy(
        update={
            "measurements": measurements[-50:],
            "phase": verdict.measurement_phase,
            "failures": verdict.failures,
            "inconclusive": verdict.inconclusive,
            "successes": verdict.successes,
        }
    )
    if verdict.phase is verification.VerdictPhase.PENDING:
        if result != current:
            await tick.save(verification=result)
        return
    if verdict.phase is verification.VerdictPhase.SUCCESSFUL:
        await tick.move(
            P.SUCCEEDED,
            reason="Verified",
            message=verdict.message,
            verification=result,
            resolved_at=timestamps.rfc3339(tick.now),
        )
        await _finish(tick, result=P.SUCCEEDED)
    elif verdict.phase is verification.VerdictPhase.FAILED:
        await tick.move(
            P.ROLLING_BACK, reason="VerificationFailed", message=verdict.message, verification=result
        )
    else:
        await tick.move(
            P.PAUSED,
            reason="VerificationInconclusive",
            message=f"{verdict.message}; a human decides: set spec.terminate to roll back",
            verification=result,
        )
        await tick.world.notify(
            _event(
                tick,
                notification.EventType.ESCALATION,
                title=f"Verification inconclusive for {tick.namespace}/{tick.name}: paused",
                text=f"{verdict.message}; set spec.terminate to roll back",
            )
        )


async def _measure(tick: Tick) -> api.Measurement:
    """One measurement over every success indicator: the worst judgement wins."""
    found = await _measure_each(tick, _indicators(tick))
    if not found:
        return api.Measurement(
            phase=api.MeasurementPhase.INCONCLUSIVE,
            at=timestamps.rfc3339(tick.now),
            message="no indicator to verify",
        )
    worst = min(found, key=lambda f: _WORST.index(f[1].phase) if f[1].phase in _WORST else len(_WORST))
    indicator, measurement = worst
    return measurement.model_copy(update={"message": f"{indicator.name}: {measurement.message}".strip(": ")})


async def _measure_each(
    tick: Tick, indicators: Sequence[api.Indicator]
) -> list[tuple[api.Indicator, api.Measurement]]:
    return await measure.measure_each(
        tick.world,
        spec=tick.policy.prometheus,
        namespace=tick.namespace,
        deployment=tick.spec.target_ref.name,
        indicators=indicators,
        now=tick.now,
    )


async def _paused(tick: Tick) -> None:
    """Waits for a human: spec.terminate rolls back (handled in advance)."""


async def _roll_back(tick: Tick) -> None:
    target = tick.target()
    pre_state = tick.status.pre_state
    if pre_state is None or not any(s.phase in APPLIED for s in tick.status.steps):
        await tick.move(
            P.ROLLED_BACK, reason="NothingToUndo", message="nothing was applied", rolled_back=True
        )
        await _finish(tick, result=P.ROLLED_BACK)
        return
    try:
        result = await target.restore(pre_state)
    except errors.AdapterError as exc:
        detail = str(exc)
        await tick.move(
            P.FAILED, reason="RollbackFailed", message=f"could not restore the pre-state: {detail}"
        )
        await _finish(tick, result=P.FAILED)
        return
    if result.applied:
        tick.events.append(("Warning", "RollingBack", result.message))
    state = await target.rollout_state()
    if state.done:
        await tick.move(
            P.ROLLED_BACK,
            reason="RolledBack",
            message=f"pre-state restored ({_restored(pre_state)})",
            rolled_back=True,
        )
        await _finish(tick, result=P.ROLLED_BACK)
    elif state.failed:
        await tick.move(P.FAILED, reason="RollbackStuck", message=f"rollback rollout stuck: {state.message}")
        await _finish(tick, result=P.FAILED)


def _restored(pre_state: api.PreState) -> str:
    parts = [f"revision {pre_state.revision}", f"{pre_state.replicas} replicas"]
    parts += [f"ConfigMap {c.name}" for c in pre_state.config_maps]
    return ", ".join(parts)


_STEPS = {
    P.PROPOSED: _propose,
    P.AWAITING_APPROVAL: _await_approval,
    P.SCHEDULED: _scheduled,
    P.BACKLOG: _backlog,
    P.APPROVED: _start,
    P.EXECUTING: _execute,
    P.VERIFYING: _verify,
    P.PAUSED: _paused,
    P.ROLLING_BACK: _roll_back,
}


# ---------------------------------------------------------------- outcome


async def _finish(tick: Tick, *, result: api.RemediationPhase) -> None:
    """Release the lease, record the outcome in the knowledge base, count it, notify."""
    if tick.status.started_at:
        try:
            await tick.lease().release()
        except errors.ApiError as exc:
            log.warning("lease release failed for %s: %s", tick.name, exc)
    action = next(
        (a.type.value for a in tick.spec.plan.actions if a.mutating), tick.spec.plan.actions[0].type.value
    )
    policy = tick.spec.policy_ref.name
    metrics.REMEDIATIONS.labels(
        namespace=tick.namespace, policy=policy, action=action, outcome=result.value
    ).inc()
    created = timestamps.parse(
        str(tick.body["metadata"].get("creationTimestamp") or timestamps.rfc3339(tick.now))
    )
    recover = (tick.now - created).total_seconds() if result is P.SUCCEEDED else None
    if recover is not None:
        metrics.TIME_TO_RECOVER.labels(namespace=tick.namespace, policy=policy, action=action).observe(
            recover
        )
    _observe_sla(tick, policy=policy, result=result)
    started = bool(tick.status.started_at)
    if outcomes.recorded(result, started=started) and _refused_or_done(tick, result):
        outcome = outcomes.outcome(
            issue=tick.spec.issue,
            plan=tick.spec.plan,
            result=result,
            at=timestamps.rfc3339(tick.now),
            remediation=tick.name,
            review=tick.status.review,
            time_to_recover_seconds=recover,
        )
        await _record(tick, policy=policy, outcome=outcome)
    escalated = result is P.ESCALATED
    ack = f"; acknowledge with `kubectl maintenance ack {tick.name} -n {tick.namespace}`"
    await tick.world.notify(
        _event(
            tick,
            notification.EventType.ESCALATION if escalated else notification.EventType.REMEDIATION_OUTCOME,
            title=f"Remediation {tick.namespace}/{tick.name} {result.value}",
            text=tick.status.message + (ack if escalated else ""),
        )
    )


def _refused_or_done(tick: Tick, result: api.RemediationPhase) -> bool:
    """A Rejected outcome counts only when a human rejected the plan (not when the issue went away before
    execution or its severity is ignored): only a human refusal says something about the plan."""
    if result is not P.REJECTED:
        return True
    return tick.spec.approval is not None and not tick.spec.approval.approved


async def _record(tick: Tick, *, policy: str, outcome: api.Outcome) -> None:
    """Append the outcome to the policy's knowledge base, conditional on the resourceVersion read: when
    another Remediation finished in between, read again and retry, so no outcome is lost."""
    for _attempt in range(OUTCOME_ATTEMPTS):
        fresh = await tick.world.resources.get("MaintenancePolicy", tick.namespace, policy)
        if fresh is None:
            return
        read = stored.read(api.MaintenancePolicyStatus, fresh)
        skipped = [d for d in read.dropped if d.startswith("outcomes")]
        if skipped:
            log.warning(
                "policy %s: outcomes %s do not parse and are dropped: %s", policy, skipped, read.reason
            )
        kept = knowledge.record_outcome(
            read.status.outcomes, outcome, history=tick.policy.history, now=tick.now
        )
        calibrated = calibration.calibrate(kept)
        try:
            await tick.world.resources.patch_status(
                "MaintenancePolicy",
                tick.namespace,
                policy,
                {"outcomes": [o.wire() for o in kept], "calibration": [c.wire() for c in calibrated]},
                resource_version=fresh["metadata"].get("resourceVersion"),
            )
        except errors.Conflict:
            continue
        for c in calibrated:
            labels = {"namespace": tick.namespace, "policy": policy, "planner": c.planner.value}
            if c.brier_score is not None:
                metrics.PLANNER_BRIER_SCORE.labels(**labels).set(c.brier_score)
            if c.success_rate is not None:
                metrics.PLANNER_SUCCESS_RATE.labels(**labels).set(c.success_rate)
        return
    log.warning("outcome of %s not recorded: the policy kept changing", tick.name)


def _describe(plan: api.Plan) -> str:
    parts = []
    for a in plan.actions:
        if a.scale:
            parts.append(f"Scale to {a.scale.replicas}")
        elif a.rollback:
            parts.append(f"Rollback to revision {a.rollback.to_revision}")
        elif a.config_patch:
            parts.append(f"ConfigPatch {a.config_patch.config_map_ref.name}[{a.config_patch.key}]")
        else:
            parts.append(a.type.value)
    return ", ".join(parts)


async def config_values(target: ports.Target, policy: api.MaintenancePolicySpec) -> dict[str, str]:
    """Current values of the allowlisted ConfigMap keys (nothing else is read into a prompt)."""
    patch = policy.actions.config_patch
    if not patch.enabled or patch.config_map_ref is None:
        return {}
    return await target.config_values(patch.config_map_ref.name, patch.allowed_keys)


# ---------------------------------------------------------------- response SLAs and notices


def _detected_at(tick: Tick) -> datetime:
    """When the breach began: the issue's detectedAt, else the Remediation's creation, else now."""
    for raw in (tick.spec.issue.detected_at, tick.body["metadata"].get("creationTimestamp")):
        parsed = timestamps.parse_or_none(str(raw) if raw else None)
        if parsed is not None:
            return parsed
    return tick.now


def _deadlines(tick: Tick) -> sla.Deadlines:
    return sla.deadlines(tick.policy.sla, severity=tick.spec.issue.severity, detected_at=_detected_at(tick))


def _responded(tick: Tick) -> dict[str, Any]:
    """The respondedAt update for a first response (nothing when one was already recorded)."""
    return {} if tick.status.responded_at else {"responded_at": timestamps.rfc3339(tick.now)}


def _event(tick: Tick, type_: notification.EventType, *, title: str, text: str = "") -> notification.Event:
    issue = tick.spec.issue
    return notification.Event(
        type=type_,
        namespace=tick.namespace,
        name=tick.name,
        title=title,
        at=tick.now,
        severity=issue.severity,
        text=redaction.redact(text),
        fields={
            "issue": issue.title,
            "category": issue.category,
            "phase": tick.phase.value,
            **({"responseDue": tick.status.response_due} if tick.status.response_due else {}),
            **({"resolutionDue": tick.status.resolution_due} if tick.status.resolution_due else {}),
        },
    )


async def _approval_needed(tick: Tick) -> None:
    level = tick.status.risk.level.value if tick.status.risk else "unknown"
    review = tick.status.review
    confidence = (
        f", confidence {review.effective_confidence:g} (planner {review.planner_confidence:g})"
        if review
        else ""
    )
    why = f" Held: {'; '.join(review.reasons)}." if review and review.reasons else ""
    await tick.world.notify(
        _event(
            tick,
            notification.EventType.APPROVAL_NEEDED,
            title=f"Approval needed: {tick.namespace}/{tick.name}",
            text=(
                f"{tick.spec.issue.severity.value} {tick.spec.issue.category}, risk {level}{confidence}: "
                f"{_describe(tick.spec.plan)}.{why} "
                f"`kubectl maintenance approve {tick.name} -n {tick.namespace}`"
            ),
        )
    )


_NOTICE_EVENT = {
    sla.Notice.AT_RISK: notification.EventType.SLA_AT_RISK,
    sla.Notice.BREACHED: notification.EventType.SLA_BREACHED,
    sla.Notice.REMINDER: notification.EventType.REMINDER,
}


async def _send_notice(tick: Tick, notice: sla.Notice, *, detail: str) -> None:
    """Send one SLA notice and remember it (which, and when) so that it is not sent again."""
    sent = [*tick.status.sla_notices]
    if notice.value not in sent:
        sent.append(notice.value)
    await tick.save(sla_notices=sent[-16:], last_notice_at=timestamps.rfc3339(tick.now))
    tick.events.append(("Warning", notice.value, detail))
    await tick.world.notify(
        _event(
            tick, _NOTICE_EVENT[notice], title=f"{notice.value}: {tick.namespace}/{tick.name}", text=detail
        )
    )


async def _sla_watch(tick: Tick) -> None:
    """On every tick of an open Remediation: record the deadlines, keep the SLA condition current and send
    the notice the issue is owed now (at risk, breached, then reminders)."""
    due = _deadlines(tick)
    updates: dict[str, Any] = {}
    if tick.status.response_due is None or tick.status.resolution_due is None:
        updates["response_due"] = timestamps.rfc3339(due.response_due)
        updates["resolution_due"] = timestamps.rfc3339(due.resolution_due)
    state = sla.standing(
        tick.policy.sla,
        due=due,
        responded_at=timestamps.parse_or_none(tick.status.responded_at),
        resolved_at=timestamps.parse_or_none(tick.status.resolved_at),
        now=tick.now,
    )
    worst = state.worst
    message = (
        f"response {state.response.value} (due {timestamps.rfc3339(due.response_due)}), "
        f"resolution {state.resolution.value} (due {timestamps.rfc3339(due.resolution_due)})"
    )
    conditions = machine.set_condition(
        tick.status.conditions,
        type="SLA",
        status=api.ConditionStatus.TRUE
        if worst in (sla.SLAState.ON_TRACK, sla.SLAState.MET)
        else api.ConditionStatus.FALSE,
        reason=worst.value,
        message=message,
        now=tick.now,
    )
    if [(c.reason, c.message) for c in conditions] != [(c.reason, c.message) for c in tick.status.conditions]:
        updates["conditions"] = conditions
    if updates:
        await tick.save(**updates)
    sent = frozenset(sla.Notice(n) for n in tick.status.sla_notices if n in {x.value for x in sla.Notice})
    notice = sla.notice_due(
        tick.policy.sla,
        state=state,
        sent=sent,
        last_sent_at=timestamps.parse_or_none(tick.status.last_notice_at),
        now=tick.now,
    )
    if notice is not None:
        await _send_notice(tick, notice, detail=f"{tick.spec.issue.title}: {message}")


def _observe_sla(tick: Tick, *, policy: str, result: api.RemediationPhase) -> None:
    """Response and resolution seconds from detectedAt by severity and outcome; missed deadlines."""
    due = _deadlines(tick)
    severity = tick.spec.issue.severity.value
    labels = {"namespace": tick.namespace, "policy": policy, "severity": severity, "outcome": result.value}
    responded = timestamps.parse_or_none(tick.status.responded_at)
    resolved = timestamps.parse_or_none(tick.status.resolved_at)
    if responded is not None:
        metrics.RESPONSE_SECONDS.labels(**labels).observe(
            sla.elapsed_seconds(detected_at=due.detected_at, at=responded)
        )
    metrics.RESOLUTION_SECONDS.labels(**labels).observe(
        sla.elapsed_seconds(detected_at=due.detected_at, at=resolved or tick.now)
    )
    for clock, done, deadline in (
        ("response", responded or resolved, due.response_due),
        ("resolution", resolved, due.resolution_due),
    ):
        if (done or tick.now) > deadline:
            metrics.SLA_BREACHES.labels(
                namespace=tick.namespace, policy=policy, severity=severity, clock=clock
            ).inc()


async def _escalation_reminder(tick: Tick) -> None:
    """An unacknowledged escalation is brought up again every `sla.reminderInterval`, never more often."""
    if crs.ACK_ANNOTATION in (tick.body["metadata"].get("annotations") or {}):
        return
    last = timestamps.parse_or_none(tick.status.last_notice_at or tick.status.completed_at)
    interval = timedelta(seconds=api.parse_duration(tick.policy.sla.reminder_interval))
    if last is not None and tick.now - last < interval:
        return
    await _send_notice(
        tick,
        sla.Notice.REMINDER,
        detail=(
            f"still escalated since {tick.status.completed_at or 'earlier'}: {tick.status.message}; "
            f"acknowledge with `kubectl maintenance ack {tick.name} -n {tick.namespace}`"
        ),
    )
