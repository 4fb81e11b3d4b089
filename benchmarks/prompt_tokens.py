"""Prompt tokens per plan for the Chat App preset, with and without prompt caching.

Run: PYTHONPATH=operator .venv/bin/python -m benchmarks.prompt_tokens

Tokens are approximated as ceil(chars / 4) (the budget's documented estimate). With ANTHROPIC_API_KEY set,
the API's messages.count_tokens gives exact counts too. The request is also sent through the real SDK and
ClaudePlanner against an httpx2.MockTransport whose reported usage is derived from the request it received,
so the numbers include everything the planner really sends (tool schema, system prompt, user message).
The cached prefix (tools + system prompt) is only cached if it reaches the model's minimum
(budget.price(model).min_cacheable_tokens); below it, caching silently does nothing and we say so.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
from pathlib import Path
from typing import Any

import httpx2
from tests.fixtures import planning_cases as cases

from maintenance_operator.adapters import llm
from maintenance_operator.api.v1alpha1 import Severity, TokenUsage
from maintenance_operator.domain import budget, prompt
from maintenance_operator.domain.planning import PlanningContext

MODEL = "claude-sonnet-4-6"
OUTPUT_TOKENS = 250  # typical propose_plan tool input
RESULTS = Path(__file__).parent / "results" / "prompt_tokens.json"

SCENARIOS: dict[str, PlanningContext] = {
    "memory_leak": cases.ctx("memory"),
    "bad_release": cases.ctx("error-rate", current_revision_age_seconds=1200.0),
    "load_surge": cases.ctx("queue"),
    "config_corruption": cases.ctx("config", config={cases.CONFIG_KEY: cases.BAD_CONFIG}),
    "llm_slowdown": cases.ctx("external-dependency", severity=Severity.HIGH),
    "flapping": cases.ctx(
        "memory",
        outcomes=[
            cases.outcome(cases.issue("memory").fingerprint, "RolloutRestart", "Succeeded", minutes_ago=m)
            for m in (50, 20)
        ],
    ),
}


def approx(text: str) -> int:
    return math.ceil(len(text) / budget.CHARS_PER_TOKEN)


def prefix_text() -> str:
    return json.dumps([prompt.plan_tool()]) + prompt.SYSTEM_PROMPT


class UsageEcho:
    """Mock API that reports usage from the request itself, caching the prefix after the first call."""

    def __init__(self, *, cache: bool, min_cacheable: int) -> None:
        self.cache = cache
        self.min_cacheable = min_cacheable
        self.warm = False

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        prefix = approx(json.dumps(body["tools"]) + body["system"][0]["text"])
        rest = approx(json.dumps(body["messages"]))
        cacheable = self.cache and prefix >= self.min_cacheable
        usage = {
            "input_tokens": rest if cacheable else prefix + rest,
            "output_tokens": OUTPUT_TOKENS,
            "cache_creation_input_tokens": prefix if cacheable and not self.warm else 0,
            "cache_read_input_tokens": prefix if cacheable and self.warm else 0,
        }
        self.warm = self.warm or cacheable
        reply = {
            "id": "msg_bench",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "stop_reason": "tool_use",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_bench",
                    "name": "propose_plan",
                    "input": {"actions": [{"type": "NoAction"}], "rationale": "benchmark", "confidence": 5},
                }
            ],
            "usage": usage,
        }
        return httpx2.Response(200, json=reply)


async def run_through_sdk(*, cache: bool) -> list[TokenUsage]:
    echo = UsageEcho(cache=cache, min_cacheable=budget.price(MODEL).min_cacheable_tokens)
    planner = llm.ClaudePlanner(
        api_key="sk-ant-benchmark-not-a-key",
        model=MODEL,
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(echo.handler)),
    )
    usages = [(await planner.plan(ctx)).usage for ctx in SCENARIOS.values()]
    await planner.aclose()
    return usages


async def count_with_api() -> dict[str, int] | None:
    if not os.environ.get("ANTHROPIC_API_KEY"):
        return None
    import anthropic

    client = anthropic.AsyncAnthropic(timeout=30.0, max_retries=1)
    p = llm.ClaudePlanner(api_key="unused", model=MODEL)
    counts: dict[str, int] = {}
    for name, ctx in SCENARIOS.items():
        kwargs = p.request_kwargs([{"role": "user", "content": prompt.build_user_message(ctx)}])
        kwargs.pop("max_tokens")
        counted = await client.messages.count_tokens(**kwargs)
        counts[name] = counted.input_tokens
    await client.close()
    return counts


def main() -> None:
    price = budget.price(MODEL)
    prefix = approx(prefix_text())
    system_tokens = approx(prompt.SYSTEM_PROMPT)
    tool_tokens = approx(json.dumps([prompt.plan_tool()]))
    uncached = asyncio.run(run_through_sdk(cache=False))
    cached = asyncio.run(run_through_sdk(cache=True))
    exact = asyncio.run(count_with_api())
    rows: list[dict[str, Any]] = []
    for (name, ctx), u0, u1 in zip(SCENARIOS.items(), uncached, cached, strict=True):
        rows.append(
            {
                "scenario": name,
                "userMessageTokens": approx(prompt.build_user_message(ctx)),
                "inputTokensUncached": u0.input_tokens,
                "inputTokensCached": u1.input_tokens,
                "cacheWrite": u1.cache_creation_input_tokens,
                "cacheRead": u1.cache_read_input_tokens,
                "costUncachedUsd": u0.estimated_cost_usd,
                "costCachedUsd": u1.estimated_cost_usd,
                "countTokensApi": None if exact is None else exact[name],
            }
        )
    cacheable = prefix >= price.min_cacheable_tokens
    result = {
        "model": MODEL,
        "method": "ceil(chars/4) approximation"
        + ("; countTokensApi from messages.count_tokens" if exact else "; ANTHROPIC_API_KEY unset"),
        "systemPromptChars": len(prompt.SYSTEM_PROMPT),
        "systemPromptTokens": system_tokens,
        "toolSchemaTokens": tool_tokens,
        "cachedPrefixTokens": prefix,
        "minCacheableTokens": price.min_cacheable_tokens,
        "prefixIsCacheable": cacheable,
        "outputTokensAssumed": OUTPUT_TOKENS,
        "scenarios": rows,
        "totalCostUncachedUsd": round(sum(r["costUncachedUsd"] for r in rows), 6),
        "totalCostCachedUsd": round(sum(r["costCachedUsd"] for r in rows), 6),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")

    print(
        f"model {MODEL}: system prompt {system_tokens} tok, tool schema {tool_tokens} tok, "
        f"cached prefix {prefix} tok (minimum {price.min_cacheable_tokens}: "
        f"{'cacheable' if cacheable else 'NOT cached, below the minimum'})"
    )
    header = (
        f"{'scenario':<18} {'user':>5} {'in(no cache)':>12} {'in(cached)':>10} {'write':>6} {'read':>6} "
        f"{'$ no cache':>10} {'$ cached':>9} {'count_tokens':>12}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        exact_col = "-" if r["countTokensApi"] is None else str(r["countTokensApi"])
        print(
            f"{r['scenario']:<18} {r['userMessageTokens']:>5} {r['inputTokensUncached']:>12} "
            f"{r['inputTokensCached']:>10} {r['cacheWrite']:>6} {r['cacheRead']:>6} "
            f"{r['costUncachedUsd']:>10.5f} {r['costCachedUsd']:>9.5f} {exact_col:>12}"
        )
    print(
        f"total: ${result['totalCostUncachedUsd']:.5f} without caching, "
        f"${result['totalCostCachedUsd']:.5f} with caching; written to {RESULTS}"
    )


if __name__ == "__main__":
    main()
