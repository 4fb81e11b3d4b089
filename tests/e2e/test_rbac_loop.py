"""RBAC proved, not assumed: the operator runs with the chart's ServiceAccount token (not the admin
kubeconfig) and the remediation loop still works; writes outside what the chart grants are denied."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from tests.fixtures.helm import NEEDS_HELM

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hack"))
import chatapp_stack as stack_lib

pytestmark = [
    pytest.mark.e2e,
    NEEDS_HELM,
]
ROOT = Path(__file__).resolve().parents[2]


def test_loop_runs_with_the_charts_service_account(
    local_cluster: Any, namespace: str, kube_api: Any, sa_kubeconfig: Path, tmp_path: Path
) -> None:
    stack = stack_lib.Stack(
        kubeconfig=str(sa_kubeconfig),
        prometheus_url=local_cluster.prometheus_url,
        simulator_url=local_cluster.simulator_url,
        operator_metrics_port=local_cluster.operator_metrics_port,
    )
    stack_lib.prepare_leak_check(kube_api, stack, namespace)
    operator = stack_lib.OperatorProcess(
        stack,
        namespaces=[namespace],
        log_path=tmp_path / "operator.log",
        extra_env={"MAINTENANCE_OPERATOR_WEBHOOK_MODE": "none"},
    ).start()
    try:
        rem = stack_lib.leak_until_remediated(kube_api, stack, namespace, "rbac-check")
    finally:
        operator.stop()
        stack_lib.clear_faults(stack)
        stack_lib.delete_namespace(kube_api, namespace)
    log = (tmp_path / "operator.log").read_text(errors="replace")
    assert rem["status"]["phase"] == "Succeeded", rem["status"]
    assert [a["type"] for a in rem["spec"]["plan"]["actions"]] == ["RolloutRestart"]
    assert "Forbidden" not in log and " 403" not in log, log[-3000:]


def test_the_service_account_cannot_reach_beyond_its_grant(
    local_cluster: Any, namespace: str, kube_api: Any, sa_kubeconfig: Path
) -> None:
    api = config.new_client_from_config(config_file=str(sa_kubeconfig))
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    stack_lib.deploy_chatapp(kube_api, namespace)
    with pytest.raises(ApiException) as caught:
        apps.delete_namespaced_deployment("chatapp", namespace)
    assert caught.value.status == 403
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_secret(namespace)
    assert caught.value.status == 403
    with pytest.raises(ApiException) as caught:
        apps.patch_namespaced_deployment("coredns", "kube-system", {"spec": {"replicas": 3}})
    assert caught.value.status == 403
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_pod(
            namespace, {"metadata": {"name": "x"}, "spec": {"containers": [{"name": "x", "image": "x"}]}}
        )
    assert caught.value.status == 403
    # and what it needs works: patching the watched Deployment (server-side dry run)
    apps.patch_namespaced_deployment("chatapp", namespace, {"spec": {"replicas": 3}}, dry_run="All")
