"""Structured logging: one JSON object per line, with secrets redacted before anything is written."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from maintenance_operator.domain import redaction

# one redaction for prompts, logs, status and Events (domain/redaction.py lists what it catches)
redact = redaction.redact


class JsonFormatter(logging.Formatter):
    """Renders a record as one JSON line with time, level, logger, message and kopf's object context."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        k8s_obj = getattr(record, "k8s_ref", None)
        if isinstance(k8s_obj, dict):
            payload["object"] = {k: k8s_obj.get(k) for k in ("namespace", "name", "kind") if k8s_obj.get(k)}
        if record.exc_info:
            payload["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(payload, default=str)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure(*, fmt: str, level: str) -> None:
    """Install one stderr handler on the root logger."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # the kubernetes client logs request bodies at DEBUG; keep it quiet
    logging.getLogger("kubernetes").setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
