from __future__ import annotations

import copy
from typing import Any

import pytest

from maintenance_operator.domain import rollout


def deployment(**changes: Any) -> dict[str, Any]:
    """A Deployment that finished rolling out revision 3 with 4 replicas."""
    body: dict[str, Any] = {
        "metadata": {
            "name": "chatapp",
            "namespace": "prod",
            "generation": 5,
            "annotations": {rollout.REVISION_ANNOTATION: "3"},
        },
        "spec": {
            "replicas": 4,
            "template": {
                "metadata": {
                    "labels": {"app": "chatapp"},
                    "annotations": {rollout.RESTARTED_AT_ANNOTATION: "t1"},
                },
                "spec": {"containers": [{"name": "chatapp", "image": "chatapp:1.0"}]},
            },
        },
        "status": {
            "observedGeneration": 5,
            "replicas": 4,
            "updatedReplicas": 4,
            "readyReplicas": 4,
            "availableReplicas": 4,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ],
        },
    }
    for path, value in changes.items():
        node = body
        *parents, leaf = path.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return body


def test_done() -> None:
    state = rollout.rollout_state(deployment())
    assert state.done and not state.failed
    assert "successfully rolled out" in state.message


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"status__observedGeneration": 4}, "spec update to be observed"),
        ({"status__updatedReplicas": 2}, "2 out of 4 new replicas have been updated"),
        ({"status__replicas": 5}, "1 old replicas are pending termination"),
        ({"status__availableReplicas": 3}, "3 of 4 updated replicas are available"),
        ({"status": None}, "spec update to be observed"),
    ],
)
def test_not_done(changes: dict[str, Any], needle: str) -> None:
    state = rollout.rollout_state(deployment(**changes))
    assert not state.done and not state.failed
    assert needle in state.message


def test_progress_deadline_exceeded_is_failed() -> None:
    stuck = deployment(
        status__conditions=[{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}],
        status__updatedReplicas=2,
    )
    state = rollout.rollout_state(stuck)
    assert state.failed and not state.done
    assert "exceeded its progress deadline" in state.message


def test_unset_replicas_default_to_one() -> None:
    body = deployment(
        spec__replicas=None, status__replicas=1, status__updatedReplicas=1, status__availableReplicas=1
    )
    assert rollout.rollout_state(body).done
    assert rollout.snapshot(body, has_hpa=False).replicas == 1


def test_snapshot_of_a_healthy_deployment() -> None:
    snap = rollout.snapshot(deployment(), has_hpa=True)
    assert snap.name == "chatapp" and snap.namespace == "prod"
    assert (snap.replicas, snap.available_replicas, snap.updated_replicas) == (4, 4, 4)
    assert snap.ready and snap.rollout_done and not snap.progress_deadline_exceeded
    assert snap.revision == 3
    assert snap.restarted_at == "t1"
    assert snap.has_hpa and not snap.argo_managed and not snap.paused
    assert (snap.generation, snap.observed_generation) == (5, 5)
    # Defaults: RollingUpdate 25% / 25% of 4 replicas.
    assert (snap.strategy, snap.max_unavailable, snap.max_surge) == ("RollingUpdate", 1, 1)
    assert [c.type for c in snap.conditions] == ["Available", "Progressing"]


def test_snapshot_not_ready_while_replicas_are_missing() -> None:
    snap = rollout.snapshot(deployment(status__availableReplicas=3), has_hpa=False)
    assert not snap.ready and not snap.rollout_done


def test_snapshot_tolerates_a_malformed_revision_and_paused() -> None:
    body = deployment(metadata__annotations={rollout.REVISION_ANNOTATION: "x"}, spec__paused=True)
    snap = rollout.snapshot(body, has_hpa=False)
    assert snap.revision is None and snap.paused


@pytest.mark.parametrize(
    ("strategy", "replicas", "expected"),
    [
        ({"type": "Recreate"}, 4, ("Recreate", 4, 0)),
        (
            {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "50%", "maxSurge": "10%"}},
            5,
            ("RollingUpdate", 2, 1),
        ),
        ({"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 2}}, 3, ("RollingUpdate", 0, 2)),
        ({"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}}, 3, ("RollingUpdate", 1, 0)),
        ({}, 1, ("RollingUpdate", 0, 1)),
    ],
)
def test_strategy_bounds(strategy: dict[str, Any], replicas: int, expected: tuple[str, int, int]) -> None:
    snap = rollout.snapshot(deployment(spec__strategy=strategy, spec__replicas=replicas), has_hpa=False)
    assert (snap.strategy, snap.max_unavailable, snap.max_surge) == expected


@pytest.mark.parametrize(
    ("metadata", "label_tracking", "expected"),
    [
        (
            {"annotations": {rollout.ARGOCD_TRACKING_ANNOTATION: "app:apps/Deployment:prod/chatapp"}},
            False,
            True,
        ),
        ({"annotations": {"argocd.argoproj.io/sync-options": "Prune=false"}}, False, True),
        ({"labels": {"argocd.argoproj.io/instance": "chatapp"}}, False, True),
        ({"labels": {rollout.INSTANCE_LABEL: "chatapp"}}, False, False),
        ({"labels": {rollout.INSTANCE_LABEL: "chatapp"}}, True, True),
        ({}, True, False),
    ],
)
def test_argo_detection(metadata: dict[str, Any], label_tracking: bool, expected: bool) -> None:
    assert rollout.is_argo_managed(metadata, label_tracking=label_tracking) is expected
    body = deployment()
    body["metadata"].update(metadata)
    assert rollout.snapshot(body, has_hpa=False, argo_label_tracking=label_tracking).argo_managed is expected


def test_template_equal_ignoring_hash() -> None:
    template = deployment()["spec"]["template"]
    hashed = copy.deepcopy(template)
    hashed["metadata"]["labels"]["pod-template-hash"] = "abc123"
    assert rollout.template_equal_ignoring_hash(template, hashed)
    assert "pod-template-hash" in hashed["metadata"]["labels"]  # inputs are not modified
    other = copy.deepcopy(hashed)
    other["spec"]["containers"][0]["image"] = "chatapp:2.0"
    assert not rollout.template_equal_ignoring_hash(template, other)


def test_template_equality_treats_empty_maps_as_absent() -> None:
    a = {"metadata": {"labels": {"app": "x"}, "annotations": {}}, "spec": {"containers": []}}
    b = {"metadata": {"labels": {"app": "x", "pod-template-hash": "h"}}, "spec": {}}
    assert rollout.template_equal_ignoring_hash(a, b)


def test_strip_template_hash_without_labels() -> None:
    assert rollout.strip_template_hash({"spec": {}}) == {"spec": {}}


def test_replica_set_revisions_include_history() -> None:
    rs = {
        "metadata": {
            "annotations": {rollout.REVISION_ANNOTATION: "7", rollout.REVISION_HISTORY_ANNOTATION: "1,4"}
        }
    }
    assert rollout.replica_set_revisions(rs) == {1, 4, 7}
    assert rollout.replica_set_revisions({"metadata": {}}) == set()


@pytest.mark.parametrize(("value", "expected"), [("3", 3), (None, None), ("x", None), (5, 5)])
def test_parse_revision(value: Any, expected: int | None) -> None:
    assert rollout.parse_revision(value) == expected
