"""docs/runbook.md names only commands, fields, reasons and metrics that exist: plugin verbs, patches that
validate against the API models, status fields, condition reasons the operator sets, metric names."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from maintenance_operator import metrics
from maintenance_operator.api import v1alpha1 as api

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = (ROOT / "docs" / "runbook.md").read_text()
PLUGIN = (ROOT / "hack" / "kubectl-maintenance").read_text()
REMEDIATE = (ROOT / "operator" / "maintenance_operator" / "reconcilers" / "remediate.py").read_text()


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """A JSON merge patch (RFC 7386), as `kubectl patch --type merge` applies it."""
    out = dict(base)
    for key, value in extra.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _sample_policy() -> dict[str, Any]:
    text = (ROOT / "crds" / "samples" / "chatapp-policy.yaml").read_text()
    doc: dict[str, Any] = next(d for d in yaml.safe_load_all(text) if d and d["kind"] == "MaintenancePolicy")
    return doc


def _remediation_spec() -> dict[str, Any]:
    return {
        "policyRef": {"name": "chatapp"},
        "targetRef": {"name": "chatapp"},
        "issue": {
            "fingerprint": "f",
            "title": "t",
            "severity": "high",
            "category": "memory",
            "dimension": "core",
            "indicator": "memory-usage",
        },
        "plan": {"actions": [{"type": "RolloutRestart"}], "rationale": "r", "confidence": 9},
    }


def test_every_plugin_verb_exists() -> None:
    verbs = set(re.findall(r"kubectl maintenance (\w+)", RUNBOOK))
    assert verbs >= {"list", "show", "ack", "approve", "reject", "report"}
    for verb in verbs:
        assert re.search(rf"^\s+{verb}\)", PLUGIN, re.MULTILINE), f"the plugin has no `{verb}`"


PATCHES = re.findall(r"kubectl patch (mrem|mpol) \S+ -n NS --type merge \\?\s*-p '([^']+)'", RUNBOOK)


def test_the_runbook_has_its_patches() -> None:
    assert {kind for kind, _ in PATCHES} == {"mrem", "mpol"}
    assert len(PATCHES) >= 4


@pytest.mark.parametrize(("kind", "payload"), PATCHES)
def test_every_patch_validates_against_the_api(kind: str, payload: str) -> None:
    patch = json.loads(payload)
    if kind == "mpol":
        api.MaintenancePolicySpec.model_validate(_merge(_sample_policy()["spec"], patch["spec"]))
    else:
        spec = api.RemediationSpec.model_validate(_merge(_remediation_spec(), patch["spec"]))
        assert spec.terminate


def test_named_status_fields_exist() -> None:
    fields = {f.alias or name for name, f in api.RemediationStatus.model_fields.items()}
    named = set(re.findall(r"`status\.(\w+)", RUNBOOK))
    assert named >= {"responseDue", "resolutionDue", "respondedAt", "resolvedAt", "slaNotices"}
    assert named <= fields, named - fields


@pytest.mark.parametrize(
    "reason",
    [
        "ApprovalExpired",
        "ApprovalReRaised",
        "WindowTooFar",
        "VerificationInconclusive",
        "RollbackFailed",
        "RollbackStuck",
    ],
)
def test_named_reasons_are_set_by_the_operator(reason: str) -> None:
    assert f"`{reason}`" in RUNBOOK
    assert f'reason="{reason}"' in REMEDIATE


def test_named_sla_states_and_notices_exist() -> None:
    for state in ("OnTrack", "AtRisk", "Breached", "Met", "Missed"):
        assert f"`{state}`" in RUNBOOK
    for event in ("Escalation", "ApprovalNeeded", "SLABreached", "SLAAtRisk"):
        assert f"`{event}`" in RUNBOOK
    assert "`Expired`" in RUNBOOK and api.RemediationPhase.EXPIRED in api.TERMINAL_PHASES


def test_named_metrics_exist() -> None:
    exported = {m.name for m in metrics.REGISTRY.collect()}
    named = set(re.findall(r"`(maintenance_operator_\w+?)(?:\{[^`]*)?`", RUNBOOK))
    assert len(named) == 3
    for name in named:
        assert name.removesuffix("_total") in exported, name
