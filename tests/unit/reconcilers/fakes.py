"""In-memory fakes of the capacity and audit ports (reconcilers/capacity.py, reconcilers/audit.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import security_audit

Answer = prom.RangeResult | Callable[[float, float, float], prom.RangeResult]


def policy(**spec: Any) -> api.MaintenancePolicySpec:
    """A valid policy on Deployment ``chatapp`` with one indicator, plus ``spec`` (wire names)."""
    body: dict[str, Any] = {
        "targetRef": {"name": "chatapp"},
        "indicators": [
            {"name": "errors", "dimension": "core", "query": "up", "warning": 0.01, "critical": 0.05}
        ],
    }
    body.update(spec)
    return api.MaintenancePolicySpec.model_validate(body)


def series(samples: list[tuple[float, float]], **labels: str) -> prom.RangeSeries:
    return prom.RangeSeries(dict(labels), tuple(samples))


class FakeRanges:
    """Answers range queries from a table of PromQL -> answer; anything else is 'no series'."""

    def __init__(self, answers: Mapping[str, Answer]) -> None:
        self.answers = dict(answers)
        self.sent: list[str] = []

    async def query_range(self, promql: str, *, start: float, end: float, step: float) -> prom.RangeResult:
        self.sent.append(promql)
        answer = self.answers.get(promql)
        if answer is None:
            return prom.RangeResult(promql)
        return answer(start, end, step) if callable(answer) else answer


@dataclasses.dataclass
class FakeWorkload:
    """The target as the audits see it."""

    body: dict[str, Any]
    pdb: bool = False
    hpa_max: int | None = None
    config: dict[str, str] | None = None
    risky: list[str] = dataclasses.field(default_factory=list)
    vulns: list[security_audit.Vulnerability] | None = None
    asked_for: list[str] = dataclasses.field(default_factory=list)

    async def deployment(self) -> dict[str, Any]:
        return self.body

    async def hpa_max_replicas(self) -> int | None:
        return self.hpa_max

    async def has_pdb(self, deployment: dict[str, Any]) -> bool:
        return self.pdb

    async def config_map_data(self, name: str) -> dict[str, str] | None:
        self.asked_for.append(f"configmap/{name}")
        return self.config

    async def risky_permissions(self, service_account: str) -> list[str]:
        self.asked_for.append(f"serviceaccount/{service_account}")
        return self.risky

    async def vulnerabilities(self, deployment: dict[str, Any]) -> list[security_audit.Vulnerability] | None:
        return self.vulns
