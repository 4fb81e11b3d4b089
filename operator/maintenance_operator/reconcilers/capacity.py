"""Capacity analysis of one policy's target: range queries in, a CapacityReport out.

Reads the offered load, the healthy signal, ready replicas and per-container CPU and memory over
``analyses.capacity.window`` and hands them to ``domain.capacity``. Findings and recommendations
only: nothing here writes to the target. A failed query or thin data gives a report that says so and
recommends nothing (never plan on missing data). ``raise_recommendations`` turns right-sizing into
SetResources Remediations (when the policy enables SetResources) that always wait for a human.
Ports are ``ports.RangeSource`` and ``ports.CapacityTarget``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import cadence, config_audit, findings, promql
from maintenance_operator.domain import capacity as cap
from maintenance_operator.reconcilers import audit, ports


@dataclasses.dataclass(frozen=True)
class Queries:
    """The PromQL the analysis sends (the policy's, or defaults for the target)."""

    load: str | None
    healthy: str | None
    replicas: str
    cpu: str
    memory: str


def default_queries(spec: api.CapacityAnalysisSpec, *, namespace: str, name: str) -> Queries:
    """The policy's queries ($namespace and $deployment substituted), with kube-state-metrics and cAdvisor
    defaults for the target's pods; raises ValueError when either name is not a DNS label."""

    def sub(query: str) -> str:
        return promql.substitute(query, namespace=namespace, deployment=name)

    sub("")  # validates both names before they are quoted into the defaults
    pods = f'namespace="{namespace}",pod=~"{name}-[a-z0-9]+-[a-z0-9]+",container!="",container!="POD"'
    return Queries(
        load=sub(spec.load_query) if spec.load_query else None,
        healthy=sub(spec.healthy_query) if spec.healthy_query else None,
        replicas=sub(spec.replicas_query)
        if spec.replicas_query
        else f'kube_deployment_status_replicas_available{{namespace="{namespace}",deployment="{name}"}}',
        cpu=sub(spec.cpu_query)
        if spec.cpu_query
        else f"max by (container) (rate(container_cpu_usage_seconds_total{{{pods}}}[5m]))",
        memory=sub(spec.memory_query)
        if spec.memory_query
        else f"max by (container) (container_memory_working_set_bytes{{{pods}}})",
    )


def _first(result: prom.RangeResult) -> list[cap.Sample]:
    return list(result.series[0].samples) if result.series else []


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


async def analyze(
    *,
    spec: api.MaintenancePolicySpec,
    namespace: str,
    prometheus: ports.RangeSource,
    target: ports.CapacityTarget,
    now: float,
) -> api.CapacityReport:
    """The capacity report of the policy's target at ``now`` (see module docstring)."""
    settings = spec.analyses.capacity
    window = api.parse_duration(settings.window)
    step = max(api.parse_duration(settings.step), 1.0)
    rules = cap.DataRules(
        step_seconds=step,
        window_seconds=window,
        min_samples=12,
        min_span_seconds=api.parse_duration(settings.min_data),
    )
    queries = default_queries(settings, namespace=namespace, name=spec.target_ref.name)
    at = cadence.iso(now)
    if queries.load is None:
        return api.CapacityReport(
            analyzed_at=at,
            sufficient=False,
            message="analyses.capacity.loadQuery is not set: no load to plan for",
        )
    start = now - window
    sent = 0

    async def fetch(promql: str) -> prom.RangeResult:
        nonlocal sent
        sent += 1
        return await prometheus.query_range(promql, start=start, end=now, step=step)

    load = await fetch(queries.load)
    if not load.ok or not load.series:
        why = load.error.message if load.error else "no series"
        return api.CapacityReport(
            analyzed_at=at, sufficient=False, message=f"load query: {why}", queries=sent
        )
    replicas = await fetch(queries.replicas)
    healthy = await fetch(queries.healthy) if queries.healthy else None
    throughput = None
    if replicas.ok and healthy is not None and healthy.ok:
        throughput = cap.healthy_throughput(_first(load), _first(replicas), _first(healthy))
    deployment = await target.deployment()
    current = int((deployment.get("spec") or {}).get("replicas", 1))
    containers = config_audit.containers(deployment)
    plan = cap.plan(
        load=_first(load),
        throughput_per_pod=throughput,
        current_replicas=current,
        pod=cap.pod_requests([dict(c) for c in containers]),
        limits=cap.Limits(scale_max=spec.actions.scale.max, hpa_max=await target.hpa_max_replicas()),
        rules=rules,
        headroom=settings.headroom_percent / 100.0,
        scenarios=[cap.Scenario(s.name, s.factor, s.of_peak) for s in settings.scenarios],
    )
    sizing = await _right_sizing(fetch, queries=queries, settings=settings, rules=rules)
    message = plan.reason
    if healthy is None:
        message = "analyses.capacity.healthyQuery is not set: per-pod throughput cannot be measured"
    headroom = plan.current_headroom
    return api.CapacityReport(
        analyzed_at=at,
        sufficient=plan.quality.sufficient and bool(plan.scenarios),
        message=message,
        samples=plan.quality.samples,
        data_days=round(plan.quality.span_seconds / cap.DAY, 2),
        offered_load=plan.offered_load,
        peak_load=plan.peak_load,
        throughput_per_pod=plan.throughput_per_pod,
        growth_percent_per_day=_finite_or_none(
            plan.growth_per_day * 100 if plan.growth_per_day is not None else None
        ),
        current_replicas=current,
        headroom_percent=round(headroom * 100, 1) if headroom is not None else None,
        exhaustion_at=cadence.iso(now + plan.exhaustion_seconds)
        if plan.exhaustion_seconds is not None
        else None,
        scenarios=[
            api.ScenarioResult(
                name=r.name,
                load=round(r.load, 3),
                replicas=r.replicas,
                allowed=r.allowed,
                blocked_by=r.blocked_by,
                cpu_cores=round(r.cpu_cores, 3),
                memory_gib=round(r.memory_gib, 3),
            )
            for r in plan.scenarios
        ],
        right_sizing=sizing,
        queries=sent,
    )


async def _right_sizing(
    fetch: Callable[[str], Awaitable[prom.RangeResult]],
    *,
    queries: Queries,
    settings: api.CapacityAnalysisSpec,
    rules: cap.DataRules,
) -> list[api.RightSizingResult]:
    cpu = await fetch(queries.cpu)
    memory = await fetch(queries.memory)
    if not cpu.ok or not memory.ok:
        return []
    cpu_by = _by_container(cpu.series)
    mem_by = _by_container(memory.series)
    out: list[api.RightSizingResult] = []
    for name in sorted(set(cpu_by) | set(mem_by)):
        r = cap.right_size(
            container=name,
            cpu_cores=cpu_by.get(name, []),
            memory_bytes=mem_by.get(name, []),
            rules=rules,
            cpu_percentile=settings.cpu_percentile,
            memory_buffer=settings.memory_buffer_percent / 100.0,
        )
        out.append(
            api.RightSizingResult(
                container=name,
                cpu_request_cores=r.cpu_request_cores,
                memory_request_bytes=r.memory_request_bytes,
                memory_limit_bytes=r.memory_limit_bytes,
                assumptions=r.assumptions,
            )
        )
    return out


def _by_container(series: Sequence[prom.RangeSeries]) -> Mapping[str, list[cap.Sample]]:
    out: dict[str, list[cap.Sample]] = {}
    for s in series:
        out.setdefault(s.labels.get("container", "?"), []).extend(s.samples)
    return out


async def raise_recommendations(
    resources: ports.ObjectStore,
    *,
    policy_body: Mapping[str, Any],
    policy: api.MaintenancePolicySpec,
    report: api.CapacityReport,
    deployment: Mapping[str, Any],
) -> dict[str, str]:
    """A SetResources Remediation per container whose right-sizing moves a value by more than
    ``findings.MIN_RELATIVE_CHANGE``; one per recommendation (named after it); {fingerprint: name}."""
    if policy.suspend or not report.sufficient:
        return {}
    if policy.severity_routing.route(api.Severity.LOW) is api.Route.IGNORE:
        return {}
    current = {str(c.get("name")): c.get("resources") or {} for c in config_audit.containers(deployment)}
    raised: dict[str, str] = {}
    for result in report.right_sizing:
        if result.container not in current:
            continue
        found = findings.right_sizing(
            result, target=policy.target_ref.name, current=current[result.container], actions=policy.actions
        )
        if found is None:
            continue
        issue, plan = found
        name = audit.finding_name(str(policy_body["metadata"]["name"]), issue.fingerprint)
        body = audit.finding_remediation(
            policy_body, name=name, target=policy.target_ref.name, issue=issue, plan=plan
        )
        await resources.create("Remediation", str(policy_body["metadata"]["namespace"]), body)
        raised[issue.fingerprint] = name
    return raised
