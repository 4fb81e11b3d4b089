"""Status fields that several writers share (a policy's conditions), written without losing the others'.

JSON merge patch replaces a list whole, so a writer that patches ``conditions`` from a stale read drops
the condition another writer added in between. Here each writer reads the object fresh, replaces only
the condition types it owns (the policy handler: Ready and VerificationDelayRaised; the assessment:
HealthAlert), and writes with the resourceVersion it read. A Conflict means someone wrote in between:
read again and retry. ``update`` skips the read and the precondition when the writer's conditions already
hold on the object it has just read: then only its own fields are merge-patched (one request, not two).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from maintenance_operator.adapters import errors
from maintenance_operator.api import stored
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import machine
from maintenance_operator.reconcilers import ports

log = logging.getLogger(__name__)
ATTEMPTS = 8


@dataclasses.dataclass(frozen=True)
class ConditionChange:
    """One condition a writer owns: set by type, the others' left as they are."""

    type: str
    status: bool | None
    reason: str
    message: str = ""
    observed_generation: int | None = None


def holds(current: Sequence[Mapping[str, Any]], changes: Sequence[ConditionChange]) -> bool:
    """True if every change is already stored as is (status, reason, message, observed generation):
    writing it again would change nothing, so it is not written (no request per restart or tick)."""
    stored = {c.get("type"): c for c in current}
    for change in changes:
        found = stored.get(change.type)
        if (
            found is None
            or found.get("status") != machine.condition_status(change.status).value
            or found.get("reason") != change.reason
            or (found.get("message") or "") != change.message
            or found.get("observedGeneration") != change.observed_generation
        ):
            return False
    return True


def merged(
    current: Sequence[api.Condition], changes: Sequence[ConditionChange], *, now: datetime
) -> list[dict[str, Any]]:
    """``current`` with each changed type replaced or appended, every other type kept; as stored."""
    conditions = list(current)
    for change in changes:
        conditions = machine.set_condition(
            conditions,
            type=change.type,
            status=machine.condition_status(change.status),
            reason=change.reason,
            message=change.message,
            now=now,
            observed_generation=change.observed_generation,
        )
    return [c.wire() for c in conditions]


async def write(
    store: ports.ObjectStore,
    *,
    kind: str,
    namespace: str,
    name: str,
    changes: Sequence[ConditionChange],
    fields: Mapping[str, Any] | None = None,
    now: datetime,
) -> bool:
    """Patch ``fields`` and the changed conditions into the object's status, conditional on the
    resourceVersion read; False if the object is gone or kept changing for ATTEMPTS reads."""
    for _attempt in range(ATTEMPTS):
        fresh = await store.get(kind, namespace, name)
        if fresh is None:
            return False
        # every kind's status carries conditions the same way; entries that do not parse are dropped
        current = stored.read(stored.Conditions, fresh).status.conditions
        update = {**(fields or {}), "conditions": merged(current, changes, now=now)}
        try:
            await store.patch_status(
                kind, namespace, name, update, resource_version=fresh["metadata"].get("resourceVersion")
            )
            return True
        except errors.Conflict:
            continue
    log.warning("status of %s %s/%s not written: it kept changing", kind, namespace, name)
    return False


async def update(
    store: ports.ObjectStore,
    *,
    kind: str,
    read: Mapping[str, Any],
    changes: Sequence[ConditionChange],
    fields: Mapping[str, Any],
    now: datetime,
) -> bool:
    """Like ``write`` for the object ``read`` moments ago: when every change already holds there, only
    ``fields`` are patched (no GET, no list replaced, so no precondition is needed); else ``write``."""
    meta = read["metadata"]
    current = ((read.get("status") or {}).get("conditions")) or []
    if not holds(current, changes):
        return await write(
            store,
            kind=kind,
            namespace=meta["namespace"],
            name=meta["name"],
            changes=changes,
            fields=fields,
            now=now,
        )
    try:
        await store.patch_status(kind, meta["namespace"], meta["name"], dict(fields))
    except errors.ApiError as exc:
        if exc.status == 404:  # deleted meanwhile: as ``write``, nothing to write to
            return False
        raise
    return True
