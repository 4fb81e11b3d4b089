"""A Messages API double behind httpx2.MockTransport, so tests drive the real anthropic SDK."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2

API_KEY = "sk-ant-api03-TESTKEY-do-not-log-0123456789abcdefABCDEF"
MODEL = "claude-sonnet-4-6"

Canned = tuple[int, dict[str, Any], dict[str, str]]
Reply = Canned | Exception | Callable[[httpx2.Request], httpx2.Response]


def message(
    *,
    tool_input: object | None = None,
    text: str | None = None,
    stop_reason: str = "tool_use",
    input_tokens: int = 900,
    output_tokens: int = 180,
    cache_creation: int = 0,
    cache_read: int = 2100,
    tool_name: str = "propose_plan",
) -> dict[str, Any]:
    """A realistic Messages API response body."""
    content: list[dict[str, Any]] = []
    if text is not None:
        content.append({"type": "text", "text": text})
    if tool_input is not None:
        content.append(
            {
                "type": "tool_use",
                "id": "toolu_01D7FLrfh4GYq7yT1ULFeyMV",
                "name": tool_name,
                "input": tool_input,
            }
        )
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": cache_creation,
            "cache_read_input_tokens": cache_read,
            "service_tier": "standard",
        },
    }


def ok(body: dict[str, Any]) -> Canned:
    return 200, body, {"request-id": "req_011CTest"}


def error(status: int, kind: str, msg: str, headers: dict[str, str] | None = None) -> Canned:
    body = {"type": "error", "error": {"type": kind, "message": msg}, "request_id": "req_011CErr"}
    return status, body, headers or {}


class FakeMessagesAPI:
    """Replies in order (the last one repeats) and records every request."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx2.Request] = []

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, tuple):
            status, body, headers = reply
            return httpx2.Response(status, json=body, headers=headers)
        return reply(request)

    def client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(transport=httpx2.MockTransport(self.handler))
