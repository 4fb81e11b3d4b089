"""Sharded replicas on the local cluster: 3 operator processes split 300 policies by shard Leases.

Each policy is assessed by exactly one replica (the HealthAssessments name it); when one replica is
killed its shard is taken over within one Lease duration (plus a renewal), its policies keep being
assessed (a sample, on demand), assessments asked for while nobody held its shard are run by the new
owner, and a Remediation it was executing finishes on the new owner without executing twice. Policies
are cheap: one constant indicator, no analyses, offline planner, a 10 minute health check (the first
round is the test's load)."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from maintenance_operator.domain import sharding

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hack"))
import chatapp_stack as stack_lib

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
REPLICAS = 3
SHARDS = 3
LEASE_SECONDS = 15
NAMESPACES = 10
PER_NAMESPACE = 30
SAMPLE = 15
ASSESSED_BY = "maintenance.chatapp.io/assessed-by"
ADOPTED_BY = "maintenance.chatapp.io/adopted-by"
#: One cheap indicator: a constant, healthy (no scrape data needed, one instant query per assessment).
CHEAP_INDICATORS = [
    {"name": "constant", "dimension": "core", "query": "vector(0)", "warning": 1, "critical": 2, "for": "0s"}
]
#: No capacity, configuration or security analyses: only the scheduled assessments are under test.
NO_ANALYSES = {k: {"enabled": False} for k in ("capacity", "configAudit", "security")}


def cheap_policy(namespace: str, name: str, *, health_check: str = "10m") -> dict[str, Any]:
    body = stack_lib.demo_policy(
        namespace, schedule={"healthCheck": health_check, "performanceAnalysis": "1h"}
    )
    body["metadata"]["name"] = name
    body["spec"]["indicators"] = CHEAP_INDICATORS
    body["spec"]["analyses"] = NO_ANALYSES
    body["spec"]["historyLimit"] = 3
    return body


@pytest.fixture(scope="module")
def stack(local_cluster: Any, kubectl: Any) -> stack_lib.Stack:
    kubectl("apply", "-f", str(ROOT / "crds"))
    kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    return stack_lib.Stack(
        kubeconfig=str(local_cluster.kubeconfig),
        prometheus_url=local_cluster.prometheus_url,
        simulator_url=local_cluster.simulator_url,
        operator_metrics_port=local_cluster.operator_metrics_port,
    )


class Fleet:
    """The test's namespaces, the Lease prefix of its replicas, and the replicas themselves."""

    def __init__(self, stack: stack_lib.Stack, kube_api: Any, tmp_path: Path) -> None:
        run = uuid.uuid4().hex[:6]
        self.stack = stack
        self.api = kube_api
        self.namespaces = [f"mo-shard-{run}-{i}" for i in range(NAMESPACES)]
        self.lease_namespace = self.namespaces[0]
        self.prefix = f"mo-shard-{run}"
        self.tmp_path = tmp_path
        self.replicas: dict[str, stack_lib.OperatorProcess] = {}

    def start(self, name: str) -> None:
        env = {
            "POD_NAME": name,
            "MAINTENANCE_OPERATOR_WEBHOOK_MODE": "none",
            "MAINTENANCE_OPERATOR_METRICS_PORT": "0",
            "MAINTENANCE_OPERATOR_SHARDING_ENABLED": "true",
            "MAINTENANCE_OPERATOR_SHARDING_SHARDS": str(SHARDS),
            "MAINTENANCE_OPERATOR_SHARDING_LEASE_DURATION_SECONDS": str(LEASE_SECONDS),
            "MAINTENANCE_OPERATOR_SHARDING_LEASE_NAMESPACE": self.lease_namespace,
            "MAINTENANCE_OPERATOR_SHARDING_LEASE_PREFIX": self.prefix,
            "MAINTENANCE_OPERATOR_SCHEDULE_SPREAD_SECONDS": "20",
            "MAINTENANCE_OPERATOR_LOG_LEVEL": "INFO",
        }
        self.replicas[name] = stack_lib.OperatorProcess(
            self.stack, namespaces=[], log_path=self.tmp_path / f"{name}.log", extra_env=env
        ).start()

    def holders(self) -> dict[int, str | None]:
        leases = client.CoordinationV1Api(self.api)
        found: dict[int, str | None] = {}
        for shard in range(SHARDS):
            try:
                lease = leases.read_namespaced_lease(f"{self.prefix}-{shard}", self.lease_namespace)
                found[shard] = lease.spec.holder_identity or None
            except ApiException as exc:
                if exc.status != 404:
                    raise
                found[shard] = None
        return found


@pytest.fixture
def fleet(stack: stack_lib.Stack, kube_api: Any, tmp_path: Path) -> Iterator[Fleet]:
    found = Fleet(stack, kube_api, tmp_path)
    core = client.CoreV1Api(kube_api)
    for namespace in found.namespaces:
        core.create_namespace({"metadata": {"name": namespace}})
    try:
        yield found
    finally:
        for replica in found.replicas.values():
            replica.stop()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda ns: release_and_delete(kube_api, ns), found.namespaces))
        for name in found.replicas:
            log = (tmp_path / f"{name}.log").read_text(errors="replace")
            assert "Traceback" not in log, f"{name}: {log[-4000:]}"


def release_and_delete(api: Any, namespace: str) -> None:
    """Delete a namespace with no operator running: release only the finalizers that are set."""
    objects = client.CustomObjectsApi(api)
    for plural in ("remediations", "maintenancepolicies"):
        for item in stack_lib.items(api, plural, namespace):
            if item["metadata"].get("finalizers"):
                objects.patch_namespaced_custom_object(
                    stack_lib.GROUP,
                    stack_lib.VERSION,
                    namespace,
                    plural,
                    item["metadata"]["name"],
                    {"metadata": {"finalizers": None}},
                )
    client.CoreV1Api(api).delete_namespace(namespace)


def create_policies(fleet: Fleet) -> list[tuple[str, str]]:
    def one_namespace(namespace: str) -> list[tuple[str, str]]:
        made = []
        for j in range(PER_NAMESPACE):
            body = cheap_policy(namespace, f"p-{j:02d}")
            stack_lib.create(fleet.api, "maintenancepolicies", namespace, body)
            made.append((namespace, body["metadata"]["name"]))
        return made

    with ThreadPoolExecutor(4) as pool:
        return [key for keys in pool.map(one_namespace, fleet.namespaces[1:]) for key in keys]


def assessments(fleet: Fleet) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Finished assessments per policy, across the test's namespaces."""
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for namespace in fleet.namespaces:
        for item in stack_lib.items(fleet.api, "healthassessments", namespace):
            if (item.get("status") or {}).get("phase") not in stack_lib.ASSESSMENT_FINISHED:
                continue
            policy = item["spec"]["policyRef"]["name"]
            found.setdefault((namespace, policy), []).append(item)
    return found


def manual_restart(api: Any, namespace: str) -> str:
    name = f"restart-{uuid.uuid4().hex[:6]}"
    stack_lib.create(
        api,
        "remediations",
        namespace,
        {
            "kind": "Remediation",
            "metadata": {"name": name},
            "spec": {
                "policyRef": {"name": "chatapp"},
                "targetRef": {"name": "chatapp"},
                "issue": {
                    "fingerprint": f"manual{uuid.uuid4().hex[:10]}",
                    "title": "memory-usage (manual)",
                    "severity": "critical",
                    "category": "memory",
                    "dimension": "core",
                    "indicator": "memory-usage",
                },
                "plan": {
                    "actions": [{"type": "RolloutRestart"}],
                    "rationale": "restart to release memory",
                    "confidence": 9.0,
                },
            },
        },
    )
    return name


def test_three_replicas_split_300_policies_and_survive_losing_one(fleet: Fleet) -> None:
    api = fleet.api
    names = [f"replica-{i}" for i in range(REPLICAS)]
    for name in names:
        fleet.start(name)
    # the replicas settle on one shard each before any policy exists (a hand-over at start moves a shard)
    stack_lib.wait_for(
        lambda: sorted(str(h) for h in fleet.holders().values()) == names,
        timeout=90,
        what="one shard Lease per replica",
    )
    # the Chat App (a real Deployment) in the first namespace, for the remediation part
    app = fleet.namespaces[0]
    stack_lib.deploy_chatapp(api, app)
    stack_lib.wait_for(lambda: stack_lib.rolled_out(api, app), timeout=90, what="chatapp rollout")
    # the app's policy keeps the sample's indicators: the remediation's issue and verification use them
    app_policy = stack_lib.demo_policy(
        app, schedule={"healthCheck": "1h", "performanceAnalysis": "1h"}, analyses=NO_ANALYSES
    )
    stack_lib.create(api, "maintenancepolicies", app, app_policy)
    policies = create_policies(fleet)
    assert len(policies) == 270  # + 30 in the app namespace below
    policies += [(app, f"p-{j:02d}") for j in range(PER_NAMESPACE - 1)] + [(app, "chatapp")]
    for j in range(PER_NAMESPACE - 1):
        stack_lib.create(api, "maintenancepolicies", app, cheap_policy(app, f"p-{j:02d}"))
    assert len(policies) == 300

    # every policy is assessed, each by the one replica holding its shard
    stack_lib.wait_for(
        lambda: len(assessments(fleet)) >= len(policies) or None,
        timeout=420,
        interval=5,
        what="a finished assessment of every policy",
    )
    holders = fleet.holders()
    for (namespace, policy), found in assessments(fleet).items():
        by = {(a["metadata"].get("annotations") or {}).get(ASSESSED_BY) for a in found}
        owner = holders[sharding.shard_of(namespace, policy, shards=SHARDS)]
        assert by == {owner}, (namespace, policy, by, owner)

    # a remediation starts executing on the owner of the app policy's shard; that replica is killed
    app_shard = sharding.shard_of(app, "chatapp", shards=SHARDS)
    victim = str(holders[app_shard])
    replica_sets_before = len(client.AppsV1Api(api).list_namespaced_replica_set(app).items)
    remediation = manual_restart(api, app)
    stack_lib.wait_for(
        lambda: (
            (stack_lib.get(api, "remediations", app, remediation).get("status") or {}).get("phase")
            in ("Executing", "Verifying")
        ),
        timeout=90,
        interval=0.5,
        what="the remediation executing",
    )
    fleet.replicas[victim].kill()
    killed = time.time()
    orphans = {s for s, h in holders.items() if h == victim}
    moved = [p for p in policies if p[1] != "chatapp" and sharding.shard_of(*p, shards=SHARDS) in orphans]
    assert moved
    # assessments asked for while nobody runs the dead replica's shards (its Leases have not expired): the
    # survivors see them created but do not own them; the one taking the shard over must run them
    left = {
        key: stack_lib.request_assessment(api, key[0], f"orphan-{uuid.uuid4().hex[:6]}", policy=key[1])
        for key in moved[:3]
    }
    assert all(fleet.holders()[s] == victim for s in orphans), "taken over before the orphans existed"

    # its shard is taken over within one Lease duration (plus one renew period and polling)
    stack_lib.wait_for(
        lambda: all(fleet.holders()[s] not in (None, victim) for s in orphans),
        timeout=LEASE_SECONDS * 3,
        interval=0.5,
        what="the dead replica's shards taken over",
    )
    took = time.time() - killed
    assert took <= LEASE_SECONDS + LEASE_SECONDS / 3 + 3, took
    survivors = set(names) - {victim}
    assert set(fleet.holders().values()) <= survivors

    # the dead replica's policies keep being assessed, by a survivor (a sample, on demand: the schedule
    # of 10 minutes keeps the fleet's steady load below what this shared machine completes)
    sample = moved[:: max(1, len(moved) // SAMPLE)][:SAMPLE]
    requested = {
        key: stack_lib.request_assessment(api, key[0], f"after-kill-{uuid.uuid4().hex[:6]}", policy=key[1])
        for key in sample
    }

    # the remediation finishes on the new owner, executed once: one new ReplicaSet from one restart
    done = stack_lib.wait_for(
        lambda: (
            lambda r: r if (r.get("status") or {}).get("phase") in stack_lib.REMEDIATION_TERMINAL else None
        )(stack_lib.get(api, "remediations", app, remediation)),
        timeout=180,
        interval=2,
        what="the remediation to finish",
    )
    assert done["status"]["phase"] == "Succeeded", done["status"]
    replica_sets_after = len(client.AppsV1Api(api).list_namespaced_replica_set(app).items)
    assert replica_sets_after == replica_sets_before + 1

    def reassessed() -> bool:
        for (namespace, _), name in [*requested.items(), *left.items()]:
            found = stack_lib.get(api, "healthassessments", namespace, name)
            if (found.get("status") or {}).get("phase") not in stack_lib.ASSESSMENT_FINISHED:
                return False
            assert (found["metadata"].get("annotations") or {}).get(ASSESSED_BY) in survivors, found[
                "metadata"
            ]
        return True

    stack_lib.wait_for(reassessed, timeout=180, interval=5, what="the dead replica's policies assessed again")
    for (namespace, _), name in left.items():
        annotations = stack_lib.get(api, "healthassessments", namespace, name)["metadata"].get("annotations")
        assert (annotations or {}).get(ADOPTED_BY) in survivors, annotations
