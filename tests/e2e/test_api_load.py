"""The client-side QPS/burst limit holds under the operator's full load against the real API server: many
policies due at once, the operator's own count of the calls it let through, the API server's count of
everything the operator's identity sent, and the in-flight and queued gauges on its /metrics. The API
server counts the identity through the chart's own FlowSchema and priority level (`apiPriority`), so the
test also shows that these take in every request of the operator, kopf's included."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from benchmarks import api_load

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hack"))
from tests.fixtures import helm

import chatapp_stack as stack_lib

pytestmark = [pytest.mark.e2e, helm.NEEDS_HELM]  # the chart renders the FlowSchema under test
ROOT = Path(__file__).resolve().parents[2]


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


def chart_flow_control(account: str, namespace: str) -> list[dict[str, Any]]:
    """The chart's FlowSchema and PriorityLevelConfiguration for this ServiceAccount (a unique release)."""
    release = f"apf-{uuid.uuid4().hex[:6]}"
    out = helm.helm(
        "template",
        release,
        str(helm.CHART),
        "--namespace",
        namespace,
        "--set",
        "apiPriority.enabled=true",
        "--set",
        f"serviceAccount.name={account}",
        "--show-only",
        "templates/apipriority.yaml",
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def test_api_calls_stay_within_qps_and_burst_under_full_load(
    stack: stack_lib.Stack, kube_api: Any, tmp_path: Path
) -> None:
    namespace = f"mo-api-load-{uuid.uuid4().hex[:6]}"
    try:
        result = api_load.measure(
            stack,
            namespace=namespace,
            work=tmp_path,
            policies=30,
            qps=5.0,
            burst=10,
            window=35.0,
            flow_control=chart_flow_control,
        )
    finally:
        stack_lib.delete_namespace(kube_api, namespace)
    print(result)
    log = (tmp_path / "operator.log").read_text(errors="replace")
    assert result["operator_alive"], log[-4000:]
    assert "Traceback" not in log, log[-4000:]
    # the load is real: the operator wanted more than the limit allows, so calls waited for tokens
    assert result["peak_api_queued"] >= 1, result
    assert result["throttle_wait_s_total"] > 0, result
    # ...and the limit held over every stretch of the run
    assert result["worst_window_excess"] <= result["lag_allowance"], result
    assert result["operator_calls_in_window"] <= result["bound_in_window"] + result["lag_allowance"], result
    # the API server saw every call the operator counted (and kopf's watches and patches besides), all of
    # them through the chart's FlowSchema into the chart's priority level, which the API server gave seats
    assert result["apiserver_requests_of_operator_identity"] >= result["operator_calls_total"] > 0, result
    assert result["flow_schema"].startswith("apf-") and result["priority_level"] == result["flow_schema"]
    assert result["priority_level_nominal_seats"] > 0, result
    # the operator's /metrics shows API calls and Prometheus queries in flight and queued
    assert set(result["gauges_exposed"]) == set(api_load.GAUGES), result
