"""What the reconcilers need from the world, as Protocols: the runtime builds the real ones, tests fake them.

- ``Target``: reads and writes of the target Deployment (and its allowlisted ConfigMap).
- ``TargetLock``: the per-target lease so two Remediations never change one Deployment at once.
- ``ObjectStore``: the operator's own custom resources and the Secrets they name.
- ``Querier``: instant Prometheus queries on the process's bounded pool (closed after use).
- ``Planner``: plan, summarize, the token budget spent so far, close.
- ``RangeSource``: Prometheus range queries (the capacity analysis).
- ``CapacityTarget``, ``AuditTarget``: what the capacity analysis and the audits read from the cluster.
- ``Ports``: builds the above for one policy/target, plus settings, the approval key and notifications.

Adapters raise ``adapters.errors.AdapterError`` subclasses, never a client library's exceptions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from maintenance_operator.adapters import kube
from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.adapters.llm import PlanResult
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.config import OperatorConfig
from maintenance_operator.domain import budget, notification, planning, rollout, security_audit


class Target(Protocol):
    async def read(self) -> dict[str, Any]: ...

    async def snapshot(self) -> rollout.TargetSnapshot: ...

    async def state(self, *, now: datetime) -> rollout.TargetSnapshot: ...

    async def config_values(self, config_map: str, keys: Sequence[str]) -> dict[str, str]: ...

    async def progress_deadline_seconds(self) -> float: ...

    async def capture_pre_state(
        self, *, now: datetime, config_map: str | None = None, keys: Sequence[str] = ()
    ) -> api.PreState: ...

    async def execute(
        self, action: api.Action, *, marker: str | None, pre_state: api.PreState | None, propose_only: bool
    ) -> kube.ApplyResult: ...

    async def rollout_state(self) -> rollout.RolloutState: ...

    async def restore(self, pre_state: api.PreState) -> kube.ApplyResult: ...


class TargetLock(Protocol):
    async def acquire(self, *, now: datetime | None = None) -> bool: ...

    async def current_holder(self, *, now: datetime | None = None) -> str | None: ...

    async def renew(self, *, now: datetime | None = None) -> bool: ...

    async def release(self) -> bool: ...


class ObjectStore(Protocol):
    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None: ...

    async def list(
        self, kind: str, namespace: str, *, labels: dict[str, str] | None = None
    ) -> list[dict[str, Any]]: ...

    async def create(
        self, kind: str, namespace: str, body: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]: ...

    async def patch_status(
        self,
        kind: str,
        namespace: str,
        name: str,
        status: dict[str, Any],
        *,
        resource_version: str | None = None,
    ) -> None: ...

    async def read_secret(self, namespace: str, name: str, key: str) -> str | None: ...


class Querier(prom.PrometheusQuerier, Protocol):
    async def aclose(self) -> None: ...


class Planner(Protocol):
    async def plan(self, ctx: planning.PlanningContext) -> PlanResult: ...

    async def summarize(self, numbers: Mapping[str, Any]) -> tuple[str | None, api.TokenUsage]: ...

    @property
    def spent(self) -> budget.BudgetState | None:
        """The budget state after this planner's calls, to persist (None when no budget applies)."""
        ...

    async def aclose(self) -> None: ...


class RangeSource(Protocol):
    """Prometheus range queries (adapters.prometheus.HttpPrometheus)."""

    async def query_range(
        self, promql: str, *, start: float, end: float, step: float
    ) -> prom.RangeResult: ...


class CapacityTarget(Protocol):
    """What the capacity analysis reads from the cluster (adapters.workload.WorkloadReader)."""

    async def deployment(self) -> dict[str, Any]: ...

    async def hpa_max_replicas(self) -> int | None: ...


class AuditTarget(Protocol):
    """What the audits read from the cluster (adapters.workload.WorkloadReader)."""

    async def deployment(self) -> dict[str, Any]: ...

    async def has_pdb(self, deployment: dict[str, Any]) -> bool: ...

    async def config_map_data(self, name: str) -> dict[str, str] | None: ...

    async def risky_permissions(self, service_account: str) -> list[str]: ...

    async def vulnerabilities(
        self, deployment: dict[str, Any]
    ) -> list[security_audit.Vulnerability] | None: ...


class Ports(Protocol):
    @property
    def config(self) -> OperatorConfig: ...

    @property
    def approval_key(self) -> bytes: ...

    @property
    def resources(self) -> ObjectStore: ...

    def target(self, *, namespace: str, name: str) -> Target: ...

    def lock(self, *, namespace: str, deployment: str, holder: str) -> TargetLock: ...

    async def querier(self, *, namespace: str, spec: api.PrometheusSpec) -> Querier: ...

    async def planner(
        self, *, namespace: str, policy: api.MaintenancePolicySpec, budget_state: budget.BudgetState
    ) -> Planner: ...

    async def notify(self, event: notification.Event) -> None:
        """Send `event` to the configured receiver without waiting for delivery (no receiver: nothing)."""
        ...
