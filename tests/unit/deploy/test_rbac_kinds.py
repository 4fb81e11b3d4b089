"""Every kind in the API is served by the operator's RBAC and readable by the human roles (read from the
rendered deploy/ manifests, so this holds without helm)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from maintenance_operator.api import v1alpha1 as api

ROOT = Path(__file__).resolve().parents[3]
PLURALS = [info.plural for info in api.KINDS]


def roles() -> dict[str, dict[str, Any]]:
    docs = yaml.safe_load_all((ROOT / "deploy" / "20-rbac.yaml").read_text())
    return {d["metadata"]["name"]: d for d in docs if d and d["kind"] in ("ClusterRole", "Role")}


def verbs(role: dict[str, Any], resource: str) -> set[str]:
    return {
        v
        for r in role["rules"]
        if api.GROUP in r.get("apiGroups", []) and resource in r.get("resources", [])
        for v in r["verbs"]
    }


@pytest.mark.parametrize("plural", PLURALS)
def test_operator_watches_and_writes_status_of_every_kind(plural: str) -> None:
    operator = next(r for n, r in roles().items() if verbs(r, "remediations/status") >= {"patch"})
    assert verbs(operator, plural) >= {"get", "list", "watch", "patch"}
    assert verbs(operator, f"{plural}/status") >= {"get", "patch"}


@pytest.mark.parametrize("plural", PLURALS)
def test_humans_can_read_every_kind(plural: str) -> None:
    found = roles()
    for name in ("maintenance-approver", "maintenance-viewer"):
        assert verbs(found[name], plural) >= {"get", "list", "watch"}, name
        assert "get" in verbs(found[name], f"{plural}/status"), name


def test_approver_may_ask_for_a_report_but_viewer_only_reads() -> None:
    found = roles()
    assert verbs(found["maintenance-approver"], "maintenancereports") >= {"create", "delete"}
    assert verbs(found["maintenance-viewer"], "maintenancereports") == {"get", "list", "watch"}


def test_chart_template_names_every_kind() -> None:
    helpers = (ROOT / "helm" / "maintenance-operator" / "templates" / "_helpers.tpl").read_text()
    users = (ROOT / "helm" / "maintenance-operator" / "templates" / "rbac-users.yaml").read_text()
    for plural in PLURALS:
        assert f'"{plural}"' in helpers and f'"{plural}/status"' in helpers
        assert f'"{plural}"' in users and f'"{plural}/status"' in users
