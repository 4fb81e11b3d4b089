"""ClaudePlanner, OfflinePlanner, FallbackPlanner and select_planner, driving the real anthropic SDK through
httpx2.MockTransport. Every path ends in a validated plan or the offline fallback, never an exception."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest

from maintenance_operator.adapters import llm
from maintenance_operator.api.v1alpha1 import (
    ActionType,
    ConfigPatchAction,
    LLMMode,
    LLMSpec,
    PlannerKind,
    TokenUsage,
)
from maintenance_operator.domain import budget, plan_validation
from maintenance_operator.domain.planning import PlanningContext, offline_plan
from tests.fixtures import planning_cases as cases
from tests.fixtures.llm_mock import API_KEY, MODEL, FakeMessagesAPI, error, message, ok

RECENT = 20 * 60.0
ROLLBACK_INPUT = {
    "actions": [{"type": "Rollback", "rollback": {"toRevision": 4}}],
    "rationale": "Error rate 12% since revision 5 went out 20 minutes ago; revision 4 was healthy.",
    "expectedEffect": "http-error-rate below 2%",
    "successCriteria": {"indicators": ["http-error-rate"], "window": "3m"},
    "rollbackPlan": "Roll forward to revision 5.",
    "confidence": 8.8,
}


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def planner(api: FakeMessagesAPI, sleeps: Sleeps | None = None, **kw: Any) -> llm.ClaudePlanner:
    return llm.ClaudePlanner(
        api_key=API_KEY, model=MODEL, timeout=5.0, http_client=api.client(), sleep=sleeps or Sleeps(), **kw
    )


def bad_release() -> PlanningContext:
    return cases.ctx("error-rate", current_revision_age_seconds=RECENT)


def assert_safe(result: llm.PlanResult, ctx: PlanningContext) -> None:
    assert result.plan is not None
    assert plan_validation.validate_plan(result.plan, ctx) == []
    if result.source is PlannerKind.OFFLINE:
        assert result.plan == offline_plan(ctx)


def assert_offline(result: llm.PlanResult, ctx: PlanningContext, kind: str) -> None:
    assert result.source is PlannerKind.OFFLINE
    assert result.error_kind == kind
    assert result.fallback_reason
    assert API_KEY not in result.fallback_reason
    assert_safe(result, ctx)


# ---------------------------------------------------------------- the happy path and the request


async def test_valid_plan_is_accepted_and_operator_fields_are_forced() -> None:
    forged = {**ROLLBACK_INPUT, "planner": "Offline", "model": "evil", "promptHash": "sha256:0"}
    api = FakeMessagesAPI(ok(message(tool_input=forged, cache_creation=2100, cache_read=0)))
    ctx = bad_release()

    result = await planner(api).plan(ctx)

    assert result.source is PlannerKind.CLAUDE and result.fallback_reason is None
    assert result.plan is not None
    assert result.plan.planner is PlannerKind.CLAUDE
    assert result.plan.model == MODEL
    assert result.plan.prompt_hash == result.prompt_hash and result.prompt_hash is not None
    assert result.plan.prompt_hash.startswith("sha256:") and result.plan.prompt_hash != "sha256:0"
    assert result.plan.actions[0].rollback is not None and result.plan.actions[0].rollback.to_revision == 4
    assert result.usage.input_tokens == 900 and result.usage.cache_creation_input_tokens == 2100
    assert result.usage.calls == 1
    assert result.usage.estimated_cost_usd == pytest.approx((900 * 3 + 180 * 15 + 2100 * 3.75) / 1e6)
    assert_safe(result, ctx)


async def test_request_forces_the_tool_and_caches_the_system_prompt() -> None:
    api = FakeMessagesAPI(ok(message(tool_input=ROLLBACK_INPUT)))
    await planner(api, max_output_tokens=1500).plan(bad_release())

    (body,) = api.bodies
    assert body["tool_choice"] == {"type": "tool", "name": "propose_plan"}
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert body["system"][0]["text"] == llm.prompt.SYSTEM_PROMPT
    assert [t["name"] for t in body["tools"]] == ["propose_plan"]
    assert "planner" not in body["tools"][0]["input_schema"]["properties"]
    assert body["model"] == MODEL and body["max_tokens"] == 1500
    assert "<untrusted-data>" in body["messages"][0]["content"]
    request = api.requests[0]
    assert request.url.path == "/v1/messages"
    # SDK 2.x sends the key as a bearer token: to the API, and nowhere else
    assert request.headers["authorization"] == f"Bearer {API_KEY}"


async def test_system_prompt_and_tools_identical_across_incidents() -> None:
    api = FakeMessagesAPI(ok(message(tool_input=ROLLBACK_INPUT)))
    p = planner(api)
    await p.plan(bad_release())
    await p.plan(cases.ctx("memory"))
    first, second = api.bodies
    assert first["system"] == second["system"] and first["tools"] == second["tools"]
    assert first["messages"] != second["messages"]


# ---------------------------------------------------------------- invalid answers


async def test_malformed_tool_input_gets_one_repair_then_falls_back() -> None:
    api = FakeMessagesAPI(ok(message(tool_input={"actions": "restart everything", "confidence": "high"})))
    ctx = bad_release()

    result = await planner(api).plan(ctx)

    assert_offline(result, ctx, "invalid_plan")
    assert len(api.requests) == 2
    repair = api.bodies[1]["messages"]
    assert [m["role"] for m in repair] == ["user", "assistant", "user"]
    tool_result = repair[2]["content"][0]
    assert tool_result["type"] == "tool_result" and tool_result["is_error"] is True
    assert tool_result["tool_use_id"] == repair[1]["content"][0]["id"]
    assert "actions" in tool_result["content"]
    assert result.usage.calls == 2 and result.usage.input_tokens == 1800


async def test_tool_input_that_is_not_an_object_falls_back() -> None:
    api = FakeMessagesAPI(ok(message(tool_input=["Rollback"])))
    ctx = bad_release()
    assert_offline(await planner(api).plan(ctx), ctx, "invalid_plan")


async def test_response_that_is_not_json_falls_back() -> None:
    api = FakeMessagesAPI(
        lambda request: httpx2.Response(
            200, content=b'{"id": "msg_01", "content": [', headers={"content-type": "application/json"}
        )
    )
    ctx = bad_release()
    result = await planner(api).plan(ctx)
    assert_offline(result, ctx, "bad_response")


async def test_out_of_bounds_plan_is_repaired() -> None:
    too_big = {**ROLLBACK_INPUT, "actions": [{"type": "Scale", "scale": {"replicas": 50}}]}
    fixed = {**ROLLBACK_INPUT, "actions": [{"type": "Scale", "scale": {"replicas": 5}}]}
    api = FakeMessagesAPI(ok(message(tool_input=too_big)), ok(message(tool_input=fixed)))
    ctx = cases.ctx("queue")

    result = await planner(api).plan(ctx)

    assert result.source is PlannerKind.CLAUDE
    assert result.plan is not None and result.plan.actions[0].scale is not None
    assert result.plan.actions[0].scale.replicas == 5
    assert "above the policy maximum of 8" in api.bodies[1]["messages"][2]["content"][0]["content"]
    assert result.usage.calls == 2
    assert_safe(result, ctx)


async def test_out_of_bounds_twice_falls_back() -> None:
    too_big = {**ROLLBACK_INPUT, "actions": [{"type": "Scale", "scale": {"replicas": 50}}]}
    api = FakeMessagesAPI(ok(message(tool_input=too_big)))
    ctx = cases.ctx("queue")
    result = await planner(api).plan(ctx)
    assert_offline(result, ctx, "invalid_plan")
    assert "above the policy maximum" in (result.fallback_reason or "")


async def test_action_outside_the_allowlist_falls_back() -> None:
    patch = {
        **ROLLBACK_INPUT,
        "actions": [
            {
                "type": "ConfigPatch",
                "configPatch": {
                    "configMapRef": {"name": cases.CONFIG_MAP},
                    "key": cases.CONFIG_KEY,
                    "value": "x",
                },
            }
        ],
    }
    api = FakeMessagesAPI(ok(message(tool_input=patch)))
    ctx = cases.ctx("config", actions=cases.full_actions(config_patch=ConfigPatchAction(enabled=False)))
    result = await planner(api).plan(ctx)
    assert_offline(result, ctx, "invalid_plan")
    assert result.plan is not None and result.plan.actions[0].type is ActionType.ESCALATE


async def test_refusal_falls_back_without_repair() -> None:
    api = FakeMessagesAPI(ok(message(stop_reason="refusal", output_tokens=3)))
    ctx = bad_release()
    result = await planner(api).plan(ctx)
    assert_offline(result, ctx, "refusal")
    assert len(api.requests) == 1 and result.usage.output_tokens == 3


async def test_text_answer_without_tool_call_falls_back() -> None:
    api = FakeMessagesAPI(ok(message(text="I think you should restart.", stop_reason="end_turn")))
    ctx = bad_release()
    assert_offline(await planner(api).plan(ctx), ctx, "refusal")


async def test_cut_off_reply_is_not_trusted() -> None:
    api = FakeMessagesAPI(ok(message(tool_input=ROLLBACK_INPUT, stop_reason="max_tokens")))
    ctx = bad_release()
    assert_offline(await planner(api).plan(ctx), ctx, "invalid_plan")


# ---------------------------------------------------------------- API errors


async def test_rate_limit_is_retried_after_retry_after() -> None:
    api = FakeMessagesAPI(
        error(
            429,
            "rate_limit_error",
            "Number of request tokens has exceeded your per-minute rate limit",
            {"retry-after": "2"},
        ),
        ok(message(tool_input=ROLLBACK_INPUT)),
    )
    sleeps = Sleeps()
    result = await planner(api, sleeps).plan(bad_release())
    assert result.source is PlannerKind.CLAUDE
    assert sleeps.calls == [2.0] and len(api.requests) == 2


async def test_rate_limit_retries_are_bounded() -> None:
    api = FakeMessagesAPI(error(429, "rate_limit_error", "slow down", {"retry-after": "1"}))
    sleeps = Sleeps()
    ctx = bad_release()
    result = await planner(api, sleeps, max_retries=2).plan(ctx)
    assert_offline(result, ctx, "rate_limited")
    assert len(api.requests) == 3 and sleeps.calls == [1.0, 1.0]


async def test_rate_limit_beyond_the_cap_falls_back_at_once() -> None:
    api = FakeMessagesAPI(error(429, "rate_limit_error", "slow down", {"retry-after": "600"}))
    sleeps = Sleeps()
    ctx = bad_release()
    assert_offline(await planner(api, sleeps).plan(ctx), ctx, "rate_limited")
    assert sleeps.calls == [] and len(api.requests) == 1


async def test_overloaded_falls_back() -> None:
    api = FakeMessagesAPI(error(529, "overloaded_error", "Overloaded"))
    ctx = bad_release()
    assert_offline(await planner(api).plan(ctx), ctx, "overloaded")
    assert len(api.requests) == 1  # the SDK's own retries are off


async def test_timeout_falls_back() -> None:
    api = FakeMessagesAPI(httpx2.ReadTimeout("read timed out"))
    ctx = bad_release()
    assert_offline(await planner(api).plan(ctx), ctx, "timeout")


async def test_connection_error_falls_back() -> None:
    api = FakeMessagesAPI(httpx2.ConnectError("connection refused"))
    ctx = bad_release()
    assert_offline(await planner(api).plan(ctx), ctx, "connection")


async def test_unknown_model_falls_back_with_a_clear_message() -> None:
    api = FakeMessagesAPI(error(404, "not_found_error", "model: claude-nope"))
    ctx = bad_release()
    result = await planner(api).plan(ctx)
    assert_offline(result, ctx, "unknown_model")
    assert f"model {MODEL!r} was not found" in (result.fallback_reason or "")
    assert "spec.llm.model" in (result.fallback_reason or "")


async def test_bad_key_falls_back() -> None:
    api = FakeMessagesAPI(error(401, "authentication_error", "invalid x-api-key"))
    ctx = bad_release()
    assert_offline(await planner(api).plan(ctx), ctx, "authentication")


async def test_server_error_falls_back() -> None:
    api = FakeMessagesAPI(error(500, "api_error", "Internal server error"))
    ctx = bad_release()
    assert_offline(await planner(api).plan(ctx), ctx, "server_error")


# ---------------------------------------------------------------- secrets


async def test_api_key_never_logged_or_returned(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    api = FakeMessagesAPI(
        error(401, "authentication_error", "invalid x-api-key"),
        ok(message(tool_input={"actions": []})),
        ok(message(tool_input={"actions": []})),
        error(429, "rate_limit_error", "slow", {"retry-after": "1"}),
        httpx2.ReadTimeout("timeout"),
    )
    p = planner(api)
    results = [await p.plan(bad_release()) for _ in range(4)]
    assert len(api.requests) >= 5
    assert caplog.records  # the SDK and the planner did log
    assert API_KEY not in caplog.text
    assert "TESTKEY" not in caplog.text
    assert API_KEY not in repr(p) and "**********" in repr(p)
    for r in results:
        assert API_KEY not in repr(r)


# ---------------------------------------------------------------- summaries


async def test_summarize_returns_text_and_usage() -> None:
    api = FakeMessagesAPI(ok(message(text="Overall 6.2: core degraded.", stop_reason="end_turn")))
    text, usage = await planner(api).summarize({"overallScore": 6.2})
    assert text == "Overall 6.2: core degraded." and usage.calls == 1
    body = api.bodies[0]
    assert "tools" not in body and body["system"][0]["cache_control"] == {"type": "ephemeral"}


async def test_summarize_failure_returns_none() -> None:
    api = FakeMessagesAPI(error(529, "overloaded_error", "Overloaded"))
    text, usage = await planner(api).summarize({"overallScore": 6.2})
    assert text is None and usage.total == 0


# ---------------------------------------------------------------- budget, cache, modes


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def fallback_planner(
    api: FakeMessagesAPI, *, daily: int = 200_000, used: int = 0, clock: Clock | None = None
) -> llm.FallbackPlanner:
    now = datetime(2025, 11, 26, 12, tzinfo=UTC)
    state = budget.BudgetState(day="2025-11-26", usage=TokenUsage(input_tokens=used))
    selected = llm.select_planner(
        LLMSpec(model=MODEL, daily_token_budget=daily),
        api_key=API_KEY,
        budget_state=state,
        cache=budget.IncidentCache(window_seconds=900, clock=clock or Clock()),
        http_client=api.client(),
        now=lambda: now,
    )
    assert isinstance(selected, llm.FallbackPlanner)
    return selected


async def test_budget_exhausted_makes_no_http_call() -> None:
    api = FakeMessagesAPI(ok(message(tool_input=ROLLBACK_INPUT)))
    ctx = bad_release()
    result = await fallback_planner(api, daily=200_000, used=199_000).plan(ctx)
    assert_offline(result, ctx, "budget")
    assert result.fallback_reason == "token budget exhausted"
    assert len(api.requests) == 0


async def test_spending_is_recorded_against_the_budget() -> None:
    api = FakeMessagesAPI(ok(message(tool_input=ROLLBACK_INPUT)))
    fp = fallback_planner(api)
    await fp.plan(bad_release())
    assert fp.budget_state.usage.total == 900 + 180 + 2100


async def test_cache_hit_makes_no_new_request() -> None:
    api = FakeMessagesAPI(ok(message(tool_input=ROLLBACK_INPUT)))
    clock = Clock()
    fp = fallback_planner(api, clock=clock)
    first = await fp.plan(bad_release())
    second = await fp.plan(bad_release())
    assert len(api.requests) == 1
    assert second.cached and not first.cached
    assert second.plan == first.plan and second.usage.total == 0
    clock.t = 901  # window over: ask again
    await fp.plan(bad_release())
    assert len(api.requests) == 2


async def test_other_incident_is_not_a_cache_hit() -> None:
    api = FakeMessagesAPI(
        ok(message(tool_input=ROLLBACK_INPUT)),
        ok(message(tool_input={**ROLLBACK_INPUT, "actions": [{"type": "RolloutRestart"}]})),
    )
    fp = fallback_planner(api)
    await fp.plan(bad_release())
    result = await fp.plan(cases.ctx("memory"))
    assert len(api.requests) == 2 and not result.cached


@pytest.mark.parametrize(
    ("mode", "key"),
    [(LLMMode.OFFLINE, API_KEY), (LLMMode.OFF, API_KEY), (LLMMode.AUTO, None), (LLMMode.AUTO, "")],
)
async def test_offline_modes_select_the_offline_planner(mode: LLMMode, key: str | None) -> None:
    selected = llm.select_planner(LLMSpec(mode=mode), api_key=key, budget_state=budget.BudgetState())
    assert isinstance(selected, llm.OfflinePlanner)
    ctx = bad_release()
    result = await selected.plan(ctx)
    assert result.source is PlannerKind.OFFLINE and result.fallback_reason is None
    assert_safe(result, ctx)


@pytest.mark.parametrize(("policy_budget", "expected"), [(None, 1234), (50_000, 50_000), (0, 0)])
def test_daily_budget_from_the_policy_else_the_operator_default(
    policy_budget: int | None, expected: int
) -> None:
    selected = llm.select_planner(
        LLMSpec(daily_token_budget=policy_budget),
        api_key=API_KEY,
        budget_state=budget.BudgetState(),
        default_daily_tokens=1234,
    )
    assert isinstance(selected, llm.FallbackPlanner)
    assert selected.token_budget.daily_tokens == expected


@pytest.mark.parametrize(
    ("policy_model", "expected"), [(None, "claude-opus-4-1"), ("claude-haiku-4-5", "claude-haiku-4-5")]
)
def test_model_from_the_policy_else_the_operator_default(policy_model: str | None, expected: str) -> None:
    selected = llm.select_planner(
        LLMSpec(model=policy_model),
        api_key=API_KEY,
        budget_state=budget.BudgetState(),
        default_model="claude-opus-4-1",
    )
    assert isinstance(selected, llm.FallbackPlanner)
    assert isinstance(selected.primary, llm.ClaudePlanner)
    assert selected.primary.model == expected


def test_offline_operator_never_imports_anthropic() -> None:
    code = (
        "import sys, asyncio\n"
        "from maintenance_operator.adapters import llm\n"
        "from maintenance_operator.api.v1alpha1 import LLMSpec, LLMMode\n"
        "from maintenance_operator.domain import budget\n"
        "from tests.fixtures import planning_cases as cases\n"
        "p = llm.select_planner(LLMSpec(mode=LLMMode.AUTO), api_key=None,\n"
        "                       budget_state=budget.BudgetState())\n"
        "asyncio.run(p.plan(cases.ctx('memory')))\n"
        "print('anthropic' in sys.modules, 'httpx2' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": "operator:."},
        cwd=str(__import__("pathlib").Path(__file__).parents[3]),
    )
    assert out.stdout.strip() == "False False"


async def test_fallback_summary_is_charged_to_the_daily_budget() -> None:
    api = FakeMessagesAPI(ok(message(text="Memory is leaking.", stop_reason="end_turn")))
    fp = fallback_planner(api)
    text, usage = await fp.summarize({"overallScore": 6.2})
    assert text == "Memory is leaking."
    assert fp.budget_state.usage.total == usage.total > 0


async def test_fallback_summary_over_budget_makes_no_http_call() -> None:
    api = FakeMessagesAPI(ok(message(text="never sent", stop_reason="end_turn")))
    text, usage = await fallback_planner(api, daily=200_000, used=199_900).summarize({"overallScore": 6.2})
    assert text is None and usage.total == 0
    assert len(api.requests) == 0


# ---------------------------------------------------------------- model output is data, and is redacted


async def test_claude_plan_is_redacted_and_carries_the_offline_second_opinion() -> None:
    leaky = {
        **ROLLBACK_INPUT,
        "rationale": "DB_PASSWORD=hunter2xyz leaked in the logs; roll back. the token is abc123XYZ",
        "rollbackPlan": "postgres://app:pw12345@db/chat then roll forward",
    }
    api = FakeMessagesAPI(ok(message(tool_input=leaky)))
    ctx = bad_release()
    result = await planner(api).plan(ctx)
    assert result.source is PlannerKind.CLAUDE
    assert result.plan is not None
    stored = result.plan.model_dump_json()
    for secret in ("hunter2xyz", "abc123XYZ", "pw12345"):
        assert secret not in stored
    assert result.plan.rationale.startswith("DB_PASSWORD=[REDACTED] leaked")
    assert result.second_opinion == offline_plan(ctx)


async def test_summary_is_redacted() -> None:
    api = FakeMessagesAPI(
        ok(message(text="Healthy. SLACK_TOKEN=xoxb-1234567890-abcdefghij", stop_reason="end_turn"))
    )
    text, _ = await planner(api).summarize({"overall": 9.1})
    assert text == "Healthy. SLACK_TOKEN=[REDACTED]"
