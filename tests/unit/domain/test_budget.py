"""Daily token budget, cost estimates and the one-call-per-incident cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maintenance_operator.api.v1alpha1 import TokenUsage
from maintenance_operator.domain import budget

NOW = datetime(2025, 11, 26, 23, 59, tzinfo=UTC)


def test_allow_within_and_over_budget() -> None:
    b = budget.TokenBudget(daily_tokens=10_000)
    assert b.allow(0, 10_000)
    assert b.allow(4_000, 6_000)
    assert not b.allow(4_001, 6_000)


def test_zero_budget_never_allows() -> None:
    assert not budget.TokenBudget(daily_tokens=0).allow(0, 1)


def test_budget_state_rolls_over_at_utc_midnight() -> None:
    state = budget.BudgetState().record(TokenUsage(input_tokens=900, output_tokens=100), NOW)
    assert state.day == "2025-11-26" and state.used(NOW) == 1000
    tomorrow = NOW + timedelta(minutes=2)
    assert state.used(tomorrow) == 0
    assert state.record(TokenUsage(input_tokens=5), tomorrow).usage.total == 5


def test_naive_times_are_utc() -> None:
    assert budget.utc_day(datetime(2025, 1, 2, 23, 0)) == "2025-01-02"
    assert budget.utc_day(datetime(2025, 1, 2, 23, 0, tzinfo=UTC) + timedelta(hours=2)) == "2025-01-03"


def test_cost_for_sonnet() -> None:
    usage = TokenUsage(
        input_tokens=1_000_000,
        output_tokens=1_000_000,
        cache_creation_input_tokens=1_000_000,
        cache_read_input_tokens=1_000_000,
    )
    assert budget.estimate_cost("claude-sonnet-4-6", usage) == pytest.approx(3 + 15 + 3.75 + 0.30)
    assert budget.with_cost("claude-sonnet-4-6", usage).estimated_cost_usd == pytest.approx(22.05)


def test_longest_prefix_wins_and_unknown_models_are_priced_high() -> None:
    assert budget.price("claude-opus-4-1-20250805").input == 15.0
    assert budget.price("claude-opus-4-5-20251101").input == 5.0
    assert budget.price("claude-haiku-4-5").output == 5.0
    unknown = budget.price("someone-elses-model")
    assert unknown is budget.UNKNOWN_MODEL_PRICE
    assert all(unknown.input >= p.input and unknown.output >= p.output for p in budget.PRICES.values())


def test_token_estimates() -> None:
    assert budget.estimate_call_tokens(prompt_chars=4000, max_output_tokens=2048) == 3048


def test_incident_key() -> None:
    k = budget.incident_key(model="m", fingerprint="f", state_digest="d")
    assert k.startswith("sha256:")
    assert k == budget.incident_key(model="m", fingerprint="f", state_digest="d")
    assert k != budget.incident_key(model="m2", fingerprint="f", state_digest="d")
    assert k != budget.incident_key(model="m", fingerprint="f2", state_digest="d")
    assert k != budget.incident_key(model="m", fingerprint="f", state_digest="d2")


def test_fresh_window() -> None:
    assert budget.fresh(stored_at=100, now=100, window_seconds=60)
    assert budget.fresh(stored_at=100, now=159.9, window_seconds=60)
    assert not budget.fresh(stored_at=100, now=160, window_seconds=60)
    assert not budget.fresh(stored_at=100, now=99, window_seconds=60)  # clock went backwards


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_incident_cache_ttl_and_lru() -> None:
    clock = Clock()
    cache: budget.IncidentCache[str] = budget.IncidentCache(window_seconds=60, max_entries=2, clock=clock)
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"  # a is now most recently used
    cache.put("c", "C")  # evicts b
    assert cache.get("b") is None and cache.get("a") == "A" and cache.get("c") == "C"
    clock.t = 61
    assert cache.get("a") is None
    assert len(cache) == 1
