"""Errors the adapters raise: client-library exceptions (ApiException) stop at the adapter boundary.

Callers above the adapters (reconcilers, handlers) catch these, never a library's own exception types.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from kubernetes.client.exceptions import ApiException

P = ParamSpec("P")
R = TypeVar("R")


class AdapterError(Exception):
    """Something outside the operator refused or failed; ``reason`` is CamelCase for conditions/Events."""

    reason = "AdapterError"


class ApiError(AdapterError):
    """The Kubernetes API server answered with an error status."""

    reason = "ApiError"

    def __init__(self, status: int | None, reason: str, message: str = "") -> None:
        super().__init__(reason)
        self.status = status
        self.api_reason = reason
        self.message = message or reason

    def __str__(self) -> str:
        return self.api_reason

    @classmethod
    def of(cls, exc: ApiException) -> ApiError:
        kind = Conflict if exc.status == 409 else ApiError
        return kind(exc.status, str(exc.reason), message_of(exc))


class Conflict(ApiError):
    """A write's resourceVersion precondition failed: someone else wrote first; read again and retry."""

    reason = "Conflict"


def message_of(exc: ApiException) -> str:
    """The API server's own message (Status.message), else the HTTP reason."""
    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)
    except (ValueError, AttributeError):
        return str(exc.reason)


def boundary(function: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Decorate a public adapter coroutine: an ApiException leaves it as an ApiError."""

    @functools.wraps(function)
    async def translated(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await function(*args, **kwargs)
        except ApiException as exc:
            raise ApiError.of(exc) from exc

    return translated
