"""Custom-resource helpers that need no API server."""

from __future__ import annotations

import pytest

from maintenance_operator.adapters import crs
from maintenance_operator.api import v1alpha1 as api


def test_owner_reference_to_a_policy_read_without_kind() -> None:
    body = {"metadata": {"name": "chat", "uid": "u-1", "namespace": "shop"}}
    ref = crs.owner_reference(body, kind="MaintenancePolicy")
    assert ref == {
        "apiVersion": api.API_VERSION,
        "kind": "MaintenancePolicy",
        "name": "chat",
        "uid": "u-1",
        "controller": True,
        "blockOwnerDeletion": False,
    }


def test_owner_reference_keeps_the_body_kind_and_version() -> None:
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "chat", "uid": "u-2"}}
    ref = crs.owner_reference(body, controller=False)
    assert (ref["apiVersion"], ref["kind"], ref["controller"]) == ("apps/v1", "Deployment", False)


def test_owner_reference_needs_a_uid() -> None:
    with pytest.raises(KeyError):
        crs.owner_reference({"kind": "MaintenancePolicy", "metadata": {"name": "chat"}})
