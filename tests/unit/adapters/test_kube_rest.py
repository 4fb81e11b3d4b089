"""adapters/kube_rest.py: what the idle operator imports (calls against a real API server are in
tests/e2e/test_kube_rest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kubernetes import client

from maintenance_operator.adapters import kube_rest

OPERATOR = Path(__file__).resolve().parents[3] / "operator"

# The operator's modules and every adapter an assessment or audit builds, without a network call.
IDLE = """
import json, sys
import maintenance_operator.operator_main, maintenance_operator.handlers
from kubernetes import client
from maintenance_operator import runtime
from maintenance_operator.adapters import crs
from maintenance_operator.config import OperatorConfig

api_client = client.ApiClient(client.Configuration())
resources = crs.CustomResources(api_client)
operator = runtime.Runtime(config=OperatorConfig.from_env({}), api_client=api_client, resources=resources)
operator.target(namespace="ns", name="app")
operator.workload(namespace="ns", name="app")
operator.lock(namespace="ns", deployment="app", holder="me")
print(json.dumps(sorted(sys.modules)))
"""


@pytest.fixture(scope="module")
def idle_modules() -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", IDLE],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(OPERATOR)},
        timeout=120,
    ).stdout
    modules: list[str] = json.loads(out)
    return modules


@pytest.mark.parametrize(
    "module",
    [
        "kubernetes.client.api.core_v1_api",  # 250 pydantic models, ≈20 MB
        "kubernetes.client.api.apps_v1_api",
        "kubernetes.client.api.autoscaling_v2_api",
        "anthropic",  # the offline planner is the default
        "maintenance_operator.render.html",  # the report CLI only
        "maintenance_operator.render.markdown",
    ],
)
def test_the_idle_operator_does_not_import(idle_modules: list[str], module: str) -> None:
    assert module not in idle_modules


def test_the_idle_operator_loads_a_handful_of_kubernetes_models(idle_modules: list[str]) -> None:
    models = [m for m in idle_modules if m.startswith("kubernetes.client.models.")]
    assert "maintenance_operator.adapters.kube_rest" in idle_modules
    assert len(models) < 20, models


def test_a_decoded_answer_is_refused_before_any_request() -> None:
    api_client = client.ApiClient(client.Configuration(host="http://127.0.0.1:9"))  # nothing listens
    with pytest.raises(ValueError, match="undecoded"):
        kube_rest.CoreV1(api_client).read_namespaced_secret("s", "ns", _preload_content=True)
