"""Every MaintenancePolicy sample under crds/samples/ validates against the API model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import verification

SAMPLES = Path(__file__).resolve().parents[2] / "crds" / "samples"


def documents(kind: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(SAMPLES.glob("*.y*ml")):
        for n, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if isinstance(doc, dict) and doc.get("kind") == kind:
                found.append((f"{path.name}#{n}", doc))
    return found


POLICIES = documents("MaintenancePolicy")


def test_there_is_a_policy_sample() -> None:
    assert any(name.startswith("chatapp-policy.yaml") for name, _ in POLICIES)


@pytest.mark.parametrize(("name", "doc"), POLICIES, ids=[n for n, _ in POLICIES])
def test_policy_sample_validates(name: str, doc: dict[str, Any]) -> None:
    assert doc["apiVersion"] == api.API_VERSION
    spec = api.MaintenancePolicySpec.model_validate(doc["spec"])
    assert spec.target_ref.name
    assert doc["metadata"]["name"] and doc["metadata"]["namespace"]


def test_chatapp_policy_matches_the_seed() -> None:
    [(_, doc)] = [(n, d) for n, d in POLICIES if n.startswith("chatapp-policy.yaml")]
    spec = api.MaintenancePolicySpec.model_validate(doc["spec"])
    assert (doc["metadata"]["name"], doc["metadata"]["namespace"], spec.target_ref.name) == ("chatapp",) * 3
    assert spec.dimension_weights.as_dict() == {
        api.Dimension.CORE: 30,
        api.Dimension.COMPONENT: 25,
        api.Dimension.INTEGRATION: 20,
        api.Dimension.USER_EXPERIENCE: 15,
        api.Dimension.OPERATIONAL: 10,
    }
    assert {i.dimension for i in spec.indicators} == set(api.Dimension)
    assert (spec.schedule.health_check, spec.schedule.performance_analysis) == ("5m", "15m")
    assert spec.auto_approve.severities == [api.Severity.CRITICAL] and spec.auto_approve.min_confidence == 8
    assert (spec.actions.scale.enabled, spec.actions.scale.min, spec.actions.scale.max) == (True, 2, 6)
    assert spec.actions.config_patch.allowed_keys == [
        "eventbus.maxQueue",
        "plugins.enabled",
        "llm.timeoutSeconds",
    ]
    forecasts = {i.name for i in spec.indicators if i.forecast is not None}
    assert forecasts == {"memory-usage", "queue-depth"}
    for indicator in spec.indicators:
        if indicator.name != "scrape-health":
            assert '{namespace="$namespace",deployment="$deployment"}' in indicator.query, indicator.name


def test_sample_verification_waits_for_its_rate_windows() -> None:
    [(_, doc)] = [(n, d) for n, d in POLICIES if n.startswith("chatapp-policy.yaml")]
    policy = api.MaintenancePolicySpec.model_validate(doc["spec"])
    assert (
        verification.delay_notice(policy.verification, [(i.name, i.query) for i in policy.indicators]) is None
    )


REPORTS = documents("MaintenanceReport")


def test_report_sample_validates_and_names_the_policy_sample() -> None:
    [(_, doc)] = REPORTS
    spec = api.MaintenanceReportSpec.model_validate(doc["spec"])
    assert spec.policy_ref is not None and spec.policy_ref.name == "chatapp"
    assert (spec.period, spec.schedule) == ("168h", api.ReportSchedule.WEEKLY)
