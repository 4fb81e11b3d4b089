"""Which Remediations the kopf timer keeps ticking (handlers/remediation.py)."""

from __future__ import annotations

from maintenance_operator.adapters import crs
from maintenance_operator.handlers import remediation as handler


def test_escalations_are_ticked_until_acknowledged() -> None:
    escalated_status = {"phase": "Escalated"}
    assert handler._open(status=escalated_status, annotations={})
    assert not handler._open(status=escalated_status, annotations={crs.ACK_ANNOTATION: "alice"})
    assert not handler._open(status={"phase": "Succeeded"}, annotations={})
    assert handler._open(status={"phase": "AwaitingApproval"}, annotations={})
