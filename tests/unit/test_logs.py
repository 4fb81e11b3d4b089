from __future__ import annotations

import json
import logging

from maintenance_operator import logs
from maintenance_operator.domain import redaction


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("maintenance_operator.x", logging.WARNING, __file__, 1, message, None, None)


def test_json_lines_carry_level_logger_and_redacted_message() -> None:
    line = logs.JsonFormatter().format(record("calling Claude with x-api-key: sk-ant-api03-SECRETSECRET"))
    payload = json.loads(line)
    assert payload["level"] == "WARNING" and payload["logger"] == "maintenance_operator.x"
    assert "SECRETSECRET" not in line and "[REDACTED]" in payload["message"]


def test_text_format_redacts_too() -> None:
    formatter = logs.RedactingFormatter("%(message)s")
    text = formatter.format(record("Authorization: Bearer abcdefghijklmnop"))
    assert "abcdefghijklmnop" not in text and text.startswith("Authorization: [REDACTED]")


def test_logs_use_the_one_redaction() -> None:
    assert logs.redact is redaction.redact
    message = "reload failed: PGPASSWORD=s3cr3tXYZ, dsn postgres://app:pw9876@db/chat, the token is tk55AA"
    line = logs.JsonFormatter().format(record(message))
    for secret in ("s3cr3tXYZ", "pw9876", "tk55AA"):
        assert secret not in line
