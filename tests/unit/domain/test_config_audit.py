"""Configuration audit of the target Deployment (domain/config_audit.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from maintenance_operator.domain import config_audit as ca
from tests.fixtures.analysis_fakes import GOOD


def with_change(path: list[str], value: Any) -> dict[str, Any]:
    d = copy.deepcopy(GOOD)
    node: Any = d
    for key in path[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return d


C0 = ["spec", "template", "spec", "containers", "0"]


def test_clean_deployment_scores_ten() -> None:
    result = ca.audit(GOOD, has_pdb=True)
    assert result.findings == () and result.score == 10.0
    assert result.checks_run == len(ca.CHECKS) - 1  # config-drift not run without known-good values


@pytest.mark.parametrize(
    ("deployment", "check", "subject"),
    [
        (with_change([*C0, "resources", "requests"], {"memory": "1Mi"}), "cpu-requests", "app"),
        (with_change([*C0, "resources", "requests"], {"cpu": "1"}), "memory-requests", "app"),
        (with_change([*C0, "resources", "limits"], {}), "memory-limits", "app"),
        (with_change([*C0, "readinessProbe"], None), "readiness-probe", "app"),
        (with_change([*C0, "livenessProbe"], None), "liveness-probe", "app"),
        (with_change([*C0, "image"], "chatapp:latest"), "image-tag", "app"),
        (with_change([*C0, "image"], "registry:5000/chatapp"), "image-tag", "app"),
        (with_change(["spec", "replicas"], 1), "replicas", "deployment"),
        (
            with_change(["spec", "template", "spec", "topologySpreadConstraints"], None),
            "spread",
            "deployment",
        ),
        (with_change(["spec", "progressDeadlineSeconds"], None), "progress-deadline", "deployment"),
        (with_change(["spec", "progressDeadlineSeconds"], 7200), "progress-deadline", "deployment"),
        (with_change(["spec", "revisionHistoryLimit"], 0), "revision-history", "deployment"),
    ],
)
def test_each_misconfiguration_gives_exactly_its_finding(
    deployment: dict[str, Any], check: str, subject: str
) -> None:
    result = ca.audit(deployment, has_pdb=True)
    assert [(f.check, f.subject) for f in result.findings] == [(check, subject)]
    assert result.findings[0].fix == ca.CHECKS[check].fix
    assert 1.0 <= result.score < 10.0


@pytest.mark.parametrize(
    ("image", "tag"),
    [
        ("chatapp", None),
        ("chatapp:1.2", "1.2"),
        ("registry:5000/team/chatapp", None),
        ("registry:5000/chatapp:v3", "v3"),
        ("chatapp@sha256:abc", None),
    ],
)
def test_image_tag(image: str, tag: str | None) -> None:
    assert ca.image_tag(image) == tag


def test_digest_without_tag_is_pinned() -> None:
    d = with_change([*C0, "image"], "chatapp@sha256:" + "a" * 64)
    assert ca.audit(d, has_pdb=True).findings == ()


def test_missing_pdb_only_counts_with_two_replicas() -> None:
    assert [f.check for f in ca.audit(GOOD, has_pdb=False).findings] == ["pdb"]
    one = with_change(["spec", "replicas"], 1)
    assert [f.check for f in ca.audit(one, has_pdb=False).findings] == ["replicas"]


def test_anti_affinity_counts_as_spread() -> None:
    d = with_change(["spec", "template", "spec", "topologySpreadConstraints"], None)
    d["spec"]["template"]["spec"]["affinity"] = {"podAntiAffinity": {"preferred": []}}
    assert ca.audit(d, has_pdb=True).findings == ()


def test_config_drift_per_key() -> None:
    result = ca.audit(
        GOOD,
        has_pdb=True,
        config={"POOL": "10", "TIMEOUT": "5s"},
        known_good={"POOL": "20", "TIMEOUT": "5s"},
        allowed_keys=["POOL", "TIMEOUT"],
    )
    assert [(f.check, f.subject) for f in result.findings] == [("config-drift", "POOL")]
    assert result.checks_run == len(ca.CHECKS)


def test_one_check_failing_on_many_containers_costs_once_and_fixing_raises_score() -> None:
    two = copy.deepcopy(GOOD)
    bare = {"name": "side", "image": "side:1"}
    two["spec"]["template"]["spec"]["containers"] = [bare, dict(bare, name="side2")]
    worse = ca.audit(two, has_pdb=True)
    assert len([f for f in worse.findings if f.check == "readiness-probe"]) == 2
    # 5 failed checks (cpu/mem requests, mem limits: medium; readiness: high; liveness: medium): 11 of 22.
    total = sum(ca.WEIGHTS[c.severity] for c in ca.CHECKS.values() if c.id != "config-drift")
    assert worse.score == round(1 + 9 * (total - 11) / total, 1)
    for c in two["spec"]["template"]["spec"]["containers"]:
        c["readinessProbe"] = {"exec": {"command": ["true"]}}
    assert ca.audit(two, has_pdb=True).score > worse.score


def test_empty_deployment_does_not_crash() -> None:
    result = ca.audit({}, has_pdb=False)
    assert {f.check for f in result.findings} == {"replicas", "spread", "progress-deadline"}


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ({}, {"app": "x"}, True),
        ({"matchLabels": {"app": "x"}}, {"app": "x", "tier": "web"}, True),
        ({"matchLabels": {"app": "y"}}, {"app": "x"}, False),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["x", "y"]}]}, {"app": "x"}, True),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["y"]}]}, {"app": "x"}, False),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["x"]}]}, {"app": "x"}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, {"app": "x"}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, {"app": "x"}, True),
    ],
)
def test_selector_matches(selector: dict[str, Any], labels: dict[str, str], matches: bool) -> None:
    assert ca.selector_matches(selector, labels) is matches
