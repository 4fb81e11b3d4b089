"""Operator cleanup (handlers/probes.py): a loopback webhook's configurations do not outlive the process,
and the clients are closed through the runtime."""

from __future__ import annotations

from typing import Any, cast

import kopf
import pytest

from maintenance_operator.config import OperatorConfig
from maintenance_operator.handlers import probes, webhooks
from maintenance_operator.runtime import Runtime


class RecordingRuntime(Runtime):
    def __init__(self, config: OperatorConfig) -> None:
        super().__init__(config=config, api_client=cast(Any, None), resources=cast(Any, None))
        self.calls: list[str] = []

    async def remove_webhook_configurations(self, name: str) -> None:
        self.calls.append(f"remove {name}")

    async def aclose(self) -> None:
        self.calls.append("aclose")
        await super().aclose()

    def disconnect(self) -> None:
        self.calls.append("disconnect")


@pytest.mark.parametrize(
    ("mode", "calls"),
    [
        ("local", [f"remove {webhooks.MANAGED_NAME}", "aclose", "disconnect"]),
        ("none", ["aclose", "disconnect"]),
    ],
)
async def test_cleanup_removes_a_loopback_webhook_then_closes_the_clients(
    mode: str, calls: list[str]
) -> None:
    memo = kopf.Memo()
    memo.runtime = RecordingRuntime(OperatorConfig(webhook_mode=mode))
    await probes.cleanup(memo=memo)
    assert memo.runtime.calls == calls


async def test_cleanup_before_startup_finished_does_nothing() -> None:
    assert await probes.cleanup(memo=kopf.Memo()) is None  # and did not raise without a runtime


async def test_the_runtime_probe_reports_startup() -> None:
    memo = kopf.Memo()
    assert await probes.runtime_ready(memo=memo) is False
    memo.runtime = RecordingRuntime(OperatorConfig())
    assert await probes.runtime_ready(memo=memo) is True
