"""The Prometheus client a policy gets: its own settings, else the operator's."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.config import OperatorConfig
from maintenance_operator.domain import notification
from maintenance_operator.runtime import Runtime

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
        assert querier.url.rstrip("/") == url
        assert querier.timeout == seconds
    finally:
        querier.close()


class CaSecret:
    def __init__(self) -> None:
        self.pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

    async def read_secret(self, namespace: str, name: str, key: str) -> str | None:
        return self.pem


async def test_the_ca_bundle_is_written_once_not_per_querier(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    secrets = CaSecret()
    runtime = Runtime(config=OperatorConfig(), api_client=cast(Any, None), resources=cast(Any, secrets))
    spec = api.PrometheusSpec.model_validate({"caSecretRef": {"name": "prom-ca", "key": "ca.crt"}})
    for _ in range(3):
        (await runtime.querier(namespace="shop", spec=spec)).close()
    [written] = list(tmp_path.iterdir())
    assert written.read_text() == secrets.pem
    secrets.pem = secrets.pem.replace("MIIB", "MIIC")  # a rotated CA gets its own file
    (await runtime.querier(namespace="shop", spec=spec)).close()
    assert len(list(tmp_path.iterdir())) == 2


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
