"""Capacity analysis with in-memory ports (reconcilers/capacity.py)."""

from __future__ import annotations

from typing import Any

import pytest

from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.reconcilers import capacity
from tests.fixtures import fakes
from tests.fixtures.analysis_fakes import FakeRanges, FakeWorkload, policy, series

HOUR = 3600.0
NOW = 1_900_000_000.0
LOAD_Q = "sum(rate(chatapp_requests_total[5m]))"
HEALTHY_Q = "chatapp_slo_ok"
DEPLOYMENT: dict[str, Any] = {
    "metadata": {"generation": 3},
    "spec": {
        "replicas": 3,
        "template": {
            "spec": {
                "containers": [{"name": "app", "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}}]
            }
        },
    },
}
SPEC = policy(
    analyses={
        "capacity": {"loadQuery": LOAD_Q, "healthyQuery": HEALTHY_Q, "window": "48h", "step": "1h"},
    },
    actions={"scale": {"enabled": True, "min": 1, "max": 6}},
)
QUERIES = capacity.default_queries(SPEC.analyses.capacity, namespace="shop", name="chatapp")


def hourly(value: float) -> Any:
    def answer(start: float, end: float, step: float) -> prom.RangeResult:
        n = int((end - start) / step) + 1
        return prom.RangeResult("q", (series([(start + i * step, value) for i in range(n)]),))

    return answer


def per_container(**values: float) -> Any:
    def answer(start: float, end: float, step: float) -> prom.RangeResult:
        n = int((end - start) / step) + 1
        return prom.RangeResult(
            "q",
            tuple(series([(start + i * step, v) for i in range(n)], container=c) for c, v in values.items()),
        )

    return answer


def full_answers() -> dict[str, Any]:
    return {
        LOAD_Q: hourly(100.0),
        HEALTHY_Q: hourly(1.0),
        QUERIES.replicas: hourly(2.0),
        QUERIES.cpu: per_container(app=0.3),
        QUERIES.memory: per_container(app=500e6),
    }


async def test_scenario_table_and_right_sizing_from_the_ports() -> None:
    ranges = FakeRanges(full_answers())
    report = await capacity.analyze(
        spec=SPEC, namespace="shop", prometheus=ranges, target=FakeWorkload(DEPLOYMENT, hpa_max=5), now=NOW
    )
    assert report.sufficient and report.message == ""
    # 100 req/s on 2 healthy pods: 50 req/s per pod, 40 usable with 20 % headroom.
    assert report.throughput_per_pod == 50.0 and report.current_replicas == 3
    rows = {r.name: (r.replicas, r.allowed, r.blocked_by) for r in report.scenarios}
    assert rows["+25%"] == (4, True, "")
    assert rows["+100%"] == (5, True, "")
    assert rows["3x peak"] == (8, False, "actions.scale.max=6")
    assert report.scenarios[0].cpu_cores == 2.0 and report.scenarios[0].memory_gib == 4.0
    assert report.headroom_percent == pytest.approx(33.3) and report.exhaustion_at is None
    [sizing] = report.right_sizing
    assert sizing.container == "app" and sizing.cpu_request_cores == pytest.approx(0.3)
    assert sizing.memory_limit_bytes == pytest.approx(550e6)
    assert report.queries == len(ranges.sent) == 5
    assert 'namespace="shop"' in QUERIES.cpu and 'deployment="chatapp"' in QUERIES.replicas


async def test_no_load_query_says_so_and_sends_nothing() -> None:
    ranges = FakeRanges({})
    report = await capacity.analyze(
        spec=policy(), namespace="shop", prometheus=ranges, target=FakeWorkload(DEPLOYMENT), now=NOW
    )
    assert not report.sufficient and "loadQuery" in report.message and ranges.sent == []


async def test_prometheus_down_recommends_nothing() -> None:
    down = prom.RangeResult(LOAD_Q, error=prom.QueryError(prom.ErrorKind.UNAVAILABLE, "unreachable: refused"))
    report = await capacity.analyze(
        spec=SPEC,
        namespace="shop",
        prometheus=FakeRanges({LOAD_Q: down}),
        target=FakeWorkload(DEPLOYMENT),
        now=NOW,
    )
    assert not report.sufficient and "refused" in report.message and report.scenarios == []
    assert report.queries == 1


async def test_never_healthy_measures_no_throughput() -> None:
    answers = full_answers() | {HEALTHY_Q: hourly(0.0)}
    report = await capacity.analyze(
        spec=SPEC, namespace="shop", prometheus=FakeRanges(answers), target=FakeWorkload(DEPLOYMENT), now=NOW
    )
    assert not report.sufficient and "throughput" in report.message and report.scenarios == []


async def test_thin_history_says_how_much() -> None:
    short = policy(analyses={"capacity": {"loadQuery": LOAD_Q, "healthyQuery": HEALTHY_Q, "window": "6h"}})
    q = capacity.default_queries(short.analyses.capacity, namespace="shop", name="chatapp")
    answers = {LOAD_Q: hourly(100.0), HEALTHY_Q: hourly(1.0), q.replicas: hourly(2.0)}
    report = await capacity.analyze(
        spec=short, namespace="shop", prometheus=FakeRanges(answers), target=FakeWorkload(DEPLOYMENT), now=NOW
    )
    assert not report.sufficient and "span" in report.message and report.data_days < 1


def test_queries_substitute_namespace_and_deployment_and_reject_unsafe_names() -> None:
    spec = policy(
        analyses={
            "capacity": {"loadQuery": 'sum(rate(x{namespace="$namespace",deployment="$deployment"}[5m]))'}
        }
    )
    q = capacity.default_queries(spec.analyses.capacity, namespace="shop", name="chatapp")
    assert q.load == 'sum(rate(x{namespace="shop",deployment="chatapp"}[5m]))'
    with pytest.raises(ValueError, match="DNS label"):
        capacity.default_queries(spec.analyses.capacity, namespace='shop"}', name="chatapp")


async def test_right_sizing_is_raised_as_one_set_resources_remediation() -> None:
    spec = SPEC.model_copy(
        update={
            "actions": SPEC.actions.model_copy(update={"set_resources": api.SetResourcesAction(enabled=True)})
        }
    )
    report = await capacity.analyze(
        spec=spec,
        namespace="shop",
        prometheus=FakeRanges(full_answers()),
        target=FakeWorkload(DEPLOYMENT),
        now=NOW,
    )
    store = fakes.FakeStore()
    body = {"metadata": {"name": "p", "namespace": "shop", "uid": "u1"}}
    for _ in range(2):  # raised once, however often the analysis runs
        raised = await capacity.raise_recommendations(
            store, policy_body=body, policy=spec, report=report, deployment=DEPLOYMENT
        )
        assert len(raised) == 1
    [item] = await store.list("Remediation", "shop")
    [action] = item["spec"]["plan"]["actions"]
    assert action["type"] == "SetResources" and action["setResources"]["container"] == "app"
    assert action["setResources"]["cpuRequest"] == "300m"
    assert item["spec"]["issue"]["indicator"] == "capacity.app"
    # Not enabled: recommendations stay in the report only.
    assert (
        await capacity.raise_recommendations(
            fakes.FakeStore(), policy_body=body, policy=SPEC, report=report, deployment=DEPLOYMENT
        )
        == {}
    )
