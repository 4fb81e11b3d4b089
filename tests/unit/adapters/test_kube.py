"""The cluster-free parts of adapters/kube.py (the rest runs in tests/e2e/test_kube_adapter.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maintenance_operator.adapters import kube

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def test_restart_marker_is_rfc3339_seconds_like_kubectl() -> None:
    assert kube.restart_marker(NOW + timedelta(microseconds=5)) == "2030-01-01T12:00:00Z"


@pytest.mark.parametrize(
    ("spec", "after", "expired"),
    [
        ({"renewTime": "2030-01-01T12:00:00.000000Z", "leaseDurationSeconds": 30}, 29, False),
        ({"renewTime": "2030-01-01T12:00:00.000000Z", "leaseDurationSeconds": 30}, 30, True),
        ({"acquireTime": "2030-01-01T12:00:00.000000Z", "leaseDurationSeconds": 30}, 10, False),
        ({"leaseDurationSeconds": 30}, 0, True),
    ],
)
def test_lease_expiry(spec: dict[str, object], after: int, expired: bool) -> None:
    assert kube._expired({"spec": spec}, NOW + timedelta(seconds=after)) is expired


def test_diff_names_the_object_and_the_change() -> None:
    diff = kube._diff("Deployment", "chatapp", {"replicas": 2}, {"replicas": 3})
    assert "Deployment/chatapp (live)" in diff
    assert '-  "replicas": 2' in diff and '+  "replicas": 3' in diff
    assert kube._diff("ConfigMap", "c", {"a": "1"}, {"a": "1"}) == ""


def test_actions_that_need_a_marker_refuse_none() -> None:
    with pytest.raises(ValueError, match="marker"):
        kube._need(None)
