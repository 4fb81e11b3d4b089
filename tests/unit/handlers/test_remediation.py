"""Which Remediations the kopf timer keeps ticking (handlers/remediation.py)."""

from __future__ import annotations

import kopf

from maintenance_operator.adapters import crs
from maintenance_operator.handlers import remediation as handler


def test_escalations_are_ticked_until_acknowledged() -> None:
    escalated_status = {"phase": "Escalated"}
    assert handler._open(status=escalated_status, annotations={})
    assert not handler._open(status=escalated_status, annotations={crs.ACK_ANNOTATION: "alice"})
    assert not handler._open(status={"phase": "Succeeded"}, annotations={})
    assert handler._open(status={"phase": "AwaitingApproval"}, annotations={})


async def test_remediations_are_indexed_for_dedupe_and_the_guard() -> None:
    registry = kopf.get_default_registry()
    assert "remediation_summaries" in [h.id for h in registry._indexing.get_all_handlers()]
    body = {
        "metadata": {"name": "r1", "namespace": "shop", "labels": {}},
        "spec": {"targetRef": {"name": "chat"}, "issue": {"severity": "high"}},
        "status": {"phase": "Executing", "startedAt": "t1"},
    }
    indexed = await handler.remediation_summaries(namespace="shop", body=kopf.Body(body))
    assert indexed == {"shop": crs.remediation_summary(body)}
