"""PrometheusRules (prometheus-operator's monitoring.coreos.com/v1) that the operator owns."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

GROUP = "monitoring.coreos.com"
VERSION = "v1"
PLURAL = "prometheusrules"
FIELD_MANAGER = "maintenance-operator"


class RulesUnavailable(Exception):
    """The cluster cannot take the PrometheusRule: no prometheus-operator CRD, or no permission."""


async def apply_rule(
    api_client: client.ApiClient,
    *,
    namespace: str,
    name: str,
    labels: Mapping[str, str],
    owner: Mapping[str, Any],
    spec: Mapping[str, Any],
) -> None:
    """Create or update the PrometheusRule by server-side apply, owned by `owner` (deleted with it).

    Raises RulesUnavailable on 404 (CRD missing) or 403 (RBAC); other API errors propagate for a retry.
    """
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "PrometheusRule",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": dict(labels),
            "ownerReferences": [owner],
        },
        "spec": dict(spec),
    }
    objects = client.CustomObjectsApi(api_client)
    try:
        await asyncio.to_thread(
            objects.patch_namespaced_custom_object,
            GROUP,
            VERSION,
            namespace,
            PLURAL,
            name,
            body,
            field_manager=FIELD_MANAGER,
            force=True,
            _content_type="application/apply-patch+yaml",
        )
    except ApiException as exc:
        if exc.status in (403, 404):
            raise RulesUnavailable(
                f"PrometheusRule {namespace}/{name} not applied ({exc.status} {exc.reason}): "
                "is prometheus-operator installed and prometheusRule.fromPolicies set in the chart?"
            ) from exc
        raise
