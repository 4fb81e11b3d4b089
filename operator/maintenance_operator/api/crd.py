"""Render CustomResourceDefinitions from the pydantic API types.

Pydantic emits JSON Schema with ``$ref``/``$defs``, ``anyOf`` for optionals, ``const`` and titles; a
structural OpenAPI v3 schema for Kubernetes needs every node inlined and typed. This module does that
conversion and nothing else, so that ``crds/`` can never drift from the models.
"""

from __future__ import annotations

from typing import Any

import yaml

from maintenance_operator.api import v1alpha1

CATEGORY = "maintenance"
_DROP = {"title", "discriminator"}


def _resolve(node: Any, defs: dict[str, Any]) -> Any:
    """Inline $refs, collapse Optional[X] to X and strip keys Kubernetes rejects."""
    if isinstance(node, list):
        return [_resolve(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _resolve(merged, defs)
    if "anyOf" in node:
        members = [m for m in node["anyOf"] if m != {"type": "null"}]
        if len(members) == 1:
            rest = {k: v for k, v in node.items() if k != "anyOf"}
            if rest.get("default", ...) is None:
                rest.pop("default")
            return _resolve({**members[0], **rest}, defs)
        raise ValueError(f"unions other than Optional are not structural: {node}")
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP or key == "$defs":
            continue
        if key == "const":
            out["enum"] = [value]
            out.setdefault("type", _json_type(value))
            continue
        if key == "properties":
            out[key] = {name: _resolve(sub, defs) for name, sub in value.items()}
            continue
        out[key] = _resolve(value, defs)
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        # JSON Schema 2020 numbers become OpenAPI v3.0's boolean form
        if isinstance(out.get(bound), int | float) and not isinstance(out.get(bound), bool):
            out[plain] = out.pop(bound)
            out[bound] = True
    if out.get("additionalProperties") is False:
        # extra="forbid" in pydantic; a structural schema prunes unknown fields instead
        out.pop("additionalProperties")
    if "enum" in out and "type" not in out:
        out["type"] = _json_type(out["enum"][0])
    if out.get("default", ...) is None:
        out.pop("default")
    return out


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def openapi_schema(model: type[v1alpha1.Model]) -> dict[str, Any]:
    """Structural OpenAPI v3 schema of one model."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.get("$defs", {})
    schema: dict[str, Any] = _resolve(raw, defs)
    _annotate_lists(schema)
    return schema


def _annotate_lists(node: Any) -> None:
    """Conditions and indicators are maps keyed by type/name: the API server then rejects duplicates."""
    if isinstance(node, dict):
        props = node.get("properties", {})
        for name, sub in props.items():
            if name == "conditions" and sub.get("type") == "array":
                sub["x-kubernetes-list-type"] = "map"
                sub["x-kubernetes-list-map-keys"] = ["type"]
            if name == "indicators" and sub.get("type") == "array" and "properties" in sub.get("items", {}):
                sub["x-kubernetes-list-type"] = "map"
                sub["x-kubernetes-list-map-keys"] = ["name"]
        for value in node.values():
            _annotate_lists(value)
    elif isinstance(node, list):
        for item in node:
            _annotate_lists(item)


def render(info: v1alpha1.KindInfo) -> dict[str, Any]:
    """The CustomResourceDefinition for one kind."""
    spec_schema = openapi_schema(info.spec)
    status_schema = openapi_schema(info.status)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{info.plural}.{v1alpha1.GROUP}",
            "labels": {"app.kubernetes.io/part-of": "maintenance-operator"},
        },
        "spec": {
            "group": v1alpha1.GROUP,
            "names": {
                "kind": info.kind,
                "listKind": f"{info.kind}List",
                "plural": info.plural,
                "singular": info.singular,
                "shortNames": list(info.short_names),
                "categories": [CATEGORY],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": v1alpha1.VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [dict(c) for c in info.printer_columns],
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": info.description,
                            "properties": {
                                "apiVersion": {"type": "string", "description": "API version of the object."},
                                "kind": {"type": "string", "description": "Kind of the object."},
                                "metadata": {"type": "object"},
                                "spec": spec_schema,
                                "status": status_schema,
                            },
                            "required": ["spec"],
                        }
                    },
                }
            ],
        },
    }


def render_yaml(info: v1alpha1.KindInfo) -> str:
    header = "# Generated by `make crds` from maintenance_operator/api/v1alpha1.py. Do not edit.\n"
    return header + yaml.safe_dump(render(info), sort_keys=False, width=120)


def file_name(info: v1alpha1.KindInfo) -> str:
    return f"{v1alpha1.GROUP}_{info.plural}.yaml"


def rendered_files() -> dict[str, str]:
    """File name to content for every kind."""
    return {file_name(info): render_yaml(info) for info in v1alpha1.KINDS}
