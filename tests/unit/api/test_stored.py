"""Reading a stored status into its typed model (api/stored.py): what validates is kept, the rest degrades."""

from __future__ import annotations

from maintenance_operator.api import stored
from maintenance_operator.api import v1alpha1 as api

OUTCOME = {"fingerprint": "chatapp/q", "category": "queue", "action": "Scale", "result": "Failed", "at": "x"}


def test_a_missing_status_is_the_empty_status() -> None:
    read = stored.read(api.RemediationStatus, {"metadata": {"name": "r"}})
    assert read.status == api.RemediationStatus() and read.intact and read.reason is None
    assert stored.read(api.RemediationStatus, None).intact


def test_a_valid_status_is_read_whole() -> None:
    read = stored.read(api.RemediationStatus, {"status": {"phase": "Executing", "startedAt": "t"}})
    assert read.intact and read.status.phase is api.RemediationPhase.EXECUTING
    assert read.status.started_at == "t"


def test_a_malformed_field_is_left_at_its_default_and_named() -> None:
    read = stored.read(api.RemediationStatus, {"status": {"phase": "Bogus", "startedAt": "t"}})
    assert read.status.phase is None and read.status.started_at == "t"
    assert read.dropped == ("phase",) and not read.intact
    assert read.reason is not None and read.reason.startswith("phase:")


def test_a_malformed_list_entry_is_skipped_and_the_others_kept() -> None:
    body = {"status": {"outcomes": [OUTCOME, {"broken": True}, OUTCOME | {"fingerprint": "chatapp/m"}]}}
    read = stored.read(api.MaintenancePolicyStatus, body)
    assert [o.fingerprint for o in read.status.outcomes] == ["chatapp/q", "chatapp/m"]
    assert read.dropped == ("outcomes[1]",)


def test_a_status_that_is_not_an_object_reads_as_empty() -> None:
    read = stored.read(api.HealthAssessmentStatus, {"status": ["not", "an", "object"]})
    assert read.status == api.HealthAssessmentStatus() and read.dropped == ("status",)


def test_conditions_of_any_kind_read_alike() -> None:
    good = {"type": "Ready", "status": "True"}
    read = stored.read(
        stored.Conditions, {"status": {"conditions": [good, {"type": "X"}], "phase": "Active"}}
    )
    assert [c.type for c in read.status.conditions] == ["Ready"] and read.dropped == ("conditions[1]",)
