"""ApiException stops at the adapter boundary: callers see ApiError (Conflict for 409) with the reason."""

from __future__ import annotations

import json

import pytest
from kubernetes.client.exceptions import ApiException

from maintenance_operator.adapters import errors


def api_exception(status: int, reason: str, message: str | None = None) -> ApiException:
    exc = ApiException(status=status, reason=reason)
    exc.body = json.dumps({"message": message}) if message else None
    return exc


@errors.boundary
async def failing(exc: Exception) -> None:
    raise exc


@pytest.mark.parametrize(
    ("status", "kind"), [(403, errors.ApiError), (409, errors.Conflict), (500, errors.ApiError)]
)
async def test_api_exceptions_become_adapter_errors(status: int, kind: type[errors.ApiError]) -> None:
    with pytest.raises(kind) as caught:
        await failing(api_exception(status, "Nope", "denied by policy"))
    assert type(caught.value) is kind
    assert (caught.value.status, str(caught.value), caught.value.message) == (
        status,
        "Nope",
        "denied by policy",
    )
    assert isinstance(caught.value, errors.AdapterError)


async def test_the_http_reason_stands_in_for_a_missing_message() -> None:
    with pytest.raises(errors.ApiError) as caught:
        await failing(api_exception(404, "Not Found"))
    assert caught.value.message == "Not Found"


async def test_other_exceptions_pass_through() -> None:
    with pytest.raises(KeyError):
        await failing(KeyError("x"))
