"""The committed CRDs are exactly what the models render, and they are structural."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from maintenance_operator.api import crd, v1alpha1

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("directory", ["crds", "helm/maintenance-operator/crds"])
def test_committed_crds_match_the_models(directory: str) -> None:
    for name, text in crd.rendered_files().items():
        path = ROOT / directory / name
        assert path.exists(), f"{path} missing: run `make crds`"
        assert path.read_text() == text, f"{path} drifted from the models: run `make crds`"


def _walk(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        found.append((path, node))
        for key, value in node.items():
            found.extend(_walk(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_walk(value, f"{path}[{i}]"))
    return found


@pytest.mark.parametrize("info", v1alpha1.KINDS, ids=lambda i: i.kind)
def test_schema_is_structural(info: v1alpha1.KindInfo) -> None:
    schema = crd.render(info)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for path, node in _walk(schema):
        if path.endswith("/properties") or path.endswith("x-kubernetes-validations") or "/enum" in path:
            continue
        for forbidden in ("$ref", "anyOf", "oneOf", "allOf", "title", "const", "$defs"):
            assert forbidden not in node, f"{forbidden} at {path}"
        if "properties" in node or "items" in node:
            assert "type" in node, f"untyped node at {path}"


@pytest.mark.parametrize("info", v1alpha1.KINDS, ids=lambda i: i.kind)
def test_crd_metadata(info: v1alpha1.KindInfo) -> None:
    rendered = crd.render(info)
    names = rendered["spec"]["names"]
    assert names["categories"] == ["maintenance"]
    assert names["shortNames"] == list(info.short_names)
    version = rendered["spec"]["versions"][0]
    assert version["subresources"] == {"status": {}}
    assert {c["name"] for c in version["additionalPrinterColumns"]} >= {"Phase", "Age"}
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert spec["description"], "kubectl explain needs descriptions"


def test_cel_rules_are_published() -> None:
    text = "\n".join(crd.rendered_files().values())
    for message in (
        "actions.scale.min must be <= actions.scale.max",
        "dimensionWeights must sum to 100",
        "plan is immutable: create a new Remediation instead",
        "an approval decision cannot be revoked or changed",
        "targetRef.namespace is not supported",
    ):
        assert message in text


def test_conditions_and_indicators_are_list_maps() -> None:
    policy = yaml.safe_load(crd.render_yaml(v1alpha1.KINDS[0]))
    props = policy["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
    assert props["spec"]["properties"]["indicators"]["x-kubernetes-list-map-keys"] == ["name"]
    assert props["status"]["properties"]["conditions"]["x-kubernetes-list-map-keys"] == ["type"]
