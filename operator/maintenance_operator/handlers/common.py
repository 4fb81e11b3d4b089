"""Small helpers shared by the kopf handlers: time, conditions, spec parsing at the edge."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import machine

M = TypeVar("M", bound=BaseModel)
TICK_SECONDS = 10.0


def now() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    return machine.rfc3339(dt)


def parse(model: type[M], data: Any) -> tuple[M | None, str | None]:
    """(object, None) or (None, a one-line reason) for a spec or status read from the API."""
    try:
        return model.model_validate(dict(data or {})), None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return None, f"{where}: {first.get('msg')}" if where else str(first.get("msg"))


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
    value = {
        True: api.ConditionStatus.TRUE,
        False: api.ConditionStatus.FALSE,
        None: api.ConditionStatus.UNKNOWN,
    }
    typed = machine.set_condition(
        [api.Condition.model_validate(c) for c in conditions or []],
        type=type_,
        status=value[status],
        reason=reason,
        message=message,
        now=now(),
        observed_generation=generation,
    )
    return [c.wire() for c in typed]
