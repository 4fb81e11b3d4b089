"""Small helpers shared by the kopf handlers: time, conditions, spec parsing at the edge."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import kopf
from pydantic import BaseModel, ValidationError

from maintenance_operator.api import v1alpha1 as api

M = TypeVar("M", bound=BaseModel)
TICK_SECONDS = 10.0


def now() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


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
    """Conditions with one entry replaced; lastTransitionTime only moves when status changes."""
    value = {True: "True", False: "False", None: "Unknown"}[status]
    out = [dict(c) for c in (conditions or []) if c.get("type") != type_]
    previous = next((c for c in (conditions or []) if c.get("type") == type_), None)
    transition = previous.get("lastTransitionTime") if previous and previous.get("status") == value else None
    entry: dict[str, Any] = {
        "type": type_,
        "status": value,
        "reason": reason,
        "message": message[:4000],
        "lastTransitionTime": transition or iso(now()),
    }
    if generation is not None:
        entry["observedGeneration"] = generation
    out.append(entry)
    return sorted(out, key=lambda c: str(c["type"]))


def owner_reference(body: kopf.Body | dict[str, Any], *, controller: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": body.get("apiVersion", api.API_VERSION),
        "kind": body["kind"],
        "name": body["metadata"]["name"],
        "uid": body["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": False,
    }
