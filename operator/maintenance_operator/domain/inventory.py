"""What the operator knows of its own objects from watch events: no LIST on a periodic path (pure).

HealthAssessments and Remediations by (namespace, policy), kept up to date by watch handlers, read by
pruning and the scheduler; and every unfinished HealthAssessment (labelled or not) with the policy whose
shard runs it, read when this replica takes over shards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from maintenance_operator.domain import retention, schedule

PolicyKey = tuple[str, str]
#: (namespace, name) of one object.
ObjectKey = tuple[str, str]
V = TypeVar("V")


@dataclass
class Inventory:
    """Latest known refs, one dict per policy; an object deleted is forgotten."""

    assessments: dict[PolicyKey, dict[str, schedule.AssessmentRef]] = field(default_factory=dict)
    remediations: dict[PolicyKey, dict[str, retention.RemediationRef]] = field(default_factory=dict)
    #: Unfinished HealthAssessments: (namespace, name) to the policy whose shard runs it.
    unfinished: dict[ObjectKey, PolicyKey] = field(default_factory=dict)

    def put_assessment(self, key: PolicyKey, ref: schedule.AssessmentRef) -> None:
        self.assessments.setdefault(key, {})[ref.name] = ref

    def put_remediation(self, key: PolicyKey, ref: retention.RemediationRef) -> None:
        self.remediations.setdefault(key, {})[ref.name] = ref

    def forget_assessment(self, key: PolicyKey, name: str) -> None:
        _forget(self.assessments, key, name)

    def forget_remediation(self, key: PolicyKey, name: str) -> None:
        _forget(self.remediations, key, name)

    def note_progress(self, assessment: ObjectKey, *, policy: PolicyKey, finished: bool) -> None:
        """An assessment was seen (finished: it left the unfinished set, as a deleted one does)."""
        if finished:
            self.unfinished.pop(assessment, None)
        else:
            self.unfinished[assessment] = policy

    def unfinished_of(self, owns: Callable[[PolicyKey], bool]) -> list[ObjectKey]:
        """Unfinished assessments of the policies `owns` accepts, by namespace and name."""
        return sorted(key for key, policy in self.unfinished.items() if owns(policy))

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
