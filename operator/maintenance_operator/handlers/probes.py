"""Startup, cleanup and health probes."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

import kopf

from maintenance_operator import metrics
from maintenance_operator.adapters import throttle
from maintenance_operator.config import OperatorConfig, apply_kopf_settings, operator_identity
from maintenance_operator.handlers import webhooks
from maintenance_operator.runtime import Runtime, from_memo

log = logging.getLogger(__name__)
_metrics_started: set[int] = set()


@kopf.on.startup()
async def startup(
    settings: kopf.OperatorSettings,
    memo: kopf.Memo,
    remediation_summaries: kopf.Index[str, dict[str, Any]] | None = None,
    **_: Any,
) -> None:
    config = OperatorConfig.from_env()
    identity = operator_identity(
        dict(os.environ), uid=os.getuid(), hostname=socket.gethostname(), pid=os.getpid()
    )
    apply_kopf_settings(settings, config, identity=identity)
    throttle.configure(qps=config.api_qps, burst=config.api_burst, max_in_flight=config.api_max_in_flight)
    webhooks.configure_admission(settings, config, memo)
    runtime = Runtime.connect(config)
    runtime.resources.watched_remediations = remediation_summaries  # kept by handlers/remediation.py
    key = os.environ.get("MAINTENANCE_OPERATOR_APPROVAL_KEY")
    if key:
        runtime.approval_key = key.encode()
    else:
        log.warning(
            "MAINTENANCE_OPERATOR_APPROVAL_KEY is not set: approvals given before a restart will not verify"
        )
    memo.runtime = runtime
    if config.metrics_port and config.metrics_port not in _metrics_started:
        try:
            metrics.serve(config.metrics_port)
            _metrics_started.add(config.metrics_port)
        except OSError as exc:
            log.warning("metrics port %s unavailable: %s", config.metrics_port, exc)


@kopf.on.cleanup()
async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    if getattr(memo, "runtime", None) is None:
        return  # startup did not get that far
    runtime = from_memo(memo)
    if runtime.config.webhook_mode == "local":
        # a loopback webhook dies with this process; its configurations must not outlive it
        await runtime.remove_webhook_configurations(webhooks.MANAGED_NAME)
    await runtime.aclose()
    runtime.disconnect()


@kopf.on.probe(id="runtime")
async def runtime_ready(memo: kopf.Memo, **_: Any) -> bool:
    return getattr(memo, "runtime", None) is not None
