"""A test whose tool is missing skips when run by hand and fails under `make test` (MO_REQUIRE_TOOLS=1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures import tools

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]

SUITE = """
import pytest
from tests.fixtures import tools


@tools.needs_tool(False, "frobnicate not on PATH")
def test_marked() -> None:
    raise AssertionError("must not run")


@tools.needs_tool(True, "present")
def test_marked_present() -> None:
    pass


@pytest.fixture
def frobnicator() -> str:
    tools.tool_missing("frobnicate could not be installed")


def test_from_a_fixture(frobnicator: str) -> None:
    raise AssertionError("must not run")


def test_other_skips_stay_skips() -> None:
    pytest.skip("not about a tool")
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.syspathinsert(REPO)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makeconftest('pytest_plugins = ["tests.fixtures.tools"]')
    pytester.makepyfile(test_suite=SUITE)
    return pytester


def test_by_hand_a_missing_tool_skips_with_its_reason(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(tools.REQUIRE_ENV, raising=False)
    result = suite.runpytest("-rs")
    result.assert_outcomes(passed=1, skipped=3)
    result.stdout.fnmatch_lines(["*frobnicate not on PATH*", "*frobnicate could not be installed*"])


@pytest.mark.parametrize("value", ["1", "true"])
def test_under_make_test_a_missing_tool_fails(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(tools.REQUIRE_ENV, value)
    result = suite.runpytest("-rs")
    result.assert_outcomes(passed=1, skipped=1, errors=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*missing tool: frobnicate not on PATH (MO_REQUIRE_TOOLS is set*"])
    result.stdout.fnmatch_lines(["*missing tool: frobnicate could not be installed*"])


def test_zero_means_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(tools.REQUIRE_ENV, "0")
    assert not tools.required()
    monkeypatch.setenv(tools.REQUIRE_ENV, "1")
    assert tools.required()


def test_make_test_installs_every_tool_before_the_first_stage_and_requires_them() -> None:
    script = (REPO / "hack" / "test.sh").read_text()
    first_stage = script.index("\nstage ")
    for prerequisite in (
        "hack/cluster/install-prometheus.sh",
        "hack/cluster/build.sh",
        "export MO_REQUIRE_TOOLS=1",
    ):
        assert script.index(prerequisite) < first_stage, f"{prerequisite} must come before the first stage"
    assert "helm" in (REPO / "hack" / "cluster" / "build.sh").read_text()
