"""Startup, cleanup and health probes."""

from __future__ import annotations

import logging
import os
from typing import Any

import kopf

from maintenance_operator import metrics
from maintenance_operator.adapters import crs, throttle
from maintenance_operator.config import OperatorConfig, apply_kopf_settings
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
    apply_kopf_settings(settings, config)
    throttle.configure(qps=config.api_qps, burst=config.api_burst)
    webhooks.configure_admission(settings, config, memo)
    api_client = crs.new_api_client()
    runtime = Runtime(config=config, api_client=api_client, resources=crs.CustomResources(api_client))
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
    runtime = getattr(memo, "runtime", None)
    if runtime is None:
        return
    if runtime.config.webhook_mode == "local":
        # a loopback webhook dies with this process; its configurations must not outlive it
        await webhooks.remove_managed_configurations(runtime.api_client)
    await from_memo(memo).aclose()
    from_memo(memo).api_client.close()  # type: ignore[no-untyped-call]


@kopf.on.probe(id="runtime")
async def runtime_ready(memo: kopf.Memo, **_: Any) -> bool:
    return getattr(memo, "runtime", None) is not None
