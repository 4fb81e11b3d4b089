"""`make demo` on kind (hack/demo_kind.py): each fault's row in benchmarks/results/demo.json has the same
keys as the local path's (detected / executing / done after injection), and a fault counts as handled only
when the operator did what it should."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hack"))
import demo_kind
import kind_faults


def test_a_row_has_the_local_demos_keys_and_the_time_it_was_verified() -> None:
    result = demo_kind.Result(kind_faults.MEMORY_LEAK, action="RolloutRestart", outcome="Succeeded")
    result.marks = {"breach": 22.5, "detected": 24.6, "executing": 29.7, "verifying": 43.6, "verified": 94.3}
    row = result.row()
    assert {"fault", "action", "outcome", "detect_seconds", "act_seconds", "done_seconds"} <= set(row)
    assert (row["detect_seconds"], row["act_seconds"], row["done_seconds"]) == (24.6, 29.7, 94.3)
    assert row["fault"] == "memory leak" and row["recovered_seconds"] is None


def test_an_escalation_is_done_when_escalated_and_never_executing() -> None:
    result = demo_kind.Result(kind_faults.LLM_OUTAGE, action="Escalate", outcome="Escalated")
    result.marks = {"breach": 10.3, "detected": 11.4, "escalated": 12.7}
    assert result.row()["done_seconds"] == 12.7
    assert result.row()["act_seconds"] is None
    assert result.expected()


@pytest.mark.parametrize(
    ("fault", "outcome", "handled"),
    [
        (kind_faults.MEMORY_LEAK, "Succeeded", True),
        (kind_faults.MEMORY_LEAK, "RolledBack", False),
        (kind_faults.BAD_RELEASE, "not detected", False),
        (kind_faults.LLM_OUTAGE, "Succeeded", True),
        (kind_faults.LLM_OUTAGE, "Failed", False),
        (kind_faults.CONFIG_CORRUPTION, "timeout", False),
    ],
)
def test_a_fault_is_handled_only_by_the_expected_outcome(
    fault: kind_faults.Fault, outcome: str, handled: bool
) -> None:
    assert demo_kind.Result(fault, outcome=outcome).expected() is handled
