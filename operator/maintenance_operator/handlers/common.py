"""Small helpers shared by the kopf handlers: time, conditions, spec parsing at the edge."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import kopf
from pydantic import BaseModel, ValidationError

from maintenance_operator.adapters import crs
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import machine
from maintenance_operator.reconcilers import assess

M = TypeVar("M", bound=BaseModel)
#: Annotation on a HealthAssessment assessed by a sharded replica: that replica's identity.
ASSESSED_BY_ANNOTATION = f"{api.GROUP}/assessed-by"
#: How often an open Remediation's state machine is advanced (rollouts and verification are polled).
REMEDIATION_TICK_SECONDS = 5.0


def now() -> datetime:
    return datetime.now(UTC)


def parse(model: type[M], data: Any) -> tuple[M | None, str | None]:
    """(object, None) or (None, a one-line reason) for a spec or status read from the API."""
    try:
        return model.model_validate(dict(data or {})), None
    except ValidationError as exc:
        return None, assess.first_error(exc)


def set_condition(
    conditions: list[dict[str, Any]] | None,
    *,
    type_: str,
    status: bool | None,
    reason: str,
    message: str,
    generation: int | None = None,
) -> list[dict[str, Any]]:
    """Conditions as stored, with one entry replaced (see machine.set_condition for the rules)."""
    typed = machine.set_condition(
        [api.Condition.model_validate(c) for c in conditions or []],
        type=type_,
        status=machine.condition_status(status),
        reason=reason,
        message=message,
        now=now(),
        observed_generation=generation,
    )
    return [c.wire() for c in typed]


def post_events(body: kopf.Body, events: Sequence[tuple[str, str, str]]) -> None:
    """Post (type, reason, message) Events a reconciler collected, on the object being handled."""
    for type_, reason, message in events:
        kopf.event(body, type=type_, reason=reason, message=message)


def owner_key(body: Mapping[str, Any]) -> tuple[str, str]:
    """The policy whose shard an object is in: a policy itself, else the policy label, else
    ``spec.policyRef``, else the object itself (a fleet-wide report)."""
    meta = body.get("metadata") or {}
    namespace = str(meta.get("namespace") or "")
    if body.get("kind") != "MaintenancePolicy":
        label = (meta.get("labels") or {}).get(crs.POLICY_LABEL)
        ref = ((body.get("spec") or {}).get("policyRef") or {}).get("name")
        if label or ref:
            return namespace, str(label or ref)
    return namespace, str(meta.get("name") or "")


def owned(body: Mapping[str, Any], memo: Any, **_: Any) -> bool:
    """Whether this replica handles `body` now: always without sharding, else when it holds the shard of
    the object's policy (a kopf ``when=`` filter, and the guard at the top of every timer)."""
    shards = getattr(memo, "shards", None)
    return shards is None or bool(shards.owns(*owner_key(body)))


def sharded_replica(memo: Any) -> str | None:
    """This replica's identity when sharding is on, else None."""
    shards = getattr(memo, "shards", None)
    store = getattr(shards, "store", None)
    identity = getattr(store, "identity", None)
    return str(identity) if identity else None
