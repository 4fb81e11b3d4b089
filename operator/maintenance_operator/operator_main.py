"""Start kopf with the operator's handlers and production settings."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any, cast

import kopf

from maintenance_operator import logs
from maintenance_operator.config import OperatorConfig, operator_identity

log = logging.getLogger(__name__)


def run(*, namespaces: list[str], all_namespaces: bool) -> int:
    """Block running the operator until it is stopped; returns the exit code."""
    config = OperatorConfig.from_env()
    logs.configure(fmt=config.log_format, level=config.log_level)
    from maintenance_operator.handlers import webhooks  # importing the package registers the handlers

    if config.webhook_mode != "none":
        webhooks.register()

    watched = namespaces or config.namespaces
    clusterwide = all_namespaces or not watched
    identity = operator_identity(
        dict(os.environ), uid=os.getuid(), hostname=socket.gethostname(), pid=os.getpid()
    )
    log.info("starting maintenance-operator", extra={"namespaces": watched or "all", "identity": identity})
    kopf.run(
        clusterwide=clusterwide,
        namespaces=[] if clusterwide else watched,
        liveness_endpoint=config.liveness_endpoint,
        standalone=config.peering is None or config.sharding_enabled,
        priority=config.priority,
        peering_name=config.peering,
        identity=cast(Any, identity),  # kopf types it as its private Identity NewType of str
    )
    return 0
