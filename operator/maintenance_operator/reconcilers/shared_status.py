"""Status fields that several writers share (a policy's conditions), written without losing the others'.

JSON merge patch replaces a list whole, so a writer that patches ``conditions`` from a stale read drops
the condition another writer added in between. Here each writer reads the object fresh, replaces only
the condition types it owns (the policy handler: Ready and VerificationDelayRaised; the assessment:
HealthAlert), and writes with the resourceVersion it read. A Conflict means someone wrote in between:
read again and retry.
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
