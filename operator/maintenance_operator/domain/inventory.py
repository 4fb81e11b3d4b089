"""What the operator knows of its own objects from watch events: no LIST on a periodic path (pure).

HealthAssessments and Remediations by (namespace, policy), kept up to date by watch handlers, read by
pruning and the scheduler."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from maintenance_operator.domain import retention, schedule

PolicyKey = tuple[str, str]
V = TypeVar("V")


@dataclass
class Inventory:
    """Latest known refs, one dict per policy; an object deleted is forgotten."""

    assessments: dict[PolicyKey, dict[str, schedule.AssessmentRef]] = field(default_factory=dict)
    remediations: dict[PolicyKey, dict[str, retention.RemediationRef]] = field(default_factory=dict)

    def put_assessment(self, key: PolicyKey, ref: schedule.AssessmentRef) -> None:
        self.assessments.setdefault(key, {})[ref.name] = ref

    def put_remediation(self, key: PolicyKey, ref: retention.RemediationRef) -> None:
        self.remediations.setdefault(key, {})[ref.name] = ref

    def forget_assessment(self, key: PolicyKey, name: str) -> None:
        _forget(self.assessments, key, name)

    def forget_remediation(self, key: PolicyKey, name: str) -> None:
        _forget(self.remediations, key, name)

    def assessments_of(self, key: PolicyKey) -> list[schedule.AssessmentRef]:
        return list(self.assessments.get(key, {}).values())

    def remediations_of(self, key: PolicyKey) -> list[retention.RemediationRef]:
        return list(self.remediations.get(key, {}).values())


def _forget(table: dict[PolicyKey, dict[str, V]], key: PolicyKey, name: str) -> None:
    refs = table.get(key)
    if refs is None:
        return
    refs.pop(name, None)
    if not refs:
        del table[key]
