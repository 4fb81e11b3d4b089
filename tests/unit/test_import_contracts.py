"""The one-way layers contract in .importlinter names every module of the package, so nothing new can sit
outside it unchecked (lint-imports enforces the order; this checks the coverage)."""

from __future__ import annotations

import configparser
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "operator" / "maintenance_operator"


def layered() -> set[str]:
    contracts = configparser.ConfigParser()
    contracts.read(REPO / ".importlinter")
    layers = contracts["importlinter:contract:layers"]["layers"]
    return {name.strip() for line in layers.splitlines() for name in line.split("|") if name.strip()}


def test_the_layers_contract_covers_every_top_level_module() -> None:
    modules = {
        f"maintenance_operator.{p.stem}"
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())
    }
    assert modules - layered() == set()
    assert layered() - modules == set(), "the contract names a module that does not exist"
