"""Argo CD Applications under argocd/: waves, sync options and the fields the operator changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
ARGOCD = REPO / "argocd"


def _load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    assert doc["apiVersion"] == "argoproj.io/v1alpha1" and doc["kind"] == "Application", path
    return doc


def _points_into_repo(app: dict[str, Any]) -> None:
    path = app["spec"]["source"]["path"]
    assert (REPO / path).is_dir(), f"{app['metadata']['name']}: {path} does not exist"


def test_application_points_at_the_chart_and_ignores_restarts() -> None:
    app = _load(ARGOCD / "application.yaml")
    _points_into_repo(app)
    assert app["spec"]["source"]["path"] == "helm/maintenance-operator"
    options = app["spec"]["syncPolicy"]["syncOptions"]
    assert "ServerSideApply=true" in options and "RespectIgnoreDifferences=true" in options
    pointers = [
        p
        for d in app["spec"]["ignoreDifferences"]
        if d["kind"] == "Deployment"
        for p in d.get("jsonPointers", [])
    ]
    assert "/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt" in pointers


def test_app_of_apps_waves_put_crds_first() -> None:
    root = _load(ARGOCD / "app-of-apps" / "root.yaml")
    _points_into_repo(root)
    apps = {
        a["metadata"]["name"]: a for a in map(_load, sorted((ARGOCD / "app-of-apps" / "apps").glob("*.yaml")))
    }
    waves = {
        name: int(a["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) for name, a in apps.items()
    }
    assert waves == {"maintenance-crds": -1, "maintenance-operator": 0, "maintenance-policies": 1}
    for app in apps.values():
        _points_into_repo(app)
    assert apps["maintenance-crds"]["spec"]["source"]["path"] == "crds"
    assert apps["maintenance-crds"]["spec"]["syncPolicy"]["automated"]["prune"] is False
    assert apps["maintenance-operator"]["spec"]["source"]["helm"]["skipCrds"] is True


def test_applications_keep_the_chart_generated_approval_key() -> None:
    """Argo CD renders without `lookup`: every sync would draw a new approval key unless data is ignored."""
    for path in (ARGOCD / "application.yaml", ARGOCD / "app-of-apps" / "apps" / "operator.yaml"):
        app = _load(path)
        if "approvalKey" in app["spec"]["source"]["helm"].get("valuesObject", {}):
            continue
        ignored = [
            d
            for d in app["spec"]["ignoreDifferences"]
            if d["kind"] == "Secret" and d.get("name") == "maintenance-operator-approval-key"
        ]
        assert ignored and "/data" in ignored[0]["jsonPointers"], path
