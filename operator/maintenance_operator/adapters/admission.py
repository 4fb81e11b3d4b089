"""The admission webhook configurations kopf registers for a loopback webhook server."""

from __future__ import annotations

import asyncio
import logging

from kubernetes import client
from kubernetes.client.exceptions import ApiException

log = logging.getLogger(__name__)


async def remove_configurations(api_client: client.ApiClient, name: str) -> None:
    """Delete the validating and mutating webhook configurations named ``name``; a missing one is fine,
    any other refusal is logged (cleanup must not fail the shutdown)."""
    admission = client.AdmissionregistrationV1Api(api_client)
    for delete in (
        admission.delete_validating_webhook_configuration,
        admission.delete_mutating_webhook_configuration,
    ):
        try:
            await asyncio.to_thread(delete, name)
        except ApiException as exc:
            if exc.status != 404:
                log.warning("could not remove webhook configuration %s: %s", name, exc.reason)
