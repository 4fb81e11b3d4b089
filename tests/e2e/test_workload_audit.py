"""adapters/workload.py and the audits against the real local cluster (as admin and as the chart)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.adapters import workload
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import config_audit, security_audit
from maintenance_operator.handlers import analyses
from maintenance_operator.reconcilers import audit

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
NAME = "chatapp"
LABELS = {"app.kubernetes.io/name": "chatapp"}
# Known misconfigurations: one replica, no probes, no memory limit, :latest, runs as root, secret in env.
MISCONFIGURED: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": NAME, "labels": LABELS},
    "spec": {
        "replicas": 1,
        "progressDeadlineSeconds": 300,
        "selector": {"matchLabels": LABELS},
        "template": {
            "metadata": {"labels": LABELS},
            "spec": {
                "topologySpreadConstraints": [
                    {
                        "maxSkew": 1,
                        "topologyKey": "kubernetes.io/hostname",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": LABELS},
                    }
                ],
                "containers": [
                    {
                        "name": "app",
                        "image": "chatapp:latest",
                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                        "env": [
                            {
                                "name": "DB_PASSWORD",
                                "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}},
                            }
                        ],
                    }
                ],
            },
        },
    },
}
EXPECTED_CONFIG = {
    ("memory-limits", "app"),
    ("readiness-probe", "app"),
    ("liveness-probe", "app"),
    ("image-tag", "app"),
    ("replicas", "deployment"),
}


@pytest.fixture
def reader(kube_api: Any, namespace: str) -> workload.WorkloadReader:
    client.AppsV1Api(kube_api).create_namespaced_deployment(namespace, MISCONFIGURED)
    return workload.WorkloadReader(kube_api, namespace=namespace, name=NAME)


async def config_result(reader: workload.WorkloadReader) -> config_audit.AuditResult:
    deployment = await reader.deployment()
    return config_audit.audit(deployment, has_pdb=await reader.has_pdb(deployment))


async def test_misconfigured_deployment_gets_exactly_the_expected_findings_and_fixing_one_raises_the_score(
    reader: workload.WorkloadReader, kube_api: Any, namespace: str
) -> None:
    before = await config_result(reader)
    assert {(f.check, f.subject) for f in before.findings} == EXPECTED_CONFIG
    assert before.score == 4.6  # failed weight 2+3+2+3+2 = 12 of 20 (no pdb check at 1 replica): 1 + 9 x 8/20
    probe = {"httpGet": {"path": "/ready", "port": 8080}}
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "readinessProbe": probe}]}}}}
    await asyncio.to_thread(client.AppsV1Api(kube_api).patch_namespaced_deployment, NAME, namespace, patch)
    after = await config_result(reader)
    assert {(f.check, f.subject) for f in after.findings} == EXPECTED_CONFIG - {("readiness-probe", "app")}
    assert after.score > before.score


async def test_pdb_and_hpa_are_found_only_when_they_select_the_target(
    reader: workload.WorkloadReader, kube_api: Any, namespace: str
) -> None:
    deployment = await reader.deployment()
    assert not await reader.has_pdb(deployment) and await reader.hpa_max_replicas() is None
    policy_api = client.PolicyV1Api(kube_api)
    other: Any = {
        "metadata": {"name": "other"},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"a": "b"}}},
    }
    policy_api.create_namespaced_pod_disruption_budget(namespace, other)
    assert not await reader.has_pdb(deployment)
    mine: Any = {
        "metadata": {"name": "mine"},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": LABELS}},
    }
    policy_api.create_namespaced_pod_disruption_budget(namespace, mine)
    assert await reader.has_pdb(deployment)
    hpa: Any = {
        "metadata": {"name": NAME},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": NAME},
            "minReplicas": 2,
            "maxReplicas": 7,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        },
    }
    client.AutoscalingV2Api(kube_api).create_namespaced_horizontal_pod_autoscaler(namespace, hpa)
    assert await reader.hpa_max_replicas() == 7


async def test_risky_permissions_of_the_service_account(
    reader: workload.WorkloadReader, kube_api: Any, namespace: str
) -> None:
    core, rbac = client.CoreV1Api(kube_api), client.RbacAuthorizationV1Api(kube_api)
    account: Any = {"metadata": {"name": "chat"}}
    core.create_namespaced_service_account(namespace, account)
    assert await reader.risky_permissions("chat") == []
    role: Any = {
        "metadata": {"name": "leaky"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}],
    }
    rbac.create_namespaced_role(namespace, role)
    binding: Any = {
        "metadata": {"name": "leaky"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "leaky"},
        "subjects": [{"kind": "ServiceAccount", "name": "chat", "namespace": namespace}],
    }
    rbac.create_namespaced_role_binding(namespace, binding)
    # the API server's RBAC authorizer learns of a new binding through its own watch: allow it a moment
    found = await reader.risky_permissions("chat")
    deadline = time.monotonic() + 10
    while found != ["list secrets"] and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        found = await reader.risky_permissions("chat")
    assert found == ["list secrets"]


def trivy_crd_dir() -> str:
    out = subprocess.run(
        [str(ROOT / "hack" / "cluster" / "trivy-crds.sh")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def vulnerability_report(replica_set: str) -> dict[str, Any]:
    def vuln(cve: str, severity: str, published: str) -> dict[str, Any]:
        return {
            "vulnerabilityID": cve,
            "severity": severity,
            "resource": "openssl",
            "installedVersion": "3.0.0",
            "fixedVersion": "3.0.9",
            "publishedDate": published,
            "lastModifiedDate": published,
            "title": cve,
        }

    return {
        "apiVersion": "aquasecurity.github.io/v1alpha1",
        "kind": "VulnerabilityReport",
        "metadata": {
            "name": f"replicaset-{replica_set}-app",
            "labels": {
                "trivy-operator.resource.kind": "ReplicaSet",
                "trivy-operator.resource.name": replica_set,
                "trivy-operator.container.name": "app",
            },
        },
        "report": {
            "artifact": {"repository": "chatapp", "tag": "latest"},
            "os": {"family": "debian", "name": "12"},
            "registry": {"server": "index.docker.io"},
            "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "0.57.0"},
            "summary": {
                "criticalCount": 1,
                "highCount": 1,
                "mediumCount": 0,
                "lowCount": 0,
                "unknownCount": 0,
            },
            "updateTimestamp": "2030-01-01T00:00:00Z",
            "vulnerabilities": [
                vuln("CVE-2020-0001", "CRITICAL", "2020-01-01T00:00:00Z"),
                vuln("CVE-2099-0002", "HIGH", "2099-01-01T00:00:00Z"),
            ],
        },
    }


async def test_vulnerability_reports_absent_then_overdue_critical(
    reader: workload.WorkloadReader, kube_api: Any, kubectl: Any, namespace: str
) -> None:
    deployment = await reader.deployment()
    kubectl(
        "delete", "crd", "vulnerabilityreports.aquasecurity.github.io", "--ignore-not-found", "--wait=true"
    )
    assert await reader.vulnerabilities(deployment) is None
    result = security_audit.audit(deployment, vulnerabilities=None, now=0)
    assert "not installed" in result.scanner_note
    kubectl("apply", "--server-side", "-f", trivy_crd_dir())
    kubectl(
        "wait",
        "--for=condition=Established",
        "crd/vulnerabilityreports.aquasecurity.github.io",
        "--timeout=30s",
    )
    custom = client.CustomObjectsApi(kube_api)
    for rs in (f"{NAME}-5d9f8c7b6", "unrelated-5d9f8c7b6"):
        report: Any = vulnerability_report(rs)
        for _ in range(50):  # the new CRD's endpoint takes a moment to serve
            try:
                custom.create_namespaced_custom_object(
                    "aquasecurity.github.io", "v1alpha1", namespace, "vulnerabilityreports", report
                )
                break
            except client.ApiException as exc:
                if exc.status != 404:
                    raise
                await asyncio.sleep(0.2)
    vulns = await reader.vulnerabilities(deployment)
    assert vulns is not None and sorted(v.id for v in vulns) == ["CVE-2020-0001", "CVE-2099-0002"]
    now = 1_900_000_000.0  # 2030: the 2020 critical is years past 24 h, the 2099 high is not yet due
    result = security_audit.audit(deployment, vulnerabilities=vulns, now=now)
    assert [(f.check, f.severity, f.subject) for f in result.findings if f.check == "vuln-overdue"] == [
        ("vuln-overdue", "critical", "CVE-2020-0001")
    ]
    assert result.vulnerability_counts == {"critical": 1, "high": 1, "medium": 0, "low": 0}
    # Through the reconciler, with the real reader: the overdue critical becomes a critical Issue.
    spec = api.MaintenancePolicySpec.model_validate(
        {
            "targetRef": {"name": NAME},
            "indicators": [{"name": "e", "dimension": "core", "query": "up", "warning": 1, "critical": 2}],
        }
    )
    report = await audit.run_security_review(spec=spec, target=reader, now=now)
    assert report.overdue_vulnerabilities == 1 and report.message == ""
    [issue] = audit.security_issues(report, target=NAME, checks=["vuln-overdue"])
    assert issue.severity is api.Severity.CRITICAL and "CVE-2020-0001" in issue.title


async def test_chart_service_account_reads_everything_the_audits_need(
    reader: workload.WorkloadReader, sa_kubeconfig: Path, namespace: str, kube_api: Any
) -> None:
    api = config.new_client_from_config(config_file=str(sa_kubeconfig))
    try:
        as_operator = workload.WorkloadReader(api, namespace=namespace, name=NAME)
        deployment = await as_operator.deployment()
        assert not await as_operator.has_pdb(deployment)
        assert await as_operator.hpa_max_replicas() is None
        assert await as_operator.config_map_data("absent") is None
        assert await as_operator.risky_permissions("default") == []
        crd_installed = bool(
            client.ApiextensionsV1Api(kube_api)
            .list_custom_resource_definition(
                field_selector="metadata.name=vulnerabilityreports.aquasecurity.github.io"
            )
            .items
        )
        assert (await as_operator.vulnerabilities(deployment) is None) is not crd_installed
        # Still no broad read: Secrets stay out of reach.
        with pytest.raises(client.ApiException) as denied:
            client.CoreV1Api(api).list_namespaced_secret(namespace)
        assert denied.value.status == 403
    finally:
        api.close()


def test_kubectl_plugin_prints_the_reports(local_cluster: Any, kubectl: Any, namespace: str) -> None:
    kubectl("apply", "--server-side", "-f", str(ROOT / "crds"))
    policy = {
        "apiVersion": "maintenance.chatapp.io/v1alpha1",
        "kind": "MaintenancePolicy",
        "metadata": {"name": "shop", "namespace": namespace},
        "spec": {
            "targetRef": {"name": NAME},
            "indicators": [
                {"name": "errors", "dimension": "core", "query": "up", "warning": 0.5, "critical": 0.9}
            ],
        },
    }
    kubectl("create", "-f", "-", input=json.dumps(policy))
    report = config_audit.audit(MISCONFIGURED, has_pdb=False)
    status = {
        "status": {
            "configAudit": {
                "analyzedAt": "2030-01-01T00:00:00Z",
                "score": report.score,
                "findingCount": len(report.findings),
                "findings": [dataclasses.asdict(f) for f in report.findings],
            },
            "capacity": {
                "analyzedAt": "2030-01-01T00:00:00Z",
                "sufficient": False,
                "message": "analyses.capacity.loadQuery is not set",
            },
        }
    }
    kubectl(
        "patch",
        "mpol",
        "shop",
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps(status),
    )
    env = {**os.environ, "KUBECONFIG": str(local_cluster.kubeconfig)}
    plugin = str(ROOT / "hack" / "kubectl-maintenance")

    def run(*args: str) -> str:
        return subprocess.run(
            [plugin, *args], capture_output=True, text=True, timeout=60, check=True, env=env
        ).stdout

    audit_text = run("audit", "shop", "-n", namespace)
    assert f"Configuration: score {report.score}/10, 5 findings" in audit_text
    assert "readiness-probe" in audit_text and "Security: not run yet" in audit_text
    capacity_text = run("capacity", "shop", "-n", namespace)
    assert "no recommendation: analyses.capacity.loadQuery is not set" in capacity_text


async def test_analyses_tick_reports_are_accepted_by_the_policy_status_schema(
    reader: workload.WorkloadReader, local_cluster: Any, kubectl: Any, namespace: str
) -> None:
    kubectl("apply", "--server-side", "-f", str(ROOT / "crds"))
    growth = "(1 + (time() - 1.7e9) / 8.64e6)"
    body = {
        "apiVersion": "maintenance.chatapp.io/v1alpha1",
        "kind": "MaintenancePolicy",
        "metadata": {"name": "shop", "namespace": namespace},
        "spec": {
            "targetRef": {"name": NAME},
            "indicators": [
                {"name": "errors", "dimension": "core", "query": "up", "warning": 0.5, "critical": 0.9}
            ],
            "actions": {"scale": {"enabled": True, "max": 4}},
            "analyses": {
                "capacity": {
                    "window": "48h",
                    "step": "1h",
                    "loadQuery": f"vector(100 * {growth})",
                    "healthyQuery": "vector(1)",
                    "replicasQuery": "vector(2)",
                }
            },
        },
    }
    kubectl("create", "-f", "-", input=json.dumps(body))
    spec = api.MaintenancePolicySpec.model_validate(body["spec"])

    async def prometheus() -> prom.HttpPrometheus:
        return prom.HttpPrometheus(local_cluster.prometheus_url, timeout=10)

    outcome = await analyses.run_due(
        policy=spec,
        status=api.MaintenancePolicyStatus(),
        name="shop",
        namespace=namespace,
        target=reader,
        prometheus=prometheus,
        now=time.time(),
    )
    assert outcome.failed == [] and set(outcome.status) == {"capacity", "configAudit", "security"}
    assert outcome.status["capacity"]["sufficient"] is True
    assert any(not row["allowed"] for row in outcome.status["capacity"]["scenarios"])  # scale.max 4
    kubectl(
        "patch",
        "mpol",
        "shop",
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": outcome.status}),
    )
    stored = json.loads(kubectl("get", "mpol", "shop", "-n", namespace, "-o", "json").stdout)["status"]
    assert stored["configAudit"]["score"] == outcome.status["configAudit"]["score"] == 4.6
    assert stored["capacity"]["scenarios"] == outcome.status["capacity"]["scenarios"]
    wide = kubectl("get", "mpol", "shop", "-n", namespace, "-o", "wide").stdout
    assert "4.6" in wide and "CONFIG" in wide
