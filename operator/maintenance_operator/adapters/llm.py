"""Planners: Claude (anthropic SDK, forced tool use) with the offline planner as default and fallback.

The anthropic SDK is imported lazily, only when a Claude call is actually made, so an operator that plans
offline never loads it. Whatever Claude answers, the plan is re-validated with pydantic and with
`plan_validation.validate_plan`; anything invalid gets one repair attempt, then the offline plan. A Claude
plan comes back with its free text redacted and the offline planner's plan as `second_opinion`. No
planner call raises: every failure ends in a validated plan, with `fallback_reason` and `error_kind` set.
The API key lives in a `SecretStr` and never appears in logs, exceptions or returned messages.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import SecretStr, ValidationError

from maintenance_operator.api.v1alpha1 import (
    Action,
    ActionType,
    EscalateParams,
    LLMMode,
    LLMSpec,
    Plan,
    PlannerKind,
    TokenUsage,
    parse_duration,
)
from maintenance_operator.config import DEFAULT_MODEL
from maintenance_operator.domain import budget, plan_validation, planning, prompt, redaction
from maintenance_operator.domain.planning import PlanningContext

if TYPE_CHECKING:
    import anthropic
    import httpx2
    from anthropic.types import Message

log = logging.getLogger(__name__)

BUDGET_EXHAUSTED = "token budget exhausted"


@dataclass(frozen=True)
class PlanResult:
    """A planner's answer. `plan` has always passed validation when it is not None."""

    plan: Plan | None
    usage: TokenUsage
    source: PlannerKind
    fallback_reason: str | None = None
    prompt_hash: str | None = None
    error_kind: str | None = None
    cached: bool = False
    second_opinion: Plan | None = None
    """For a Claude plan: the offline planner's plan for the same incident (plan_review compares them)."""


class Planner(Protocol):
    """Anything that turns a planning context into a validated plan without raising."""

    async def plan(self, ctx: PlanningContext) -> PlanResult: ...

    async def summarize(self, numbers: Mapping[str, Any]) -> tuple[str | None, TokenUsage]: ...

    @property
    def spent(self) -> budget.BudgetState | None: ...

    async def aclose(self) -> None: ...


# ---------------------------------------------------------------- offline


def _escalation(ctx: PlanningContext, reason: str) -> Plan:
    return Plan(
        actions=[Action(type=ActionType.ESCALATE, escalate=EscalateParams(reason=reason[:1024]))],
        rationale=reason[:2000],
        confidence=planning.CONFIDENCE["escalate"],
        planner=PlannerKind.OFFLINE,
    )


class OfflinePlanner:
    """The deterministic planner: `planning.offline_plan`, validated like any other plan."""

    async def plan(self, ctx: PlanningContext) -> PlanResult:
        return self.plan_now(ctx)

    async def summarize(self, numbers: Mapping[str, Any]) -> tuple[str | None, TokenUsage]:
        """No narrative offline: the assessment keeps its computed summary."""
        return None, TokenUsage()

    @property
    def spent(self) -> budget.BudgetState | None:
        """Offline planning costs no tokens: nothing to persist."""
        return None

    async def aclose(self) -> None:
        """Nothing to close."""

    def plan_now(
        self,
        ctx: PlanningContext,
        *,
        fallback_reason: str | None = None,
        error_kind: str | None = None,
        usage: TokenUsage | None = None,
        prompt_hash: str | None = None,
    ) -> PlanResult:
        """The offline plan, carrying why it was used instead of Claude (if it was a fallback)."""
        plan = planning.offline_plan(ctx)
        violations = plan_validation.validate_plan(plan, ctx)
        if violations:  # a bug in the rules must not become an unsafe action
            log.error("offline plan failed validation: %s", "; ".join(violations))
            plan = _escalation(ctx, "the offline plan failed validation: " + "; ".join(violations))
        return PlanResult(
            plan=plan,
            usage=usage or TokenUsage(),
            source=PlannerKind.OFFLINE,
            fallback_reason=fallback_reason,
            prompt_hash=prompt_hash,
            error_kind=error_kind,
        )


# ---------------------------------------------------------------- Claude


class _CallFailed(Exception):
    """A classified API failure; `message` is ours, never the server's or the SDK's text."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def _retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            return max(0.0, float(raw) * scale)
        except ValueError:
            continue
    return None


def _usage_of(message: Message) -> TokenUsage:
    u = message.usage
    return TokenUsage(
        input_tokens=u.input_tokens,
        output_tokens=u.output_tokens,
        cache_creation_input_tokens=u.cache_creation_input_tokens or 0,
        cache_read_input_tokens=u.cache_read_input_tokens or 0,
        calls=1,
    )


def _format_validation_error(error: ValidationError) -> list[str]:
    out = []
    for e in error.errors(include_input=False, include_url=False, include_context=False)[:20]:
        loc = ".".join(str(p) for p in e["loc"]) or "plan"
        out.append(f"{loc}: {e['msg']}")
    return out


class ClaudePlanner:
    """Plans with Claude through forced tool use; falls back to the offline planner on any failure."""

    def __init__(
        self,
        *,
        api_key: str | SecretStr,
        model: str = DEFAULT_MODEL,
        timeout: float = 30.0,
        max_retries: int = 2,
        retry_after_cap: float = 10.0,
        max_output_tokens: int = 2048,
        http_client: httpx2.AsyncClient | None = None,
        base_url: str | None = None,
        offline: OfflinePlanner | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._api_key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        self.model = model
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.retry_after_cap = retry_after_cap
        self.max_output_tokens = max_output_tokens
        self._http_client = http_client
        self._base_url = base_url
        self._offline = offline or OfflinePlanner()
        self._sleep = sleep
        self._sdk: anthropic.AsyncAnthropic | None = None

    def __repr__(self) -> str:
        return f"ClaudePlanner(model={self.model!r}, api_key={self._api_key!r})"

    def _client(self) -> anthropic.AsyncAnthropic:
        if self._sdk is None:
            import anthropic  # lazy: ~40-80 MB RSS that an offline operator never pays

            self._sdk = anthropic.AsyncAnthropic(
                api_key=self._api_key.get_secret_value(),
                base_url=self._base_url,
                timeout=self.timeout,
                max_retries=0,  # our own bounded retries below
                http_client=self._http_client,
            )
        return self._sdk

    async def aclose(self) -> None:
        if self._sdk is not None:
            await self._sdk.close()

    def request_kwargs(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The messages.create arguments: static tools and system prompt (cached), forced tool choice."""
        return {
            "model": self.model,
            "max_tokens": self.max_output_tokens,
            "system": [
                {"type": "text", "text": prompt.SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}
            ],
            "tools": [prompt.plan_tool()],
            "tool_choice": {"type": "tool", "name": prompt.PLAN_TOOL_NAME},
            "messages": messages,
        }

    async def _create(self, kwargs: dict[str, Any]) -> Message:
        """One messages.create with bounded 429 retries; raises only _CallFailed."""
        import anthropic

        attempt = 0
        while True:
            try:
                reply: Message = await self._client().messages.create(**kwargs)
                return reply
            except anthropic.RateLimitError as exc:
                wait = _retry_after_seconds(exc.response.headers)
                if wait is None:
                    wait = min(self.retry_after_cap, 2.0**attempt)
                if attempt >= self.max_retries or wait > self.retry_after_cap:
                    raise _CallFailed("rate_limited", "rate limited by the Anthropic API (429)") from None
                attempt += 1
                log.info("rate limited by the Anthropic API; retry %d in %.1fs", attempt, wait)
                await self._sleep(wait)
            except anthropic.OverloadedError:
                raise _CallFailed("overloaded", "the Anthropic API is overloaded (529)") from None
            except anthropic.APITimeoutError:
                raise _CallFailed(
                    "timeout", f"the Anthropic API did not answer within {self.timeout}s"
                ) from None
            except anthropic.APIConnectionError:
                raise _CallFailed("connection", "could not connect to the Anthropic API") from None
            except anthropic.NotFoundError:
                raise _CallFailed(
                    "unknown_model",
                    f"model {self.model!r} was not found by the Anthropic API: check spec.llm.model",
                ) from None
            except anthropic.AuthenticationError:
                raise _CallFailed(
                    "authentication", "the Anthropic API rejected the API key (401): check spec.llm.secretRef"
                ) from None
            except anthropic.PermissionDeniedError:
                raise _CallFailed("permission", "the API key may not use this model (403)") from None
            except anthropic.BadRequestError:
                raise _CallFailed("bad_request", "the Anthropic API rejected the request (400)") from None
            except anthropic.APIStatusError as exc:
                kind = "server_error" if exc.status_code >= 500 else "api_error"
                raise _CallFailed(kind, f"the Anthropic API answered HTTP {exc.status_code}") from None
            except Exception as exc:  # the planner must never raise
                raise _CallFailed("bad_response", f"unusable reply ({type(exc).__name__})") from None

    def _check(self, message: Message, ctx: PlanningContext, phash: str) -> tuple[Plan | None, list[str]]:
        """The validated plan in a reply, or the violations that reject it."""
        block = next(
            (b for b in message.content if b.type == "tool_use" and b.name == prompt.PLAN_TOOL_NAME), None
        )
        if block is None:
            return None, ["no propose_plan tool call in the reply"]
        raw = block.input
        if not isinstance(raw, dict):
            return None, ["propose_plan input is not a JSON object"]
        if message.stop_reason == "max_tokens":
            return None, ["the reply was cut off at max_tokens"]
        data = {k: v for k, v in raw.items() if k not in (*prompt.OPERATOR_OWNED_PLAN_FIELDS, "prompt_hash")}
        data.update(planner=PlannerKind.CLAUDE.value, model=self.model, promptHash=phash)
        try:
            plan = Plan.model_validate(data)
        except ValidationError as exc:
            return None, _format_validation_error(exc)
        violations = plan_validation.validate_plan(plan, ctx)
        return (None, violations) if violations else (plan, [])

    async def plan(self, ctx: PlanningContext) -> PlanResult:
        user = prompt.build_user_message(ctx)
        phash = prompt.prompt_hash(prompt.SYSTEM_PROMPT, user)
        messages: list[dict[str, Any]] = [{"role": "user", "content": user}]
        usage = TokenUsage()

        def fallback(kind: str, reason: str) -> PlanResult:
            log.warning("Claude plan for %s not used (%s): %s", ctx.issue.fingerprint, kind, reason)
            return self._offline.plan_now(
                ctx,
                fallback_reason=reason,
                error_kind=kind,
                usage=budget.with_cost(self.model, usage),
                prompt_hash=phash,
            )

        for attempt in range(2):  # the first answer and one repair
            try:
                message = await self._create(self.request_kwargs(messages))
            except _CallFailed as failure:
                return fallback(failure.kind, failure.message)
            usage = usage.plus(_usage_of(message))
            if message.stop_reason == "refusal":
                return fallback("refusal", "Claude declined to plan (stop_reason refusal)")
            tool_use = next((b for b in message.content if b.type == "tool_use"), None)
            if tool_use is None:
                return fallback("refusal", "Claude answered without calling propose_plan")
            plan, violations = self._check(message, ctx, phash)
            if plan is not None:
                return PlanResult(
                    plan=redaction.redact_plan(plan),
                    second_opinion=self._offline.plan_now(ctx).plan,
                    usage=budget.with_cost(self.model, usage),
                    source=PlannerKind.CLAUDE,
                    prompt_hash=phash,
                )
            if attempt == 1:
                break
            log.info(
                "Claude plan for %s rejected, asking for one repair: %s", ctx.issue.fingerprint, violations
            )
            messages = [
                *messages,
                {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "tool_use",
                            "id": tool_use.id,
                            "name": tool_use.name,
                            "input": tool_use.input,
                        }
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": tool_use.id,
                            "is_error": True,
                            "content": prompt.build_repair_message(violations),
                        }
                    ],
                },
            ]
        summary = "; ".join(violations[:5])
        return fallback("invalid_plan", f"Claude's plan failed validation after one repair: {summary}"[:1024])

    async def summarize(self, numbers: Mapping[str, Any]) -> tuple[str | None, TokenUsage]:
        """A narrative of an assessment from computed numbers; (None, usage) when Claude is unavailable."""
        kwargs = {
            "model": self.model,
            "max_tokens": min(self.max_output_tokens, 1024),
            "system": [
                {"type": "text", "text": prompt.SUMMARY_SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}
            ],
            "messages": [{"role": "user", "content": prompt.build_summary_message(numbers)}],
        }
        try:
            message = await self._create(kwargs)
        except _CallFailed as failure:
            log.warning("Claude summary not used (%s): %s", failure.kind, failure.message)
            return None, TokenUsage()
        usage = budget.with_cost(self.model, _usage_of(message))
        if message.stop_reason == "refusal":
            return None, usage
        text = redaction.redact(" ".join(b.text for b in message.content if b.type == "text").strip())
        return (text[:4096] or None), usage


# ---------------------------------------------------------------- mode, budget and incident cache


def _utcnow() -> datetime:
    return datetime.now(UTC)


class FallbackPlanner:
    """Claude within the daily token budget and at most once per incident and window; offline otherwise."""

    def __init__(
        self,
        *,
        primary: ClaudePlanner,
        offline: OfflinePlanner,
        token_budget: budget.TokenBudget,
        budget_state: budget.BudgetState,
        cache: budget.IncidentCache[PlanResult],
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.primary = primary
        self.offline = offline
        self.token_budget = token_budget
        self.budget_state = budget_state
        self.cache = cache
        self._now = now

    def estimate(self, ctx: PlanningContext) -> int:
        """Worst-case tokens of one planning call (uncached prompt, full output allowance)."""
        chars = len(prompt.SYSTEM_PROMPT) + len(prompt.build_user_message(ctx)) + len(str(prompt.plan_tool()))
        return budget.estimate_call_tokens(
            prompt_chars=chars, max_output_tokens=self.primary.max_output_tokens
        )

    async def plan(self, ctx: PlanningContext) -> PlanResult:
        key = budget.incident_key(
            model=self.primary.model,
            fingerprint=ctx.issue.fingerprint,
            state_digest=planning.state_digest(ctx),
        )
        hit = self.cache.get(key)
        if hit is not None:
            return replace(hit, usage=TokenUsage(), cached=True)
        now = self._now()
        if not self.token_budget.allow(self.budget_state.used(now), self.estimate(ctx)):
            return self.offline.plan_now(ctx, fallback_reason=BUDGET_EXHAUSTED, error_kind="budget")
        result = await self.primary.plan(ctx)
        self.budget_state = self.budget_state.record(result.usage, self._now())
        self.cache.put(key, result)
        return result

    async def summarize(self, numbers: Mapping[str, Any]) -> tuple[str | None, TokenUsage]:
        """Claude's narrative within the same daily budget; (None, no usage) when over budget."""
        chars = len(prompt.SUMMARY_SYSTEM_PROMPT) + len(prompt.build_summary_message(numbers))
        estimate = budget.estimate_call_tokens(prompt_chars=chars, max_output_tokens=1024)
        if not self.token_budget.allow(self.budget_state.used(self._now()), estimate):
            return None, TokenUsage()
        text, usage = await self.primary.summarize(numbers)
        self.budget_state = self.budget_state.record(usage, self._now())
        return text, usage

    @property
    def spent(self) -> budget.BudgetState | None:
        """The budget state after this planner's calls, to persist in the policy status."""
        return self.budget_state

    async def aclose(self) -> None:
        await self.primary.aclose()


DEFAULT_CACHE: budget.IncidentCache[PlanResult] = budget.IncidentCache(clock=time.monotonic)
"""Process-wide incident cache shared by the planners that select_planner builds."""


def select_planner(
    llm_spec: LLMSpec,
    *,
    api_key: str | SecretStr | None,
    budget_state: budget.BudgetState,
    default_daily_tokens: int = 200_000,
    default_model: str = DEFAULT_MODEL,
    cache: budget.IncidentCache[PlanResult] | None = None,
    http_client: httpx2.AsyncClient | None = None,
    now: Callable[[], datetime] = _utcnow,
) -> Planner:
    """The planner for a policy: offline for mode Off/Offline or without an API key, else Claude guarded by
    the daily token budget and the incident cache, falling back to offline."""
    offline = OfflinePlanner()
    secret = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
    if llm_spec.mode in (LLMMode.OFF, LLMMode.OFFLINE) or not secret:
        return offline
    claude = ClaudePlanner(
        api_key=SecretStr(secret),
        model=llm_spec.model or default_model,
        timeout=parse_duration(llm_spec.timeout),
        max_output_tokens=llm_spec.max_output_tokens,
        http_client=http_client,
        offline=offline,
    )
    return FallbackPlanner(
        primary=claude,
        offline=offline,
        token_budget=budget.TokenBudget(
            default_daily_tokens if llm_spec.daily_token_budget is None else llm_spec.daily_token_budget
        ),
        budget_state=budget_state,
        cache=DEFAULT_CACHE if cache is None else cache,
        now=now,
    )
