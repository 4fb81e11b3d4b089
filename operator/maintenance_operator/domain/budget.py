"""Cost controls for the LLM: a daily token budget per policy, a cost estimate per model, and an incident
cache so that one incident fingerprint costs at most one LLM call per window.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

from maintenance_operator.api.v1alpha1 import TokenUsage

CHARS_PER_TOKEN = 4.0
"""Documented approximation for English and JSON prompts; the API's count_tokens is authoritative."""

DEFAULT_INCIDENT_WINDOW_SECONDS = 15 * 60.0


@dataclass(frozen=True)
class ModelPrice:
    """US dollars per million tokens."""

    input: float
    output: float
    cache_write: float
    cache_read: float
    min_cacheable_tokens: int = 1024


# Longest matching prefix wins. Cache writes are the 5-minute TTL price (1.25x input), reads 0.1x input.
PRICES: dict[str, ModelPrice] = {
    "claude-opus-4-6": ModelPrice(5.0, 25.0, 6.25, 0.50, 4096),
    "claude-opus-4-5": ModelPrice(5.0, 25.0, 6.25, 0.50, 4096),
    "claude-opus-4-1": ModelPrice(15.0, 75.0, 18.75, 1.50, 1024),
    "claude-opus-4": ModelPrice(15.0, 75.0, 18.75, 1.50, 1024),
    # Sonnet 4.6: documented 1024, observed 2048 (anthropic-sdk-python#1194): assume the higher floor.
    "claude-sonnet-4-6": ModelPrice(3.0, 15.0, 3.75, 0.30, 2048),
    "claude-sonnet-4-5": ModelPrice(3.0, 15.0, 3.75, 0.30, 1024),
    "claude-sonnet-4": ModelPrice(3.0, 15.0, 3.75, 0.30, 1024),
    "claude-3-7-sonnet": ModelPrice(3.0, 15.0, 3.75, 0.30, 1024),
    "claude-haiku-4-5": ModelPrice(1.0, 5.0, 1.25, 0.10, 4096),
    "claude-3-5-haiku": ModelPrice(0.80, 4.0, 1.0, 0.08, 2048),
    "claude-3-haiku": ModelPrice(0.25, 1.25, 0.30, 0.03, 2048),
}
UNKNOWN_MODEL_PRICE = ModelPrice(15.0, 75.0, 18.75, 1.50, 4096)
"""Unknown models are priced like the most expensive one we know, so estimates err high."""


def price(model: str) -> ModelPrice:
    """The price entry of the longest known prefix of `model`, else the conservative default."""
    matches = [prefix for prefix in PRICES if model.startswith(prefix)]
    return PRICES[max(matches, key=len)] if matches else UNKNOWN_MODEL_PRICE


def estimate_cost(model: str, usage: TokenUsage) -> float:
    """Dollars for `usage` on `model`, rounded to micro-dollars."""
    p = price(model)
    dollars = (
        usage.input_tokens * p.input
        + usage.output_tokens * p.output
        + usage.cache_creation_input_tokens * p.cache_write
        + usage.cache_read_input_tokens * p.cache_read
    ) / 1_000_000
    return round(dollars, 6)


def with_cost(model: str, usage: TokenUsage) -> TokenUsage:
    """`usage` with estimated_cost_usd filled in from the price table."""
    return usage.model_copy(update={"estimated_cost_usd": estimate_cost(model, usage)})


def estimate_call_tokens(*, prompt_chars: int, max_output_tokens: int) -> int:
    """Worst-case tokens of one call: the whole prompt uncached plus the full output allowance."""
    return math.ceil(prompt_chars / CHARS_PER_TOKEN) + max_output_tokens


# ---------------------------------------------------------------- the daily budget


def utc_day(now: datetime) -> str:
    """YYYY-MM-DD of `now` in UTC (naive datetimes are taken as UTC)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(UTC).date().isoformat()


@dataclass(frozen=True)
class BudgetState:
    """Tokens spent on one UTC day (persisted as policy status tokenUsageDay / tokenUsage)."""

    day: str | None = None
    usage: TokenUsage = field(default_factory=TokenUsage)

    def today(self, now: datetime) -> BudgetState:
        """This state if it is about today, else an empty state for today (the UTC day rolled over)."""
        day = utc_day(now)
        return self if self.day == day else BudgetState(day=day, usage=TokenUsage())

    def used(self, now: datetime) -> int:
        """Tokens spent today."""
        return self.today(now).usage.total

    def record(self, usage: TokenUsage, now: datetime) -> BudgetState:
        """The state after spending `usage` at `now`."""
        current = self.today(now)
        return BudgetState(day=current.day, usage=current.usage.plus(usage))


@dataclass(frozen=True)
class TokenBudget:
    """A daily token allowance; 0 means the LLM is never called."""

    daily_tokens: int

    def allow(self, usage_today: int, estimate: int) -> bool:
        """True when a call estimated at `estimate` tokens still fits into today's allowance."""
        if self.daily_tokens <= 0 or estimate < 0:
            return False
        return usage_today + estimate <= self.daily_tokens


# ---------------------------------------------------------------- one call per incident


def incident_key(*, model: str, fingerprint: str, state_digest: str) -> str:
    """Cache key of one incident: the model, the issue fingerprint and the decision-relevant state.

    The digest covers the slowly changing state (revisions, replicas, policy, config, outcomes), not the
    drifting telemetry values, so the same incident seen by consecutive assessments maps to one key.
    """
    blob = "\x00".join((model, fingerprint, state_digest)).encode()
    return f"sha256:{hashlib.sha256(blob).hexdigest()}"


def fresh(*, stored_at: float, now: float, window_seconds: float) -> bool:
    """True while an answer stored at `stored_at` may be reused at `now` (both monotonic seconds)."""
    return 0 <= now - stored_at < window_seconds


V = TypeVar("V")


class IncidentCache(Generic[V]):
    """In-process LRU with a TTL: at most one LLM answer per incident key and window."""

    def __init__(
        self,
        *,
        window_seconds: float = DEFAULT_INCIDENT_WINDOW_SECONDS,
        max_entries: int = 256,
        clock: Callable[[], float],
    ) -> None:
        self.window_seconds = window_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def get(self, key: str) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, value = entry
        if not fresh(stored_at=stored_at, now=self._clock(), window_seconds=self.window_seconds):
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: str, value: V) -> None:
        self._entries[key] = (self._clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
