"""Approval attestations: the admission webhook signs who approved, the operator verifies before acting.

A human approval is only honoured if its approver, time and decision carry an HMAC made by the webhook
from the API server's authenticated user info. A client that writes `approvedBy` itself, or edits the
annotation, produces a signature that does not verify, so the approver identity cannot be forged.
"""

from __future__ import annotations

import hashlib
import hmac

from maintenance_operator.api import v1alpha1

SIGNATURE_ANNOTATION = f"{v1alpha1.GROUP}/approval-signature"


def _message(*, uid: str, approval: v1alpha1.Approval) -> bytes:
    parts = (
        uid,
        "approved" if approval.approved else "rejected",
        approval.approved_by or "",
        approval.approved_at or "",
    )
    return "\x1f".join(parts).encode()


def sign(*, key: bytes, uid: str, approval: v1alpha1.Approval) -> str:
    """Signature over the object's uid and the approval's decision, approver and time."""
    return hmac.new(key, _message(uid=uid, approval=approval), hashlib.sha256).hexdigest()


def verify(*, key: bytes, uid: str, approval: v1alpha1.Approval, signature: str | None) -> bool:
    """True only for an approval stamped by the webhook with this key, unchanged since."""
    if not signature or not approval.approved_by or not approval.approved_at:
        return False
    return hmac.compare_digest(sign(key=key, uid=uid, approval=approval), signature)
