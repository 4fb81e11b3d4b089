from __future__ import annotations

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import attestation

KEY = b"k" * 32
APPROVAL = api.Approval(approved=True, approved_by="alice", approved_at="2026-11-25T10:00:00Z")


def test_signed_approval_verifies() -> None:
    signature = attestation.sign(key=KEY, uid="uid-1", approval=APPROVAL)
    assert attestation.verify(key=KEY, uid="uid-1", approval=APPROVAL, signature=signature)


def test_forged_approver_does_not_verify() -> None:
    signature = attestation.sign(key=KEY, uid="uid-1", approval=APPROVAL)
    forged = APPROVAL.model_copy(update={"approved_by": "system:admin"})
    assert not attestation.verify(key=KEY, uid="uid-1", approval=forged, signature=signature)


def test_signature_is_bound_to_object_decision_and_key() -> None:
    signature = attestation.sign(key=KEY, uid="uid-1", approval=APPROVAL)
    assert not attestation.verify(key=KEY, uid="uid-2", approval=APPROVAL, signature=signature)
    flipped = APPROVAL.model_copy(update={"approved": False})
    assert not attestation.verify(key=KEY, uid="uid-1", approval=flipped, signature=signature)
    assert not attestation.verify(key=b"x" * 32, uid="uid-1", approval=APPROVAL, signature=signature)


def test_unsigned_or_unstamped_approvals_do_not_verify() -> None:
    assert not attestation.verify(key=KEY, uid="u", approval=APPROVAL, signature=None)
    bare = api.Approval(approved=True)
    assert not attestation.verify(
        key=KEY, uid="u", approval=bare, signature=attestation.sign(key=KEY, uid="u", approval=bare)
    )
