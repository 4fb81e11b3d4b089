"""Writers racing on one MaintenancePolicy's status against the real API server lose nothing.

Two Remediations finishing together each append an outcome (reconcilers/remediate.py, with a
resourceVersion precondition and a retry); the policy handler and the assessment each set their own
conditions (reconcilers/shared_status.py). Every read waits a little before its write, so the two
writers always read the same resourceVersion: the race happens on every round, not by luck. The naive
read-modify-patch is raced the same way to show what the precondition prevents.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from maintenance_operator.adapters import crs, errors
from maintenance_operator.api import stored
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import knowledge
from maintenance_operator.reconcilers import remediate, shared_status

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
POLICY_SPEC: dict[str, Any] = {
    "targetRef": {"name": "chatapp"},
    "indicators": [{"name": "errors", "dimension": "core", "query": "up", "warning": 0.01, "critical": 0.05}],
}
KIND = "MaintenancePolicy"
ROUNDS = 10


class SlowReads:
    """The real object store, with every read held back so concurrent writers read the same version."""

    def __init__(self, inner: crs.CustomResources) -> None:
        self.inner = inner
        self.conflicts = 0

    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        found = await self.inner.get(kind, namespace, name)
        await asyncio.sleep(0.2)
        return found

    async def patch_status(
        self,
        kind: str,
        namespace: str,
        name: str,
        status: dict[str, Any],
        *,
        resource_version: str | None = None,
    ) -> None:
        try:
            await self.inner.patch_status(kind, namespace, name, status, resource_version=resource_version)
        except errors.Conflict:
            self.conflicts += 1
            raise


@pytest.fixture
async def policy(kube_api: Any, kubectl: Any, namespace: str) -> tuple[SlowReads, str]:
    kubectl("apply", "--server-side", "-f", str(ROOT / "crds"))
    resources = crs.CustomResources(kube_api)
    body = {"metadata": {"name": "chatapp"}, "spec": POLICY_SPEC}
    await resources.create(KIND, namespace, body)
    return SlowReads(resources), namespace


def _outcome(name: str) -> api.Outcome:
    return api.Outcome(
        fingerprint=f"fp-{name}",
        action="Scale",
        result="Succeeded",
        at=datetime.now(UTC).isoformat(),
        remediation=name,
    )


async def _record(store: SlowReads, namespace: str, name: str) -> None:
    tick = SimpleNamespace(
        world=SimpleNamespace(resources=store),
        namespace=namespace,
        name=name,
        policy=api.MaintenancePolicySpec.model_validate(POLICY_SPEC),
        now=datetime.now(UTC),
    )
    await remediate._record(cast(Any, tick), policy="chatapp", outcome=_outcome(name))


async def _naive_append(store: SlowReads, namespace: str, name: str) -> None:
    fresh = await store.get(KIND, namespace, "chatapp")
    assert fresh is not None
    outcomes = stored.read(api.MaintenancePolicyStatus, fresh).status.outcomes
    recorded = knowledge.record_outcome(
        outcomes, _outcome(name), history=api.HistorySpec(), now=datetime.now(UTC)
    )
    update = {"outcomes": [o.wire() for o in recorded]}
    await store.patch_status(KIND, namespace, "chatapp", update)


async def _outcomes(store: SlowReads, namespace: str) -> set[str]:
    body = await store.inner.get(KIND, namespace, "chatapp")
    assert body is not None
    return {o["remediation"] for o in (body.get("status") or {}).get("outcomes") or []}


async def test_two_remediations_finishing_together_lose_no_outcome(policy: tuple[SlowReads, str]) -> None:
    store, namespace = policy
    for i in range(ROUNDS):
        await asyncio.gather(_record(store, namespace, f"a-{i}"), _record(store, namespace, f"b-{i}"))
    assert await _outcomes(store, namespace) == {f"{w}-{i}" for w in "ab" for i in range(ROUNDS)}
    assert store.conflicts >= ROUNDS // 2  # the race did happen, and the retry absorbed it


async def test_without_the_precondition_outcomes_are_lost(policy: tuple[SlowReads, str]) -> None:
    store, namespace = policy
    for i in range(3):
        await asyncio.gather(
            _naive_append(store, namespace, f"a-{i}"), _naive_append(store, namespace, f"b-{i}")
        )
    assert len(await _outcomes(store, namespace)) < 6


def _policy_changes(suspend: bool) -> list[shared_status.ConditionChange]:
    return [
        shared_status.ConditionChange("Ready", not suspend, "Suspended" if suspend else "Accepted"),
        shared_status.ConditionChange("VerificationDelayRaised", False, "InitialDelayCoversLookback"),
    ]


async def test_policy_and_assessment_conditions_do_not_clobber_each_other(
    policy: tuple[SlowReads, str],
) -> None:
    store, namespace = policy
    for i in range(ROUNDS):
        critical = i % 2 == 0
        alert = shared_status.ConditionChange("HealthAlert", critical, "Critical" if critical else "Healthy")
        written = await asyncio.gather(
            shared_status.write(
                store,
                kind=KIND,
                namespace=namespace,
                name="chatapp",
                changes=_policy_changes(suspend=critical),
                now=datetime.now(UTC),
            ),
            shared_status.write(
                cast(Any, store),
                kind=KIND,
                namespace=namespace,
                name="chatapp",
                changes=[alert],
                fields={"overallScore": float(i), "lastAssessment": f"assessment-{i}"},
                now=datetime.now(UTC),
            ),
        )
        assert written == [True, True]
        body = await store.inner.get(KIND, namespace, "chatapp")
        assert body is not None
        by_type = {c["type"]: c for c in body["status"]["conditions"]}
        assert set(by_type) == {"Ready", "VerificationDelayRaised", "HealthAlert"}
        assert by_type["HealthAlert"]["status"] == ("True" if critical else "False")
        assert by_type["Ready"]["status"] == ("False" if critical else "True")
        assert body["status"]["overallScore"] == float(i)
    assert store.conflicts >= ROUNDS // 2
