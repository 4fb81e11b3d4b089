"""The policy handler on real kopf Body/Patch objects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import kopf
import pytest

from maintenance_operator.config import OperatorConfig
from maintenance_operator.handlers import policy
from maintenance_operator.runtime import Runtime
from tests.fixtures.fakes import FakeStore

SPEC: dict[str, Any] = {
    "targetRef": {"name": "chatapp"},
    "indicators": [
        {"name": "error-ratio", "dimension": "core", "query": "q", "warning": 0.01, "critical": 0.05}
    ],
}


def body(spec: dict[str, Any], status: dict[str, Any] | None = None) -> kopf.Body:
    return kopf.Body(
        {
            "apiVersion": "maintenance.chatapp.io/v1alpha1",
            "kind": "MaintenancePolicy",
            "metadata": {"name": "chatapp", "namespace": "chatapp", "uid": "u1", "generation": 3},
            "spec": spec,
            "status": status or {},
        }
    )


@dataclass(frozen=True)
class Posted:
    type: str
    reason: str
    message: str


@dataclass(frozen=True)
class Reconciled:
    """What the handler left: kopf's patch (phase), the stored status (conditions), the Events."""

    patch: kopf.Patch
    status: dict[str, Any]


async def reconcile(b: kopf.Body, store: FakeStore | None = None) -> tuple[Reconciled, list[Posted]]:
    """Run the handler on a store holding ``b`` with kopf's event functions recorded instead of posted."""
    store = store or FakeStore()
    store.put("MaintenancePolicy", dict(b))
    memo = kopf.Memo()
    memo.runtime = Runtime(config=OperatorConfig(), api_client=cast(Any, None), resources=cast(Any, store))
    events: list[Posted] = []

    def record(type_: str) -> Any:
        def post(_obj: Any, *, reason: str, message: str = "") -> None:
            events.append(Posted(type=type_, reason=reason, message=message))

        return post

    patch = kopf.Patch()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(kopf, "info", record("Normal"))
        mp.setattr(kopf, "warn", record("Warning"))
        await policy.reconcile_policy(
            spec=b.spec, status=b.status, meta=b.meta, body=b, patch=patch, memo=memo
        )
    stored = store.status("MaintenancePolicy", "chatapp", "chatapp")
    return Reconciled(patch, {**stored, **patch.status}), events


async def test_valid_policy_is_active_and_ready() -> None:
    patch, events = await reconcile(body(SPEC))
    assert patch.status["phase"] == "Active"
    assert patch.status["observedGeneration"] == 3
    ready, delay = patch.status["conditions"]
    assert (ready["type"], ready["status"], ready["reason"]) == ("Ready", "True", "Accepted")
    assert (delay["type"], delay["status"]) == ("VerificationDelayRaised", "False")
    assert events == []


async def test_suspended_policy_says_so() -> None:
    patch, _ = await reconcile(body({**SPEC, "suspend": True}))
    assert patch.status["phase"] == "Suspended"
    assert patch.status["conditions"][0]["status"] == "False"


async def test_invalid_policy_is_reported_in_status_and_an_event_not_raised() -> None:
    patch, events = await reconcile(body({**SPEC, "dimensionWeights": {"core": 90}}))
    assert patch.status["phase"] == "Error"
    [ready] = patch.status["conditions"]
    assert ready["reason"] == "InvalidSpec" and "dimensionWeights must sum to 100" in ready["message"]
    assert len(events) == 1 and events[0].reason == "InvalidSpec"


async def test_condition_transition_time_is_kept_while_status_is_unchanged() -> None:
    first, _ = await reconcile(body(SPEC))
    earlier = [{**first.status["conditions"][0], "lastTransitionTime": "2026-01-01T00:00:00Z"}]
    again, _ = await reconcile(body(SPEC, {"conditions": earlier}))
    assert again.status["conditions"][0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"


async def test_a_rate_window_longer_than_initial_delay_is_announced() -> None:
    indicator = {**SPEC["indicators"][0], "query": "sum(rate(errors[2m])) / sum(rate(requests[1m]))"}
    spec = {**SPEC, "indicators": [indicator], "verification": {"initialDelay": "30s"}}
    patch, events = await reconcile(body(spec))
    delay = next(c for c in patch.status["conditions"] if c["type"] == "VerificationDelayRaised")
    assert (delay["status"], delay["reason"]) == ("True", "QueryLookback")
    assert "error-ratio 120s" in delay["message"]
    assert patch.status["phase"] == "Active"
    assert [e.reason for e in events] == ["VerificationDelayRaised"]


async def test_the_assessments_health_alert_survives_a_policy_change() -> None:
    alert = {"type": "HealthAlert", "status": "True", "reason": "Critical", "message": "overall 3.0"}
    alert["lastTransitionTime"] = "2026-01-01T00:00:00Z"
    patch, _ = await reconcile(body(SPEC, {"conditions": [alert]}))
    assert [c["type"] for c in patch.status["conditions"]] == [
        "HealthAlert",
        "Ready",
        "VerificationDelayRaised",
    ]
    assert patch.status["conditions"][0] == alert
    assert "conditions" not in patch.patch.status  # never through kopf's whole-list merge patch


async def test_resuming_an_unchanged_policy_writes_nothing() -> None:
    first, _ = await reconcile(body(SPEC))
    store = FakeStore()
    again, _ = await reconcile(body(SPEC, first.status), store)
    assert store.patches == []  # no GET + PATCH per policy at every restart
    assert not again.patch  # and no kopf patch either
    changed = {**first.status, "observedGeneration": 2}
    third, _ = await reconcile(body(SPEC, changed), store)
    assert third.patch.status["observedGeneration"] == 3
