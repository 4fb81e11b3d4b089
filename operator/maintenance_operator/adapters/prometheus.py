"""Prometheus instant queries behind an async interface, with typed results and typed errors.

``HttpPrometheus`` (the default) talks to ``/api/v1/query`` with ``requests`` directly; why not
prometheus-api-client's ``custom_query`` is in docs/decisions.md (it drops ``resultType`` and
``warnings``, folds every error into one exception string, and retries 503 "timeout" answers with
back-off past our timeout). ``ApiClientPrometheus`` wraps ``PrometheusConnect`` for comparison and for
setups that need its extras. Both are blocking libraries: every call runs in ``asyncio.to_thread`` with
an explicit timeout.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import time
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, Protocol

import requests

SPECIAL_FLOATS = {"NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf, "Inf": math.inf}


class ErrorKind(StrEnum):
    """Why a query gave no answer."""

    BAD_DATA = "bad_data"  # 400: the query is wrong; retrying will not help
    EXECUTION = "execution"  # 422: evaluation failed (e.g. many-to-many matching)
    TIMEOUT = "timeout"  # 503 timeout, canceled, or our client-side timeout
    UNAVAILABLE = "unavailable"  # connection refused/reset, 5xx, not Prometheus, unauthorized


@dataclasses.dataclass(frozen=True)
class QueryError:
    kind: ErrorKind
    message: str


@dataclasses.dataclass(frozen=True)
class Series:
    """One value of an instant query (the last one, for a range vector)."""

    labels: Mapping[str, str]
    value: float


@dataclasses.dataclass(frozen=True)
class QueryResult:
    """What Prometheus answered, independent of any client library."""

    query: str
    result_type: str = "vector"
    series: tuple[Series, ...] = ()
    warnings: tuple[str, ...] = ()
    error: QueryError | None = None
    seconds: float = 0.0

    @property
    def values(self) -> list[float]:
        return [s.value for s in self.series]

    @property
    def ok(self) -> bool:
        return self.error is None


class PrometheusQuerier(Protocol):
    """Anything that answers instant queries (the real client, or a fake in unit tests)."""

    async def query(self, promql: str) -> QueryResult: ...


def parse_value(text: object) -> float:
    """A sample value as Prometheus writes it: a decimal string, "NaN", "+Inf" or "-Inf"."""
    if isinstance(text, str) and text in SPECIAL_FLOATS:
        return SPECIAL_FLOATS[text]
    if isinstance(text, str | int | float):
        return float(text)
    raise ValueError(f"not a sample value: {text!r}")


def parse_data(
    query: str, data: Mapping[str, Any], *, warnings: Sequence[str] = (), seconds: float = 0.0
) -> QueryResult:
    """A QueryResult from the ``data`` member of a successful response."""
    result_type = str(data.get("resultType", "vector"))
    result = data.get("result")
    series: list[Series] = []
    if result_type in ("scalar", "string"):
        if result_type == "string":
            return QueryResult(
                query,
                result_type,
                (),
                tuple(warnings),
                QueryError(ErrorKind.BAD_DATA, "string result"),
                seconds,
            )
        if isinstance(result, list) and len(result) == 2:
            series.append(Series({}, parse_value(result[1])))
    elif isinstance(result, list):
        for item in result:
            labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
            if "value" in item:
                series.append(Series(labels, parse_value(item["value"][1])))
            elif item.get("values"):
                series.append(Series(labels, parse_value(item["values"][-1][1])))
    return QueryResult(query, result_type, tuple(series), tuple(warnings), None, seconds)


_ERROR_KINDS = {
    "bad_data": ErrorKind.BAD_DATA,
    "execution": ErrorKind.EXECUTION,
    "timeout": ErrorKind.TIMEOUT,
    "canceled": ErrorKind.TIMEOUT,
}


def parse_response(query: str, status_code: int, body: bytes, *, seconds: float = 0.0) -> QueryResult:
    """A QueryResult from an HTTP answer of /api/v1/query (success or Prometheus error)."""
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        text = body[:200].decode(errors="replace")
        return QueryResult(
            query, error=QueryError(ErrorKind.UNAVAILABLE, f"HTTP {status_code}: {text}"), seconds=seconds
        )
    warnings = tuple(str(w) for w in payload.get("warnings") or ())
    if payload.get("status") == "success" and status_code == 200:
        try:
            return parse_data(query, payload.get("data") or {}, warnings=warnings, seconds=seconds)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            return QueryResult(query, error=QueryError(ErrorKind.UNAVAILABLE, f"unparseable answer: {exc}"))
    kind = _ERROR_KINDS.get(str(payload.get("errorType")), ErrorKind.UNAVAILABLE)
    message = f"HTTP {status_code} {payload.get('errorType', '')}: {payload.get('error', '')}".strip()
    return QueryResult(query, warnings=warnings, error=QueryError(kind, message), seconds=seconds)


def duration(seconds: float) -> str:
    """A Prometheus duration (integral units only: 2.42 rejects "0.5s")."""
    return f"{max(1, round(seconds * 1000))}ms"


def session(*, bearer_token: str | None = None, ca_bundle: str | None = None) -> requests.Session:
    """A Session sending the bearer token and trusting the CA bundle (a file path) if given."""
    s = requests.Session()
    if bearer_token:
        s.headers["Authorization"] = f"Bearer {bearer_token}"
    if ca_bundle:
        s.verify = ca_bundle
    return s


class HttpPrometheus:
    """PrometheusQuerier on requests: GET /api/v1/query with a server-side and a client-side timeout."""

    def __init__(self, url: str, *, timeout: float = 10.0, http: requests.Session | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.http = http or session()

    def query_sync(self, promql: str) -> QueryResult:
        """Blocking query; never raises for network or Prometheus errors."""
        started = time.monotonic()
        try:
            response = self.http.get(
                f"{self.url}/api/v1/query",
                params={"query": promql, "timeout": duration(self.timeout)},
                # Server-side timeout first; the client gives it one more second to answer.
                timeout=(min(self.timeout, 5.0), self.timeout + 1.0),
            )
        except requests.Timeout as exc:
            return QueryResult(
                promql, error=QueryError(ErrorKind.TIMEOUT, f"no answer within {self.timeout:g}s: {exc}")
            )
        except requests.RequestException as exc:
            return QueryResult(promql, error=QueryError(ErrorKind.UNAVAILABLE, f"unreachable: {exc}"))
        return parse_response(
            promql, response.status_code, response.content, seconds=time.monotonic() - started
        )

    async def query(self, promql: str) -> QueryResult:
        return await asyncio.to_thread(self.query_sync, promql)

    async def query_range(self, promql: str, *, start: float, end: float, step: float) -> RangeResult:
        """Range query (RangeQuerier); never raises for network or Prometheus errors."""
        return await asyncio.to_thread(query_range_sync, self, promql, start=start, end=end, step=step)

    def close(self) -> None:
        self.http.close()

    async def aclose(self) -> None:
        self.close()


class ApiClientPrometheus:
    """PrometheusQuerier on prometheus-api-client's PrometheusConnect (no retries, explicit timeout).

    It only returns ``data.result``: resultType is inferred from the shape and warnings are lost; error
    kinds are recovered from the exception text.
    """

    def __init__(self, url: str, *, timeout: float = 10.0, http: requests.Session | None = None) -> None:
        from prometheus_api_client import PrometheusConnect  # lazy: only this class needs it
        from urllib3.util.retry import Retry

        self.timeout = timeout
        self.client = PrometheusConnect(
            url=url.rstrip("/"), session=http or session(), retry=Retry(total=0), timeout=timeout
        )

    def query_sync(self, promql: str) -> QueryResult:
        from prometheus_api_client.exceptions import PrometheusApiClientException

        started = time.monotonic()
        try:
            result = self.client.custom_query(promql, params={"timeout": duration(self.timeout)})
        except requests.Timeout as exc:
            return QueryResult(promql, error=QueryError(ErrorKind.TIMEOUT, str(exc)))
        except requests.RequestException as exc:
            # With retries off, urllib3 wraps a read timeout in MaxRetryError -> ConnectionError.
            kind = ErrorKind.TIMEOUT if "timed out" in str(exc) else ErrorKind.UNAVAILABLE
            return QueryResult(promql, error=QueryError(kind, str(exc)))
        except PrometheusApiClientException as exc:
            text = str(exc)
            kind = next((k for name, k in _ERROR_KINDS.items() if name in text), ErrorKind.UNAVAILABLE)
            return QueryResult(promql, error=QueryError(kind, text))
        data: dict[str, Any]
        if isinstance(result, list) and len(result) == 2 and not isinstance(result[0], dict):
            data = {"resultType": "scalar", "result": result}
        else:
            data = {"resultType": "vector", "result": result}
        return parse_data(promql, data, seconds=time.monotonic() - started)

    async def query(self, promql: str) -> QueryResult:
        return await asyncio.to_thread(self.query_sync, promql)


# ---------------------------------------------------------------- range queries (capacity planning)


@dataclasses.dataclass(frozen=True)
class RangeSeries:
    """One series of a range query: its labels and ``(unix seconds, value)`` samples in time order."""

    labels: Mapping[str, str]
    samples: tuple[tuple[float, float], ...]


@dataclasses.dataclass(frozen=True)
class RangeResult:
    """What Prometheus answered to /api/v1/query_range."""

    query: str
    series: tuple[RangeSeries, ...] = ()
    warnings: tuple[str, ...] = ()
    error: QueryError | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


class RangeQuerier(Protocol):
    """Anything that answers range queries (the real client, or a fake in unit tests)."""

    async def query_range(self, promql: str, *, start: float, end: float, step: float) -> RangeResult: ...


def parse_range_response(query: str, status_code: int, body: bytes, *, seconds: float = 0.0) -> RangeResult:
    """A RangeResult from an HTTP answer of /api/v1/query_range; errors are typed as for instant queries."""
    instant = parse_response(query, status_code, body, seconds=seconds)
    if instant.error is not None:
        return RangeResult(query, (), instant.warnings, instant.error, seconds)
    try:
        data = json.loads(body).get("data") or {}
        series = tuple(
            RangeSeries(
                {str(k): str(v) for k, v in (item.get("metric") or {}).items()},
                tuple((float(t), parse_value(v)) for t, v in item.get("values") or ()),
            )
            for item in data.get("result") or ()
            if isinstance(item, dict)
        )
    except (ValueError, TypeError, AttributeError) as exc:
        return RangeResult(query, error=QueryError(ErrorKind.UNAVAILABLE, f"unparseable answer: {exc}"))
    return RangeResult(query, series, instant.warnings, None, seconds)


def query_range_sync(
    client: HttpPrometheus, promql: str, *, start: float, end: float, step: float
) -> RangeResult:
    """Blocking range query on ``client``'s session and timeout; never raises for network errors."""
    started = time.monotonic()
    try:
        response = client.http.get(
            f"{client.url}/api/v1/query_range",
            params={
                "query": promql,
                "start": f"{start:.3f}",
                "end": f"{end:.3f}",
                "step": f"{max(step, 0.001):g}",
                "timeout": duration(client.timeout),
            },
            timeout=(min(client.timeout, 5.0), client.timeout + 1.0),
        )
    except requests.Timeout as exc:
        return RangeResult(
            promql, error=QueryError(ErrorKind.TIMEOUT, f"no answer within {client.timeout:g}s: {exc}")
        )
    except requests.RequestException as exc:
        return RangeResult(promql, error=QueryError(ErrorKind.UNAVAILABLE, f"unreachable: {exc}"))
    return parse_range_response(
        promql, response.status_code, response.content, seconds=time.monotonic() - started
    )
