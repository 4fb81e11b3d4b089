"""Shared pytest wiring: fixtures for the real Prometheus and the local cluster live in tests/fixtures/."""

from __future__ import annotations

import importlib.util


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


pytest_plugins = [
    m
    for m in ("tests.fixtures.tools", "tests.fixtures.cluster", "tests.fixtures.prometheus")
    if _available(m)
]
