"""The Prometheus client a policy gets: its own settings, else the operator's, on the shared bounded pool."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from typing import Any, cast

import certifi
import pytest

from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.config import OperatorConfig
from maintenance_operator.domain import notification
from maintenance_operator.runtime import Runtime

#: One real CA certificate (the first of certifi's bundle).
CA_PEM = certifi.contents().split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
NOW = datetime(2030, 1, 1, tzinfo=UTC)


class NoSecrets:
    async def read_secret(self, namespace: str, name: str, key: str) -> str | None:
        raise AssertionError("no Secret is named, none may be read")


def _runtime(**config: Any) -> Runtime:
    return Runtime(
        config=OperatorConfig(**config),
        api_client=cast(Any, None),
        resources=cast(Any, NoSecrets()),
    )


@pytest.mark.parametrize(
    ("spec", "url", "seconds"),
    [
        (api.PrometheusSpec(), "http://operator-default:9090", 4.0),
        (api.PrometheusSpec(url="http://policy:9090", timeout="30s"), "http://policy:9090", 30.0),
    ],
)
async def test_policy_settings_else_the_operators(spec: api.PrometheusSpec, url: str, seconds: float) -> None:
    runtime = _runtime(prometheus_url="http://operator-default:9090", prometheus_timeout_seconds=4.0)
    querier = await runtime.querier(namespace="shop", spec=spec)
    try:
        assert querier.url == url
        assert querier.timeout == seconds
    finally:
        await runtime.aclose()


async def test_the_pool_limits_come_from_the_settings() -> None:
    runtime = _runtime(prometheus_max_concurrent_queries=3, prometheus_queries_per_second=7)
    assert (runtime.queries.max_concurrent, runtime.queries.qps) == (3, 7)


class CaSecret:
    def __init__(self, pem: str) -> None:
        self.pem = pem
        self.token = "t0k"

    async def read_secret(self, namespace: str, name: str, key: str) -> str | None:
        return self.token if name == "prom-token" else self.pem


_CA_SPEC = api.PrometheusSpec.model_validate(
    {
        "url": "https://prometheus.example:9090",
        "caSecretRef": {"name": "prom-ca", "key": "ca.crt"},
        "bearerTokenSecretRef": {"name": "prom-token", "key": "token"},
    }
)


async def test_the_ca_stays_in_memory_and_one_endpoint_is_one_pool(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    secrets = CaSecret(CA_PEM)
    runtime = Runtime(config=OperatorConfig(), api_client=cast(Any, None), resources=cast(Any, secrets))
    assert runtime.queries is not None
    try:
        for _ in range(3):
            await (await runtime.querier(namespace="shop", spec=_CA_SPEC)).aclose()
        assert runtime.queries.endpoints == 1
        secrets.token = "rotated"  # other credentials are another endpoint
        await runtime.querier(namespace="shop", spec=_CA_SPEC)
        assert runtime.queries.endpoints == 2
        assert list(tmp_path.iterdir()) == []
    finally:
        await runtime.aclose()


async def test_an_unusable_ca_answers_unavailable_with_the_reason() -> None:
    secrets = CaSecret("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    runtime = Runtime(config=OperatorConfig(), api_client=cast(Any, None), resources=cast(Any, secrets))
    try:
        querier = await runtime.querier(namespace="shop", spec=_CA_SPEC)
        result = await querier.query("up")
        assert result.error is not None and result.error.kind is prom.ErrorKind.UNAVAILABLE
        assert "CA bundle" in result.error.message
        ranged = await querier.query_range("up", start=0, end=60, step=15)
        assert ranged.error is not None and "CA bundle" in ranged.error.message
    finally:
        await runtime.aclose()


class OneSecret:
    def __init__(self) -> None:
        self.reads: list[tuple[str, str, str]] = []

    async def read_secret(self, namespace: str, name: str, key: str) -> str | None:
        self.reads.append((namespace, name, key))
        return "https://hooks.example/T000/SECRET"


async def test_without_a_webhook_secret_there_is_no_notifier() -> None:
    runtime = _runtime()
    assert await runtime.webhook() is None
    await runtime.notify(
        notification.Event(
            type=notification.EventType.REPORT, namespace="shop", name="weekly", title="t", at=NOW, kind="x"
        )
    )


async def test_one_webhook_notifier_is_built_from_the_secret_once_and_hides_its_url() -> None:
    secrets = OneSecret()
    runtime = Runtime(
        config=OperatorConfig(notify_webhook_secret="ops/slack", notify_format="generic"),
        api_client=cast(Any, None),
        resources=cast(Any, secrets),
    )
    first = await runtime.webhook()
    assert first is not None and first is await runtime.webhook()
    assert secrets.reads == [("ops", "slack", "url")]
    assert "hooks.example" not in repr(first) and "hooks.example" not in repr(runtime)
