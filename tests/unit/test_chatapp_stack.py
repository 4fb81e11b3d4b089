"""hack/chatapp_stack.py's phase sets (what the demo, benchmarks and e2e tests wait for) are the operator's
own."""

from __future__ import annotations

import sys
from pathlib import Path

from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import machine

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hack"))
import chatapp_stack as stack_lib


def test_finished_assessment_phases_are_the_operators() -> None:
    assert {p.value for p in machine.ASSESSMENT_FINISHED} == stack_lib.ASSESSMENT_FINISHED


def test_terminal_remediation_phases_are_the_operators() -> None:
    assert {p.value for p in api.TERMINAL_PHASES} == stack_lib.REMEDIATION_TERMINAL
