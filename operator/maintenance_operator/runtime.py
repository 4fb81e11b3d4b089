"""Process-wide collaborators shared by the handlers (kept in kopf's memo)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client

from maintenance_operator.adapters import crs
from maintenance_operator.config import OperatorConfig


@dataclass
class Runtime:
    """What every handler needs: settings, API clients, and the approval signing key."""

    config: OperatorConfig
    api_client: client.ApiClient
    resources: crs.CustomResources
    approval_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    caches: dict[str, Any] = field(default_factory=dict)


def from_memo(memo: Any) -> Runtime:
    runtime = getattr(memo, "runtime", None)
    if not isinstance(runtime, Runtime):
        raise RuntimeError("operator runtime not initialised: the startup handler did not run")
    return runtime
