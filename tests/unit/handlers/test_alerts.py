"""The Alertmanager receiver: authentication and validation before any API call, and routing on kopf's
admission webhook server (admission requests still reach kopf)."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import kopf
import pytest
from kubernetes import client

from maintenance_operator import metrics
from maintenance_operator.adapters import crs
from maintenance_operator.config import OperatorConfig
from maintenance_operator.handlers import alerts, webhooks

TOKEN = "t0ken-for-tests"
NOTIFICATION = {
    "version": "4",
    "status": "firing",
    "alerts": [{"status": "firing", "labels": {"alertname": "A", "namespace": "ns", "deployment": "d"}}],
}


def unreachable() -> crs.CustomResources:
    """Resources whose API server does not exist: any call fails, so a reply proves none was made."""
    return crs.CustomResources(client.ApiClient(client.Configuration(host="http://127.0.0.1:9")))


def outcome_count(outcome: str) -> float:
    value = metrics.REGISTRY.get_sample_value(
        "maintenance_operator_alerts_received_total", {"outcome": outcome}
    )
    return value or 0.0


async def receive(body: bytes, authorization: str | None) -> alerts.Reply:
    return await alerts.receive(
        body=body,
        authorization=authorization,
        token=TOKEN,
        resources=unreachable(),
        now=datetime(2026, 12, 6, 10, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize("authorization", [None, "", f"Basic {TOKEN}", "Bearer wrong", TOKEN])
async def test_without_the_token_nothing_is_read(
    authorization: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    before = outcome_count("Unauthorized")
    caplog.set_level(logging.DEBUG)
    reply = await receive(json.dumps(NOTIFICATION).encode(), authorization)
    assert reply.status == 401
    assert TOKEN not in json.dumps(reply.body) and TOKEN not in caplog.text
    assert outcome_count("Unauthorized") == before + 1


async def test_an_empty_configured_token_refuses_everyone() -> None:
    reply = await alerts.receive(
        body=json.dumps(NOTIFICATION).encode(),
        authorization="Bearer ",
        token="",
        resources=unreachable(),
        now=datetime.now(UTC),
    )
    assert reply.status == 401


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[]", "JSON object"),
        (json.dumps({**NOTIFICATION, "version": "2"}).encode(), "version"),
        (json.dumps({**NOTIFICATION, "alerts": [{"labels": {}}]}).encode(), "alerts.0.status"),
    ],
)
async def test_a_body_that_is_not_a_notification_is_refused(body: bytes, reason: str) -> None:
    reply = await receive(body, f"Bearer {TOKEN}")
    assert reply.status == 400
    assert reason in reply.body["error"]


async def test_resolved_alerts_alone_touch_nothing() -> None:
    resolved = {**NOTIFICATION, "alerts": [{**NOTIFICATION["alerts"][0], "status": "resolved"}]}  # type: ignore[dict-item]
    reply = await receive(json.dumps(resolved).encode(), f"Bearer {TOKEN}")
    assert (reply.status, reply.body) == (200, {"matched": []})


def test_the_token_comes_from_the_environment_trimmed() -> None:
    assert alerts.token_from_env({alerts.TOKEN_ENV: " s3cret\n"}) == "s3cret"
    assert alerts.token_from_env({}) == ""


def test_the_server_repr_hides_the_token() -> None:
    server = alerts.AlertReceivingServer(memo=kopf.Memo(), token=TOKEN, port=1)
    assert TOKEN not in repr(server)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Admission:
    """kopf's admission entry point as the server calls it; records what reached it."""

    def __init__(self) -> None:
        self.calls: list[str | None] = []

    async def __call__(self, data: Any, *, webhook: str | None, **_: Any) -> dict[str, Any]:
        self.calls.append(webhook)
        return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": {"allowed": True}}


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, Admission]]:
    port = _free_port()
    server = alerts.AlertReceivingServer(
        memo=kopf.Memo(), token=TOKEN, addr="127.0.0.1", port=port, insecure=True
    )
    admission = Admission()
    configs = server(admission)
    await configs.__anext__()  # listening
    try:
        yield f"http://127.0.0.1:{port}", admission
    finally:
        await configs.aclose()


async def test_the_admission_server_routes_alerts_and_admission_apart(served: tuple[str, Admission]) -> None:
    url, admission = served
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/validate-approval", json={"request": {}}) as response:
            assert response.status == 200
        async with session.post(f"{url}/alertmanager", json=NOTIFICATION) as response:
            assert response.status == 401
        # authenticated, but the operator has not finished starting: Alertmanager will retry
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with session.post(f"{url}/alertmanager", json=NOTIFICATION, headers=headers) as response:
            assert response.status == 503
    assert admission.calls == ["validate-approval"]


def test_the_admission_server_is_the_alert_receiver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(alerts.TOKEN_ENV, TOKEN)
    settings = kopf.OperatorSettings()
    memo = kopf.Memo()
    webhooks.configure_admission(settings, OperatorConfig(webhook_mode="server", webhook_host="h"), memo)
    server = settings.admission.server
    assert isinstance(server, alerts.AlertReceivingServer)
    assert (server._token, server._memo) == (TOKEN, memo)
    assert TOKEN not in repr(server)
