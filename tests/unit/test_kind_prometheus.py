"""The kind cluster's Prometheus (hack/kind/manifests/prometheus.yaml) scrapes the Pods the chart makes: the
Chat App's and the operator's own, whose health scores are the history a MaintenanceReport charts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "hack" / "kind" / "manifests" / "prometheus.yaml"
OPERATOR = ROOT / "deploy" / "40-deployment.yaml"


def scrape_jobs() -> dict[str, dict[str, Any]]:
    [config_map] = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d and d["kind"] == "ConfigMap"]
    config = yaml.safe_load(config_map["data"]["prometheus.yml"])
    return {job["job_name"]: job for job in config["scrape_configs"]}


def kept(job: dict[str, Any], source: str) -> str:
    [rule] = [
        r for r in job["relabel_configs"] if r.get("action") == "keep" and r["source_labels"] == [source]
    ]
    return str(rule["regex"])


def test_the_operator_job_keeps_the_pod_and_port_the_chart_renders() -> None:
    [deployment] = [d for d in yaml.safe_load_all(OPERATOR.read_text()) if d and d["kind"] == "Deployment"]
    template = deployment["spec"]["template"]
    ports = {p["name"] for c in template["spec"]["containers"] for p in c.get("ports", [])}
    job = scrape_jobs()["maintenance-operator"]
    name = kept(job, "__meta_kubernetes_pod_label_app_kubernetes_io_name")
    port = kept(job, "__meta_kubernetes_pod_container_port_name")
    assert re.fullmatch(name, template["metadata"]["labels"]["app.kubernetes.io/name"])
    assert any(re.fullmatch(port, p) for p in ports) and not re.fullmatch(port, "webhook")


def test_the_operator_job_keeps_the_policy_namespace_the_scores_are_labelled_with() -> None:
    job = scrape_jobs()["maintenance-operator"]
    assert job["honor_labels"] is True
    targets = {r.get("target_label") for r in job["relabel_configs"]}
    assert "namespace" not in targets and {"operator_namespace", "operator_pod"} <= targets


def test_the_chatapp_job_is_kept() -> None:
    job = scrape_jobs()["chatapp"]
    assert kept(job, "__meta_kubernetes_pod_label_app_kubernetes_io_name") == "chatapp"
