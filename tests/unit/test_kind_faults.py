"""The five faults on real Pods (hack/kind_faults.py), shared by tests/kind and `make demo` on kind: each is
shown by the metric its policy indicator watches, scoped to the demo's namespace, and the one policy the
demo uses for all five is a valid MaintenancePolicy with each fault's verification timings."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest

from maintenance_operator.api import v1alpha1 as api

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hack"))
import kind_faults
import kind_stack

NAMESPACE = "chatapp-demo"


def test_five_faults_in_the_order_of_the_local_demo_each_on_its_own_indicator() -> None:
    titles = [f.title for f in kind_faults.FAULTS]
    assert titles == ["memory leak", "bad release", "load surge", "config corruption", "external LLM outage"]
    assert len({f.indicator for f in kind_faults.FAULTS}) == 5
    assert len({f.scenario for f in kind_faults.FAULTS}) == 5


@pytest.mark.parametrize("fault", kind_faults.FAULTS, ids=lambda f: f.scenario)
def test_the_breach_is_read_from_a_metric_the_policy_indicator_watches(fault: kind_faults.Fault) -> None:
    indicators = {i["name"]: i for i in kind_faults.demo_policy(NAMESPACE)["spec"]["indicators"]}
    assert fault.indicator in indicators
    watched = set(re.findall(r"chatapp_[a-z_]+", indicators[fault.indicator]["query"]))
    shown = set(re.findall(r"chatapp_[a-z_]+", fault.query(NAMESPACE)))
    assert shown and shown <= watched, (shown, watched)


@pytest.mark.parametrize("fault", kind_faults.FAULTS, ids=lambda f: f.scenario)
def test_every_selector_of_the_breach_is_scoped_to_the_namespace(fault: kind_faults.Fault) -> None:
    query = fault.query(NAMESPACE)
    selectors = re.findall(r"\{([^}]*)\}", query)
    assert selectors and all(s == f'namespace="{NAMESPACE}"' for s in selectors), query
    assert query.count("(") == query.count(")")
    assert "{ns}" not in query


def test_one_policy_for_the_five_faults_resolves_and_approves_high_issues() -> None:
    policy = kind_faults.demo_policy(NAMESPACE)
    assert policy["metadata"] == {"name": "chatapp", "namespace": NAMESPACE}
    spec = api.MaintenancePolicySpec.model_validate(policy["spec"])
    dumped = spec.model_dump(by_alias=True, mode="json")
    assert dumped["severityRouting"]["high"] == "AutoResolve"
    assert set(dumped["autoApprove"]["severities"]) == {"critical", "high"}
    assert dumped["autoApprove"]["maxRisk"] == "High"
    assert dumped["llm"]["mode"] == "Offline"


@pytest.mark.parametrize(
    ("fault", "delay"),
    [
        (kind_faults.MEMORY_LEAK, "20s"),
        (kind_faults.BAD_RELEASE, "20s"),
        (kind_faults.LOAD_SURGE, "45s"),
        (kind_faults.CONFIG_CORRUPTION, "100s"),
        (kind_faults.LLM_OUTAGE, "20s"),
    ],
    ids=lambda v: getattr(v, "scenario", v),
)
def test_each_fault_gets_its_verification_timings_as_a_valid_policy_patch(
    fault: kind_faults.Fault, delay: str
) -> None:
    patch = kind_faults.verification_patch(fault)
    assert patch["spec"]["verification"]["initialDelay"] == delay
    policy = kind_faults.demo_policy(NAMESPACE)
    kind_stack.stack_lib._merge(policy, patch)
    api.MaintenancePolicySpec.model_validate(policy["spec"])
    # the patch is a copy: patching one fault's policy never changes the shared defaults
    patch["spec"]["verification"]["initialDelay"] = "1s"
    assert kind_faults.verification_patch(fault)["spec"]["verification"]["initialDelay"] == delay


def test_a_timeline_keeps_the_first_time_of_each_stage_and_appends_it(tmp_path: Path) -> None:
    kind = kind_stack.KindCluster(kind_dir=tmp_path, kubeconfig=tmp_path / "kubeconfig", prometheus_url="")
    timeline = kind_stack.Timeline("memory_leak", injected=time.monotonic() - 60)
    timeline.marks["breach"] = 22.5
    timeline.mark("breach")
    timeline.mark("detected")
    assert timeline.marks["breach"] == 22.5
    assert timeline.marks["detected"] > 22.5
    timeline.save(kind)
    timeline.save(kind)
    lines = [json.loads(line) for line in (tmp_path / "timings.jsonl").read_text().splitlines()]
    assert [line["scenario"] for line in lines] == ["memory_leak", "memory_leak"]
    assert lines[0]["breach"] == 22.5 and "detected" in lines[0]
