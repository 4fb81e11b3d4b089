"""Optional Slack-compatible incoming-webhook notifications (approvals needed, outcomes)."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.request
from typing import Protocol

from maintenance_operator.logs import redact

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 5.0


class SecretReader(Protocol):
    async def read_secret(self, namespace: str, name: str, key: str) -> str | None: ...


def _post(url: str, text: str) -> None:
    data = json.dumps({"text": text}).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS):
        pass


class Notifier:
    """Posts to the webhook URL stored in ``secret_ref`` ("namespace/name[/key]"); no ref, no posts."""

    def __init__(self, secrets: SecretReader, *, secret_ref: str | None) -> None:
        self._secrets = secrets
        self._ref = secret_ref
        self._url: str | None = None
        self._resolved = False

    async def _webhook(self) -> str | None:
        if not self._ref:
            return None
        if not self._resolved:
            namespace, name, key = ([*self._ref.split("/"), "", "", ""])[:3]
            self._url = await self._secrets.read_secret(namespace, name, key or "url")
            self._resolved = True
        return self._url or None

    async def send(self, text: str) -> None:
        """Post ``text`` if a webhook is configured; failures are logged, never raised."""
        url = await self._webhook()
        if not url:
            return
        try:
            await asyncio.to_thread(_post, url, redact(text))
        except Exception as exc:  # a notification must never break a remediation
            log.warning("notification failed: %s", type(exc).__name__)
