"""The tests as a codebase: shared helpers live in tests/fixtures/, so no test module imports another
test module, and no test reaches into kopf's private modules (``kopf._*``), which change without notice."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]


def imported(source: str, *, package: str) -> list[str]:
    """Every module (and ``module.name`` for from-imports) that ``source``, in ``package``, imports."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            found += [base, *(f"{base}.{alias.name}" for alias in node.names)]
    return found


def offences(source: str, *, package: str) -> list[str]:
    """Imports of test modules or of kopf's private modules."""
    bad: set[str] = set()
    for module in imported(source, package=package):
        parts = module.split(".")
        tests = [i for i, p in enumerate(parts) if p.startswith("test_")]
        if parts[0] == "tests" and tests:
            culprit = ".".join(parts[: tests[0] + 1])
            bad.add(f"imports the test module {culprit}: move what it shares to tests/fixtures/")
        private = [i for i, p in enumerate(parts) if i and p.startswith("_")]
        if parts[0] == "kopf" and private:
            bad.add(f"imports kopf's private {'.'.join(parts[: private[0] + 1])}: use kopf's public API")
    return sorted(bad)


def _package(path: Path) -> str:
    return ".".join(path.relative_to(TESTS.parent).parent.parts)


def test_no_test_module_imports_another_or_kopf_internals() -> None:
    found = {
        str(path.relative_to(TESTS.parent)): bad
        for path in sorted(TESTS.rglob("*.py"))
        if (bad := offences(path.read_text(), package=_package(path)))
    }
    assert found == {}


@pytest.mark.parametrize(
    "source",
    [
        "from tests.unit.reconcilers import test_remediate as base",
        "from tests.unit.reconcilers.test_report import world",
        "import tests.e2e.test_remediation_loop",
        "from .test_model import pod",
        "from kopf._core.engines import posting",
        "import kopf._cogs.structs",
    ],
)
def test_the_check_catches_each_kind_of_offending_import(source: str) -> None:
    assert offences(source, package="tests.unit.handlers")


@pytest.mark.parametrize(
    "source",
    [
        "from tests.fixtures import fakes",
        "from .simhelpers import pod",
        "import kopf",
        "from kopf import testing",
    ],
)
def test_the_check_allows_fixtures_helpers_and_public_kopf(source: str) -> None:
    assert offences(source, package="tests.simulator") == []
