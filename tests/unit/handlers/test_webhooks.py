"""Admission webhooks on real kopf Body/Patch objects: the approver comes from the API server's user info."""

from __future__ import annotations

from typing import Any

import kopf
import pytest

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.config import OperatorConfig
from maintenance_operator.domain import attestation
from maintenance_operator.handlers import webhooks

KEY = b"k" * 32


class Memo:
    class runtime:
        approval_key = KEY


def remediation(
    approval: dict[str, Any] | None, *, phase: str = "AwaitingApproval", **status: Any
) -> dict[str, Any]:
    spec: dict[str, Any] = {"plan": {"actions": [{"type": "RolloutRestart"}]}}
    if approval is not None:
        spec["approval"] = approval
    return {
        "apiVersion": "maintenance.chatapp.io/v1alpha1",
        "kind": "Remediation",
        "metadata": {"name": "r", "namespace": "ns", "uid": "uid-1", "annotations": {}},
        "spec": spec,
        "status": {"phase": phase, **status},
    }


def test_new_approval_is_stamped_with_the_authenticated_user_and_signed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(webhooks, "from_memo", lambda memo: memo.runtime)
    patch = kopf.Patch()
    body = kopf.Body(remediation({"approved": True, "approvedBy": "mallory"}))
    webhooks.stamp_approval(
        body=body, old=remediation(None), userinfo={"username": "alice"}, patch=patch, memo=Memo
    )
    stamped = patch["spec"]["approval"]
    assert stamped["approvedBy"] == "alice" and stamped["approvedAt"]
    signature = patch["metadata"]["annotations"][attestation.SIGNATURE_ANNOTATION]
    assert attestation.verify(
        key=KEY, uid="uid-1", approval=api.Approval.model_validate(stamped), signature=signature
    )


def test_a_tampered_signature_is_put_back() -> None:
    old = remediation({"approved": True, "approvedBy": "alice", "approvedAt": "2026-11-25T10:00:00Z"})
    old["metadata"]["annotations"][attestation.SIGNATURE_ANNOTATION] = "original"
    new = remediation({"approved": True, "approvedBy": "alice", "approvedAt": "2026-11-25T10:00:00Z"})
    new["metadata"]["annotations"][attestation.SIGNATURE_ANNOTATION] = "forged"
    patch = kopf.Patch()
    webhooks.stamp_approval(
        body=kopf.Body(new), old=old, userinfo={"username": "bob"}, patch=patch, memo=Memo
    )
    assert patch["metadata"]["annotations"][attestation.SIGNATURE_ANNOTATION] == "original"
    assert "spec" not in patch


@pytest.mark.parametrize(
    ("operation", "old", "new", "message"),
    [
        ("CREATE", None, remediation({"approved": True}), "cannot be created already approved"),
        ("UPDATE", remediation(None, phase="Executing"), remediation({"approved": True}), "already acted on"),
        (
            "UPDATE",
            remediation(None, approvalExpiresAt="2020-01-01T00:00:00Z"),
            remediation({"approved": True}),
            "expired",
        ),
        (
            "UPDATE",
            remediation(None),
            remediation({"approved": True, "approvedBy": "mallory"}),
            "set by the admission",
        ),
        # an unreadable status is never taken as still open for a decision
        ("UPDATE", remediation(None, phase="Bogus"), remediation({"approved": True}), "status is unreadable"),
        (
            "UPDATE",
            remediation(None, approvalExpiresAt="next tuesday"),
            remediation({"approved": True}),
            "is not a timestamp",
        ),
    ],
)
def test_refused_decisions(operation: str, old: Any, new: dict[str, Any], message: str) -> None:
    with pytest.raises(kopf.AdmissionError, match=message):
        webhooks.check_approval(
            body=kopf.Body(new), old=old, operation=operation, userinfo={"username": "alice"}
        )


def test_a_timely_decision_by_the_stamped_user_passes() -> None:
    new = remediation({"approved": False, "approvedBy": "alice"})
    webhooks.check_approval(
        body=kopf.Body(new), old=remediation(None), operation="UPDATE", userinfo={"username": "alice"}
    )


def test_server_mode_serves_the_charts_certificate_on_all_interfaces() -> None:
    settings = kopf.OperatorSettings()
    config = OperatorConfig(
        webhook_mode="server",
        webhook_port=9443,
        webhook_host="mo-webhook.ops.svc",
        webhook_cert_file="/etc/tls/tls.crt",
        webhook_key_file="/etc/tls/tls.key",
    )
    webhooks.configure_admission(settings, config)
    server = settings.admission.server
    assert isinstance(server, kopf.WebhookServer)
    assert (server.addr, server.port, server.host) == ("0.0.0.0", 9443, "mo-webhook.ops.svc")
    assert (server.certfile, server.pkeyfile) == ("/etc/tls/tls.crt", "/etc/tls/tls.key")
    # the chart owns the webhook configurations: kopf must not manage them
    assert settings.admission.managed is None
