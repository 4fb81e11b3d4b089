"""Deployment rollout rules, as `kubectl rollout status` and `kubectl rollout undo` apply them.

Pure functions over Deployment objects as the API server serialises them (camelCase dicts, the shape
kopf bodies and raw API responses have), plus :class:`TargetSnapshot`, the frozen summary of a target
that risk scoring and guards decide on.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history"
RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
POD_TEMPLATE_HASH_LABEL = "pod-template-hash"
ARGOCD_TRACKING_ANNOTATION = "argocd.argoproj.io/tracking-id"
ARGOCD_PREFIX = "argocd.argoproj.io/"
INSTANCE_LABEL = "app.kubernetes.io/instance"
PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DeploymentCondition(_Frozen):
    """One entry of a Deployment's status.conditions."""

    type: str = Field(description="Available, Progressing or ReplicaFailure.")
    status: str = Field(description="True, False or Unknown.")
    reason: str = Field(default="", description="CamelCase reason.")
    message: str = Field(default="", description="Human-readable details.")


class RevisionInfo(_Frozen):
    """One Deployment revision (from its ReplicaSets)."""

    revision: int = Field(ge=1, description="deployment.kubernetes.io/revision.")
    image: str = Field(default="", description="Image of the first container.")
    created_at: str | None = Field(default=None, description="ReplicaSet creation time (RFC 3339).")


class TargetSnapshot(_Frozen):
    """What the operator knows about its target Deployment at one moment: the one model of the target for
    rollout rules, guards, risk and planning. The planner's fields (image, containers, revisions, age) are
    filled only where revisions were read (the Target port's ``state``)."""

    name: str = Field(default="", description="Deployment name.")
    namespace: str = Field(default="", description="Deployment namespace.")
    replicas: int = Field(ge=0, description="spec.replicas (1 when unset, as the API server defaults it).")
    status_replicas: int = Field(default=0, ge=0, description="status.replicas: pods of every revision.")
    available_replicas: int = Field(default=0, ge=0, description="status.availableReplicas.")
    updated_replicas: int = Field(default=0, ge=0, description="status.updatedReplicas.")
    ready_replicas: int = Field(default=0, ge=0, description="status.readyReplicas.")
    max_unavailable: int = Field(
        default=0, ge=0, description="Pods a rolling update may take down at once (resolved, Recreate: all)."
    )
    max_surge: int = Field(default=0, ge=0, description="Extra pods a rolling update may add (resolved).")
    strategy: str = Field(default="RollingUpdate", description="RollingUpdate or Recreate.")
    ready: bool = Field(default=False, description="Rollout complete and every desired replica available.")
    rollout_done: bool = Field(default=False, description="kubectl rollout status would report success.")
    progress_deadline_exceeded: bool = Field(default=False, description="Progressing=False, deadline hit.")
    paused: bool = Field(default=False, description="spec.paused.")
    generation: int = Field(default=0, description="metadata.generation.")
    observed_generation: int = Field(default=0, description="status.observedGeneration.")
    revision: int | None = Field(default=None, description="deployment.kubernetes.io/revision.")
    restarted_at: str | None = Field(default=None, description="Template's kubectl restartedAt annotation.")
    has_hpa: bool = Field(default=False, description="A HorizontalPodAutoscaler scales this Deployment.")
    argo_managed: bool = Field(default=False, description="Argo CD (GitOps) manages this Deployment.")
    conditions: tuple[DeploymentCondition, ...] = Field(default=(), description="status.conditions.")
    image: str = Field(default="", description="Image of the first container.")
    containers: dict[str, dict[str, dict[str, str]]] = Field(
        default_factory=dict, description="resources (requests, limits) of each container, by name."
    )
    revisions: list[RevisionInfo] = Field(default_factory=list, description="Known revisions.")
    current_revision_age_seconds: float | None = Field(
        default=None, description="Age of the current revision."
    )


class RolloutState(_Frozen):
    """Progress of the current rollout."""

    done: bool = Field(description="The rollout finished (kubectl rollout status would exit 0).")
    failed: bool = Field(description="Progressing=False with reason ProgressDeadlineExceeded: stuck.")
    message: str = Field(description="kubectl-style progress message.")


def _int(value: Any, default: int = 0) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _conditions(deployment: Mapping[str, Any]) -> tuple[DeploymentCondition, ...]:
    raw = (deployment.get("status") or {}).get("conditions") or []
    return tuple(
        DeploymentCondition(
            type=str(c.get("type", "")),
            status=str(c.get("status", "")),
            reason=str(c.get("reason") or ""),
            message=str(c.get("message") or ""),
        )
        for c in raw
    )


def _deadline_exceeded(conditions: tuple[DeploymentCondition, ...]) -> bool:
    return any(c.type == "Progressing" and c.reason == PROGRESS_DEADLINE_EXCEEDED for c in conditions)


def rollout_state(deployment: Mapping[str, Any]) -> RolloutState:
    """The rollout-status verdict of kubectl (``DeploymentStatusViewer``) for one Deployment object.

    Done requires observedGeneration >= generation, updatedReplicas == spec.replicas, no old replicas left
    (status.replicas == updatedReplicas) and availableReplicas >= updatedReplicas. A Progressing condition
    with reason ProgressDeadlineExceeded is reported as failed.
    """
    meta, spec, status = _meta(deployment), deployment.get("spec") or {}, deployment.get("status") or {}
    name = meta.get("name", "")
    generation = _int(meta.get("generation"))
    observed = _int(status.get("observedGeneration"))
    if generation > observed:
        return RolloutState(
            done=False, failed=False, message="waiting for deployment spec update to be observed"
        )
    if _deadline_exceeded(_conditions(deployment)):
        return RolloutState(
            done=False, failed=True, message=f"deployment {name!r} exceeded its progress deadline"
        )
    desired = _int(spec.get("replicas"), 1)
    replicas = _int(status.get("replicas"))
    updated = _int(status.get("updatedReplicas"))
    available = _int(status.get("availableReplicas"))
    if updated < desired:
        msg = f"{updated} out of {desired} new replicas have been updated"
    elif replicas > updated:
        msg = f"{replicas - updated} old replicas are pending termination"
    elif available < updated:
        msg = f"{available} of {updated} updated replicas are available"
    else:
        return RolloutState(done=True, failed=False, message=f"deployment {name!r} successfully rolled out")
    return RolloutState(done=False, failed=False, message=f"waiting for rollout to finish: {msg}")


def resolve_int_or_percent(value: Any, *, total: int, round_up: bool, default: str) -> int:
    """A RollingUpdate intOrString resolved against ``total`` replicas (percentages round as Kubernetes)."""
    raw = default if value is None else value
    if isinstance(raw, str) and raw.endswith("%"):
        scaled = float(raw[:-1]) * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    return int(raw)


def _rolling_bounds(spec: Mapping[str, Any], replicas: int) -> tuple[str, int, int]:
    strategy = spec.get("strategy") or {}
    kind = str(strategy.get("type") or "RollingUpdate")
    if kind == "Recreate":
        return kind, replicas, 0
    rolling = strategy.get("rollingUpdate") or {}
    surge = resolve_int_or_percent(rolling.get("maxSurge"), total=replicas, round_up=True, default="25%")
    unavailable = resolve_int_or_percent(
        rolling.get("maxUnavailable"), total=replicas, round_up=False, default="25%"
    )
    if surge == 0 and unavailable == 0:
        unavailable = 1  # the deployment controller does the same so that a rollout can progress
    return kind, unavailable, surge


def parse_revision(value: Any) -> int | None:
    """deployment.kubernetes.io/revision as an int, None when absent or malformed."""
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def is_argo_managed(metadata: Mapping[str, Any], *, label_tracking: bool = False) -> bool:
    """Argo CD manages the object.

    The tracking-id annotation (Argo CD's annotation tracking, the default since 3.0) is the signal; any
    other ``argocd.argoproj.io/`` annotation or label is taken as one too. The ``app.kubernetes.io/instance``
    label counts only with ``label_tracking=True`` (Argo CD's legacy label tracking), because Helm and
    kustomize set that label as well.
    """
    annotations = metadata.get("annotations") or {}
    labels = metadata.get("labels") or {}
    if ARGOCD_TRACKING_ANNOTATION in annotations:
        return True
    if any(k.startswith(ARGOCD_PREFIX) for k in [*annotations, *labels]):
        return True
    return label_tracking and INSTANCE_LABEL in labels


def snapshot(
    deployment: Mapping[str, Any], *, has_hpa: bool, argo_label_tracking: bool = False
) -> TargetSnapshot:
    """Summarise a Deployment object (camelCase dict) for risk scoring and guards."""
    meta, spec, status = _meta(deployment), deployment.get("spec") or {}, deployment.get("status") or {}
    replicas = _int(spec.get("replicas"), 1)
    strategy, max_unavailable, max_surge = _rolling_bounds(spec, replicas)
    conditions = _conditions(deployment)
    state = rollout_state(deployment)
    available = _int(status.get("availableReplicas"))
    template_annotations = ((spec.get("template") or {}).get("metadata") or {}).get("annotations") or {}
    return TargetSnapshot(
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        replicas=replicas,
        status_replicas=_int(status.get("replicas")),
        available_replicas=available,
        updated_replicas=_int(status.get("updatedReplicas")),
        ready_replicas=_int(status.get("readyReplicas")),
        max_unavailable=max_unavailable,
        max_surge=max_surge,
        strategy=strategy,
        ready=state.done and available >= replicas,
        rollout_done=state.done,
        progress_deadline_exceeded=state.failed,
        paused=bool(spec.get("paused", False)),
        generation=_int(meta.get("generation")),
        observed_generation=_int(status.get("observedGeneration")),
        revision=parse_revision((meta.get("annotations") or {}).get(REVISION_ANNOTATION)),
        restarted_at=template_annotations.get(RESTARTED_AT_ANNOTATION),
        has_hpa=has_hpa,
        argo_managed=is_argo_managed(meta, label_tracking=argo_label_tracking),
        conditions=conditions,
    )


def strip_template_hash(template: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of a pod template without the pod-template-hash label the controller adds."""
    stripped = copy.deepcopy(dict(template))
    labels = (stripped.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(POD_TEMPLATE_HASH_LABEL, None)
    return stripped


def template_equal_ignoring_hash(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Pod templates equal apart from pod-template-hash (the controller's EqualIgnoreHash)."""
    return bool(_normalised(strip_template_hash(a)) == _normalised(strip_template_hash(b)))


def _normalised(value: Any) -> Any:
    # An empty labels/annotations map and an absent one serialise differently but mean the same.
    if isinstance(value, dict):
        pairs = ((k, _normalised(v)) for k, v in value.items())
        return {k: v for k, v in pairs if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    return value


def replica_set_revisions(replica_set: Mapping[str, Any]) -> set[int]:
    """Revisions a ReplicaSet stands for: its revision plus those in revision-history (reused templates)."""
    annotations = _meta(replica_set).get("annotations") or {}
    revisions = {parse_revision(annotations.get(REVISION_ANNOTATION))}
    history = str(annotations.get(REVISION_HISTORY_ANNOTATION) or "")
    revisions.update(parse_revision(part.strip()) for part in history.split(",") if part.strip())
    return {r for r in revisions if r is not None}
