"""Optional Slack-compatible incoming-webhook notifications (approvals needed, outcomes)."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.request

from maintenance_operator.logs import redact
from maintenance_operator.runtime import Runtime

log = logging.getLogger(__name__)
CACHE_KEY = "notify-url"
TIMEOUT_SECONDS = 5.0


async def _url(runtime: Runtime) -> str | None:
    ref = runtime.config.notify_webhook_secret
    if not ref:
        return None
    if CACHE_KEY not in runtime.caches:
        namespace, name, key = ([*ref.split("/"), "", "", ""])[:3]
        runtime.caches[CACHE_KEY] = await runtime.resources.read_secret(namespace, name, key or "url")
    url = runtime.caches[CACHE_KEY]
    return str(url) if url else None


def _post(url: str, text: str) -> None:
    data = json.dumps({"text": text}).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS):
        pass


async def send(runtime: Runtime, *, text: str) -> None:
    """Post `text` if a webhook is configured; failures are logged, never raised."""
    url = await _url(runtime)
    if not url:
        return
    try:
        await asyncio.to_thread(_post, url, redact(text))
    except Exception as exc:  # a notification must never break a remediation
        log.warning("notification failed: %s", type(exc).__name__)
