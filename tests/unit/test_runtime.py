"""The Prometheus client a policy gets: its own settings, else the operator's."""

from __future__ import annotations

import tempfile
from typing import Any, cast

import pytest

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.config import OperatorConfig
from maintenance_operator.runtime import Runtime


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
