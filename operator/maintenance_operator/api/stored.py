"""Reading a custom resource's ``status`` as stored: parsed once, at the edge, into the typed status model.

A status is written by this operator, but also by older or newer versions of it and by anyone allowed to
patch the status subresource. A field that does not validate is read as its default and named in
``dropped`` (a malformed entry of a list as ``field[index]``, skipped), with the first validation error in
``reason``, so a handler degrades and says why instead of crashing on every tick. What validates is kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from maintenance_operator.api import v1alpha1 as api

S = TypeVar("S", bound=api.StatusModel)


class Conditions(api.StatusModel):
    """The conditions of any kind's status, for writers that share them (not a CRD type)."""

    conditions: list[api.Condition] = []


@dataclasses.dataclass(frozen=True)
class Read(Generic[S]):
    """A status as read: the typed model, and what had to be left at its default to get it."""

    status: S
    #: What did not validate: fields (wire names) left at their defaults, ``field[i]`` entries skipped.
    dropped: tuple[str, ...] = ()
    #: The first validation error on one line (``location: message``); None when everything validated.
    reason: str | None = None

    @property
    def intact(self) -> bool:
        """True when every stored field validated."""
        return not self.dropped


def read(model: type[S], body: Mapping[str, Any] | None) -> Read[S]:
    """``body["status"]`` as ``model``; a malformed entry of a list field is skipped, any other malformed
    top-level field is left at its default."""
    raw = (body or {}).get("status")
    if raw is None:
        return Read(status=model())
    if not isinstance(raw, Mapping):
        return Read(status=model(), dropped=("status",), reason="status: not an object")
    try:
        return Read(status=model.model_validate(dict(raw)))
    except ValidationError as exc:
        reason = first_error(exc)
        errors = exc.errors()
    kept = dict(raw)
    dropped: set[str] = set()
    for error in errors:
        loc = error.get("loc") or ()
        if not loc or str(loc[0]) not in kept:
            continue
        field = str(loc[0])
        if len(loc) > 1 and isinstance(loc[1], int) and isinstance(raw[field], list):
            dropped.add(f"{field}[{loc[1]}]")
        else:
            dropped.add(field)
    for field in {d.split("[")[0] for d in dropped}:
        if field in dropped:
            del kept[field]
        else:
            skip = {int(d[len(field) + 1 : -1]) for d in dropped if d.startswith(f"{field}[")}
            kept[field] = [item for i, item in enumerate(raw[field]) if i not in skip]
    try:
        status = model.model_validate(kept)
    except ValidationError:
        return Read(status=model(), dropped=tuple(sorted(str(k) for k in raw)), reason=reason)
    return Read(status=status, dropped=tuple(sorted(dropped)), reason=reason)


def first_error(exc: ValidationError) -> str:
    """The first validation error on one line: ``location: message``."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
