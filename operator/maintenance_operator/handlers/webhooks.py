"""Admission webhooks for Remediations: stamp the approver from the API server's user info, sign it, and
refuse approvals that are forged, expired or too late."""

from __future__ import annotations

import logging
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kopf
from pydantic import ValidationError

from maintenance_operator.api import stored
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.config import OperatorConfig
from maintenance_operator.domain import attestation, machine, timestamps
from maintenance_operator.handlers import alerts
from maintenance_operator.runtime import from_memo

log = logging.getLogger(__name__)
PLURAL = "remediations"
MANAGED_NAME = f"auto.{api.GROUP}"
_DECIDABLE = {*machine.values(machine.DECIDABLE), ""}


def configure_admission(
    settings: kopf.OperatorSettings, config: OperatorConfig, memo: kopf.Memo | None = None
) -> None:
    """`local`: a self-signed server on loopback whose webhook configurations kopf manages (tests, demo);
    `server`: in-cluster with the chart's certificate and configurations; `none`: no admission.
    The same server receives Alertmanager notifications (handlers/alerts.py)."""
    memo = memo if memo is not None else kopf.Memo()
    token = alerts.token_from_env()
    if config.webhook_mode == "local":
        port = config.webhook_port or 9443
        cert, key = self_signed_certificate("127.0.0.1")
        settings.admission.server = alerts.AlertReceivingServer(
            memo=memo,
            token=token,
            addr="127.0.0.1",
            host="127.0.0.1",
            port=port,
            certfile=cert,
            pkeyfile=key,
            cafile=cert,
        )
        settings.admission.managed = MANAGED_NAME
    elif config.webhook_mode == "server":
        settings.admission.server = alerts.AlertReceivingServer(
            memo=memo,
            token=token,
            addr="0.0.0.0",
            host=config.webhook_host,  # the Service name the chart's webhook configurations point at
            port=config.webhook_port or 9443,
            certfile=config.webhook_cert_file,
            pkeyfile=config.webhook_key_file,
        )


def self_signed_certificate(ip: str) -> tuple[str, str]:
    """A throwaway serving certificate for a loopback webhook, made with the openssl CLI (kopf's own
    generator needs oscrypto, which cannot load OpenSSL 3)."""
    directory = Path(tempfile.mkdtemp(prefix="maintenance-webhook-"))
    cert, key = directory / "tls.crt", directory / "tls.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            f"/CN={ip}",
            "-addext",
            f"subjectAltName=IP:{ip}",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return str(cert), str(key)


def _approval(obj: Any) -> dict[str, Any] | None:
    spec = (obj or {}).get("spec") or {}
    approval = spec.get("approval")
    return dict(approval) if approval else None


def _username(userinfo: Any) -> str:
    name = (userinfo or {}).get("username") or ""
    return str(name)


def stamp_approval(
    body: kopf.Body, old: Any, userinfo: Any, patch: kopf.Patch, memo: kopf.Memo, **_: Any
) -> None:
    """A new decision gets approvedBy/approvedAt from the authenticated user and a signature; the
    signature of an existing decision is put back exactly as it was."""
    new = _approval(body)
    previous = _approval(old)
    annotations = (body.get("metadata") or {}).get("annotations") or {}
    old_annotations = ((old or {}).get("metadata") or {}).get("annotations") or {}
    if previous is not None:
        # a changed decision is left for the CRD's rule to refuse loudly; the signature is put back
        if annotations.get(attestation.SIGNATURE_ANNOTATION) != old_annotations.get(
            attestation.SIGNATURE_ANNOTATION
        ):
            patch.metadata.annotations[attestation.SIGNATURE_ANNOTATION] = old_annotations.get(
                attestation.SIGNATURE_ANNOTATION
            )
        return
    if new is None:
        if attestation.SIGNATURE_ANNOTATION in annotations:
            patch.metadata.annotations[attestation.SIGNATURE_ANNOTATION] = None
        return
    stamped = {
        **new,
        "approvedBy": _username(userinfo),
        "approvedAt": timestamps.rfc3339(datetime.now(UTC)),
    }
    try:
        approval = api.Approval.model_validate(stamped)
    except ValidationError as exc:
        raise kopf.AdmissionError(f"invalid approval: {exc.errors()[0]['msg']}", code=422) from exc
    patch.spec["approval"] = stamped
    signature = attestation.sign(
        key=from_memo(memo).approval_key, uid=str(body.metadata.uid), approval=approval
    )
    patch.metadata.annotations[attestation.SIGNATURE_ANNOTATION] = signature


def check_approval(body: kopf.Body, old: Any, operation: str | None, userinfo: Any, **_: Any) -> None:
    """Reject approvals at creation, after execution started, or after the approval expired."""
    new = _approval(body)
    if operation == "CREATE":
        if new is not None:
            raise kopf.AdmissionError(
                "a Remediation cannot be created already approved or rejected", code=403
            )
        return
    previous = _approval(old)
    if new is None or previous is not None:
        return
    read = stored.read(api.RemediationStatus, old)
    # a decision needs a readable phase and expiry: an unreadable one is never taken as still open
    if {"status", "phase", "approvalExpiresAt"} & set(read.dropped):
        raise kopf.AdmissionError(
            f"cannot decide a Remediation whose status is unreadable: {read.reason}", code=409
        )
    phase = read.status.phase.value if read.status.phase else ""
    if phase not in _DECIDABLE:
        raise kopf.AdmissionError(
            f"cannot decide a Remediation in phase {phase}: it was already acted on", code=409
        )
    expires = read.status.approval_expires_at
    expiry = timestamps.parse_or_none(expires)
    if expires and expiry is None:
        raise kopf.AdmissionError(
            f"cannot decide: approvalExpiresAt {expires!r} is not a timestamp", code=409
        )
    if expiry is not None and expiry < datetime.now(UTC):
        raise kopf.AdmissionError(f"the approval request expired at {expires}", code=409)
    if new.get("approvedBy") and new.get("approvedBy") != _username(userinfo):
        raise kopf.AdmissionError("approvedBy is set by the admission webhook, not by clients", code=403)


def register(registry: kopf.OperatorRegistry | None = None) -> None:
    """Register the admission handlers. Only when a webhook server is configured: kopf refuses to start
    with admission handlers but no server (webhookMode none)."""
    kopf.on.mutate(
        api.GROUP, api.VERSION, PLURAL, id="mutate-approval", operations=["UPDATE"], registry=registry
    )(stamp_approval)
    kopf.on.validate(
        api.GROUP,
        api.VERSION,
        PLURAL,
        id="validate-approval",
        operations=["CREATE", "UPDATE"],
        registry=registry,
    )(check_approval)
