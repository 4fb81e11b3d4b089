"""Scheduling and recording of the periodic analyses (handlers/analyses.py), with in-memory ports."""

from __future__ import annotations

import copy
from typing import Any

import kopf

from maintenance_operator import metrics
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import cadence
from maintenance_operator.handlers import analyses
from tests.fixtures import fakes
from tests.fixtures.analysis_fakes import GOOD, FakeRanges, FakeWorkload, policy

NOW = 1_900_000_000.0
DAY = 86400.0
A = cadence.Analysis
TARGET: dict[str, Any] = copy.deepcopy(GOOD) | {"metadata": {"generation": 4}}


async def no_prometheus() -> FakeRanges:
    return FakeRanges({})


def typed(status: dict[str, Any]) -> api.MaintenancePolicyStatus:
    return api.MaintenancePolicyStatus.model_validate(status)


async def run(status: dict[str, Any], target: FakeWorkload | None = None, **spec: Any) -> analyses.Outcome:
    return await analyses.run_due(
        policy=policy(**spec),
        status=typed(status),
        name="p",
        namespace="shop",
        target=target or FakeWorkload(TARGET, pdb=True),
        prometheus=no_prometheus,
        now=NOW,
    )


def test_timer_is_registered() -> None:
    registry = kopf.get_default_registry()
    ids = [h.id for h in registry._spawning.get_all_handlers()]
    assert "analyses" in ids


def test_everything_is_due_at_first_then_nothing() -> None:
    assert analyses.due_analyses(policy=policy(), status=typed({}), now=NOW, target_fingerprint="4/") == [
        A.CAPACITY,
        A.CONFIG_AUDIT,
        A.SECURITY,
    ]
    fresh = {"analyzedAt": "2030-03-17T17:46:40Z", "targetFingerprint": "4/"}  # NOW
    status = typed(
        {
            "capacity": fresh | {"sufficient": True},
            "configAudit": fresh | {"score": 10},
            "security": fresh | {"score": 10},
        }
    )
    assert (
        analyses.due_analyses(policy=policy(), status=status, now=NOW + 3600, target_fingerprint="4/") == []
    )
    assert analyses.due_analyses(policy=policy(), status=status, now=NOW + DAY, target_fingerprint="4/") == [
        A.CAPACITY,
        A.SECURITY,
    ]
    # A changed target re-runs the configuration audit at once.
    assert analyses.due_analyses(policy=policy(), status=status, now=NOW + 60, target_fingerprint="5/") == [
        A.CONFIG_AUDIT
    ]


def test_disabled_analyses_never_run() -> None:
    spec = policy(analyses={"capacity": {"enabled": False}, "security": {"enabled": False}})
    assert analyses.due_analyses(policy=spec, status=typed({}), now=NOW, target_fingerprint="") == [
        A.CONFIG_AUDIT
    ]


async def test_first_tick_writes_three_reports_events_and_metrics() -> None:
    out = await run({})
    assert set(out.status) == {"capacity", "configAudit", "security"} and out.failed == []
    assert (
        out.status["configAudit"]["score"] == 10.0 and out.status["configAudit"]["targetFingerprint"] == "4/"
    )
    assert out.status["capacity"]["sufficient"] is False and "loadQuery" in out.status["capacity"]["message"]
    assert "not installed" in out.status["security"]["message"]
    reasons = [reason for _, reason, _ in out.events]
    assert reasons == ["CapacityUnknown", "ConfigAudited", "SecurityReviewed"]
    assert metrics.CONFIG_SCORE.labels("shop", "p")._value.get() == 10.0
    security_score = out.status["security"]["score"]
    assert metrics.SECURITY_SCORE.labels("shop", "p")._value.get() == security_score < 10


class BrokenWorkload(FakeWorkload):
    async def risky_permissions(self, service_account: str) -> list[str]:
        raise RuntimeError("authorization API down")


async def test_a_failing_analysis_is_reported_and_the_others_still_run() -> None:
    out = await run({}, BrokenWorkload(TARGET, pdb=True))
    assert out.failed == ["security"] and set(out.status) == {"capacity", "configAudit"}
    [warning] = [e for e in out.events if e[0] == "Warning"]
    assert warning[1] == "AnalysisFailed" and "authorization API down" in warning[2]


async def test_config_drift_is_judged_against_the_known_good_config_in_status() -> None:
    spec = {
        "actions": {"configPatch": {"enabled": True, "configMapRef": {"name": "cm"}, "allowedKeys": ["POOL"]}}
    }
    target = FakeWorkload(TARGET, pdb=True, config={"POOL": "10"})
    without = await run({}, target, **spec)
    assert without.status["configAudit"]["findingCount"] == 0
    known = {"configMap": "cm", "data": {"POOL": "20"}, "recordedAt": "2030-01-01T00:00:00Z"}
    drifted = await run({"knownGoodConfig": known}, target, **spec)
    [finding] = drifted.status["configAudit"]["findings"]
    assert (finding["check"], finding["subject"]) == ("config-drift", "POOL")


async def test_a_changed_config_map_re_runs_the_configuration_audit_early() -> None:
    spec = policy(
        actions={"configPatch": {"enabled": True, "configMapRef": {"name": "cm"}, "allowedKeys": ["POOL"]}}
    )
    target = FakeWorkload(TARGET, pdb=True, config={"POOL": "10"}, config_version="7")
    first = await analyses.run_due(
        policy=spec,
        status=typed({}),
        name="p",
        namespace="shop",
        target=target,
        prometheus=no_prometheus,
        now=NOW,
    )
    assert first.status["configAudit"]["targetFingerprint"] == "4/7"
    later = NOW + 3600
    assert (
        analyses.due_analyses(policy=spec, status=typed(first.status), now=later, target_fingerprint="4/7")
        == []
    )
    target.config_version = "8"
    again = await analyses.run_due(
        policy=spec,
        status=typed(first.status),
        name="p",
        namespace="shop",
        target=target,
        prometheus=no_prometheus,
        now=later,
    )
    assert set(again.status) == {"configAudit"} and again.status["configAudit"]["targetFingerprint"] == "4/8"


async def test_audit_and_security_findings_are_raised_as_remediations() -> None:
    store = fakes.FakeStore()
    body = {"metadata": {"name": "p", "namespace": "shop", "uid": "u1"}}
    out = await analyses.run_due(
        policy=policy(),
        status=typed({}),
        name="p",
        namespace="shop",
        target=FakeWorkload(TARGET, pdb=False),
        prometheus=no_prometheus,
        now=NOW,
        findings_to=store,
        policy_body=body,
    )
    items = await store.list("Remediation", "shop")
    assert len(items) == len(out.raised) >= 2
    indicators = {i["spec"]["issue"]["indicator"] for i in items}
    assert "configAudit.pdb" in indicators and any(i.startswith("security.") for i in indicators)
    assert all(i["spec"]["issue"]["dimension"] == "operational" for i in items)
