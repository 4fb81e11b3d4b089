"""The Helm chart: lint, render with default and full values, and check what it grants and how it runs."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures import tools
from tests.fixtures.helm import CHART, HELM, NEEDS_HELM, REPO, Manifest, helm, of_kind, one, render

FULL_VALUES = Path(__file__).with_name("full-values.yaml")
pytestmark = NEEDS_HELM


def operator_rules(docs: Manifest) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(role, rule) for every Role/ClusterRole bound to the operator (not the human-facing ones)."""
    for role in of_kind(docs, "ClusterRole") + of_kind(docs, "Role"):
        if role["metadata"]["name"].startswith("maintenance-"):
            continue
        for rule in role.get("rules") or []:
            yield role, rule


def grants(rule: dict[str, Any], group: str, resource: str, verb: str) -> bool:
    return (
        (group in rule.get("apiGroups", []) or "*" in rule.get("apiGroups", []))
        and (resource in rule.get("resources", []) or "*" in rule.get("resources", []))
        and (verb in rule.get("verbs", []) or "*" in rule.get("verbs", []))
    )


@pytest.fixture(scope="module")
def default() -> Manifest:
    return render()


@pytest.fixture(scope="module")
def full() -> Manifest:
    return render("-f", str(FULL_VALUES))


@pytest.mark.parametrize("values", [[], ["-f", str(FULL_VALUES)]], ids=["default", "full"])
def test_lint(values: list[str]) -> None:
    helm("lint", "--strict", str(CHART), *values)


def test_default_objects(default: Manifest) -> None:
    kinds = sorted(d["kind"] for d in default)
    assert kinds == sorted(
        ["ServiceAccount", "Deployment", "Service", "Service", "ConfigMap", "Secret", "Secret"]
        + ["ClusterRole"] * 4
        + ["ClusterRoleBinding"] * 2
        + ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"]
    )
    assert all(d["metadata"].get("namespace") in (None, "ops") for d in default)


def test_full_objects(full: Manifest) -> None:
    kinds = {d["kind"] for d in full}
    assert kinds >= {
        "ServiceMonitor",
        "PrometheusRule",
        "NetworkPolicy",
        "Certificate",
        "Issuer",
        "ConfigMap",
        "Role",
        "RoleBinding",
    }
    secrets = [d["metadata"]["name"] for d in of_kind(full, "Secret")]
    assert secrets == ["mo-maintenance-operator-alert-receiver"], (
        "cert-manager owns the webhook Secret, approvalKey.existingSecret the key"
    )
    assert one(full, "ConfigMap")["metadata"]["namespace"] == "monitoring"


# RBAC


@pytest.mark.parametrize("docs_name", ["default", "full"])
def test_operator_rbac_is_least_privilege(docs_name: str, request: pytest.FixtureRequest) -> None:
    docs: Manifest = request.getfixturevalue(docs_name)
    rules = list(operator_rules(docs))
    assert rules
    for role, rule in rules:
        where = f"{role['kind']}/{role['metadata']['name']}: {rule}"
        assert "*" not in rule.get("verbs", []) + rule.get("resources", []) + rule.get("apiGroups", []), where
        for verb in ("delete", "create", "update", "deletecollection"):
            assert not grants(rule, "apps", "deployments", verb), where
        assert not grants(rule, "apps", "replicasets", "patch"), where
        for verb in ("list", "watch", "create", "update", "patch", "delete"):
            assert not grants(rule, "", "secrets", verb), where
        if "secrets" in rule.get("resources", []):
            assert rule["verbs"] == ["get"] and rule.get("resourceNames"), where
        assert not any(r.startswith("pods/") for r in rule.get("resources", [])), where
        assert not grants(rule, "", "pods", "delete"), where
        assert not grants(rule, "", "configmaps", "delete"), where
        assert not grants(rule, "", "configmaps", "create"), where


def test_default_grants_no_secret_at_all(default: Manifest) -> None:
    assert not any("secrets" in rule.get("resources", []) for _, rule in operator_rules(default))


def test_all_namespaces_uses_a_cluster_role(default: Manifest) -> None:
    assert not of_kind(default, "Role")
    workloads = one(default, "ClusterRole", "mo-maintenance-operator-workloads")
    assert any(grants(r, "apps", "deployments", "patch") for r in workloads["rules"])
    cluster = one(default, "ClusterRole", "mo-maintenance-operator-cluster")
    assert any(grants(r, "", "namespaces", "watch") for r in cluster["rules"])
    assert any(
        grants(r, "apiextensions.k8s.io", "customresourcedefinitions", "list") for r in cluster["rules"]
    )
    deployment = one(default, "Deployment")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["args"] == ["--all-namespaces"]


def test_watch_namespaces_gives_a_role_per_namespace(full: Manifest) -> None:
    roles = of_kind(full, "Role")
    assert sorted(r["metadata"]["namespace"] for r in roles) == ["chat", "chat-staging"]
    bindings = of_kind(full, "RoleBinding")
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["chat", "chat-staging"]
    for binding in bindings:
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "mo-maintenance-operator", "namespace": "ops"}
        ]
    for role in roles:
        assert any(grants(r, "apps", "deployments", "patch") for r in role["rules"])
        secrets = [r for r in role["rules"] if "secrets" in r["resources"]]
        assert secrets == [
            {
                "apiGroups": [""],
                "resources": ["secrets"],
                "resourceNames": ["prometheus-basic-auth", "chat-maintenance-slack"],
                "verbs": ["get"],
            }
        ]
        assert any(grants(r, "kopf.dev", "kopfpeerings", "patch") for r in role["rules"])
    # Nothing that touches workloads is cluster-wide; namespaces are only read (kopf observes them).
    cluster_roles = [
        r for r in of_kind(full, "ClusterRole") if not r["metadata"]["name"].startswith("maintenance-")
    ]
    assert [r["metadata"]["name"] for r in cluster_roles] == ["mo-maintenance-operator-cluster"]
    assert cluster_roles[0]["rules"] == [
        {
            "apiGroups": ["apiextensions.k8s.io"],
            "resources": ["customresourcedefinitions"],
            "verbs": ["get", "list", "watch"],
        },
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list", "watch"]},
    ]
    args = of_kind(full, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args == ["--namespace=chat", "--namespace=chat-staging"]


def test_human_roles_exist_unbound(default: Manifest, full: Manifest) -> None:
    approver = one(default, "ClusterRole", "maintenance-approver")
    assert any(grants(r, "maintenance.chatapp.io", "remediations", "patch") for r in approver["rules"])
    assert not any(grants(r, "maintenance.chatapp.io", "remediations", "delete") for r in approver["rules"])
    assert not any(
        grants(r, "maintenance.chatapp.io", "remediations/status", "patch") for r in approver["rules"]
    )
    viewer = one(default, "ClusterRole", "maintenance-viewer")
    assert all(set(r["verbs"]) <= {"get", "list", "watch"} for r in viewer["rules"])
    for docs in (default, full):
        bound = {
            b["roleRef"]["name"] for b in of_kind(docs, "ClusterRoleBinding") + of_kind(docs, "RoleBinding")
        }
        assert not bound & {"maintenance-approver", "maintenance-viewer"}
    labels = one(full, "ClusterRole", "maintenance-approver")["metadata"]["labels"]
    assert labels["rbac.authorization.k8s.io/aggregate-to-admin"] == "true"
    assert "rbac.authorization.k8s.io/aggregate-to-admin" not in approver["metadata"]["labels"]


# Pod


@pytest.mark.parametrize("docs_name", ["default", "full"])
def test_pods_run_restricted(docs_name: str, request: pytest.FixtureRequest) -> None:
    docs: Manifest = request.getfixturevalue(docs_name)
    for deployment in of_kind(docs, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in pod["containers"]:
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["capabilities"] == {"drop": ["ALL"]}
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
            assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
            assert {"name": "health", "containerPort": 8081, "protocol": "TCP"} in container["ports"]
            assert container["resources"]["requests"]["memory"] == "128Mi"
            assert container["resources"]["limits"]["memory"] == "384Mi"
        assert {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in pod["volumes"]


def _env(deployment: dict[str, Any]) -> dict[str, Any]:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_default_deployment(default: Manifest) -> None:
    deployment = one(default, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/chatapp/maintenance-operator:0.1.0"
    env = _env(deployment)
    assert "ANTHROPIC_API_KEY" not in env, "without llm.existingSecret the offline planner runs"
    assert "MAINTENANCE_OPERATOR_PEERING" not in env
    assert env["MAINTENANCE_OPERATOR_LIVENESS_ENDPOINT"] == "http://0.0.0.0:8081/healthz"
    assert env["MAINTENANCE_OPERATOR_METRICS_PORT"] == "8080"
    assert env["MAINTENANCE_OPERATOR_NAMESPACES"] == ""
    assert env["MAINTENANCE_OPERATOR_WEBHOOK_MODE"] == "server"
    assert env["MAINTENANCE_OPERATOR_WEBHOOK_PORT"] == "9443"


def test_env_names_are_operator_settings(full: Manifest) -> None:
    """Every MAINTENANCE_OPERATOR_* variable the chart sets is read by OperatorConfig, bar the known gaps."""
    from maintenance_operator.config import ENV_PREFIX, OperatorConfig
    from maintenance_operator.handlers import alerts

    known = {ENV_PREFIX + name.upper() for name in OperatorConfig.model_fields}
    known.add(alerts.TOKEN_ENV)  # a secret: read by the receiver, never part of the settings object
    # Settings the chart passes ahead of the operator reading them (see docs/install.md, "Open items").
    pending = {
        "MAINTENANCE_OPERATOR_DEFAULT_DAILY_TOKEN_BUDGET",
        "MAINTENANCE_OPERATOR_WEBHOOK_CERT_FILE",
        "MAINTENANCE_OPERATOR_WEBHOOK_KEY_FILE",
    }
    # Read outside OperatorConfig: handlers/probes.py takes the approval key at startup, never into a model.
    read_at_startup = {"MAINTENANCE_OPERATOR_APPROVAL_KEY"}
    for deployment in of_kind(full, "Deployment"):
        names = {n for n in _env(deployment) if n.startswith(ENV_PREFIX)}
        assert names - known <= pending | read_at_startup, names - known - pending - read_at_startup
        assert OperatorConfig.from_env({k: v for k, v in _env(deployment).items() if isinstance(v, str)})


def test_full_deployment_and_standby(full: Manifest) -> None:
    active = one(full, "Deployment", "mo-maintenance-operator")
    standby = one(full, "Deployment", "mo-maintenance-operator-standby")
    assert active["spec"]["selector"] != standby["spec"]["selector"]
    assert standby["spec"]["replicas"] == 1
    env_a, env_s = _env(active), _env(standby)
    assert (
        env_a["MAINTENANCE_OPERATOR_PEERING"] == env_s["MAINTENANCE_OPERATOR_PEERING"] == "chat-maintenance"
    )
    assert int(env_a["MAINTENANCE_OPERATOR_PRIORITY"]) > int(env_s["MAINTENANCE_OPERATOR_PRIORITY"])
    assert env_a["ANTHROPIC_API_KEY"] == {"secretKeyRef": {"name": "anthropic", "key": "api-key"}}
    assert env_a["MAINTENANCE_OPERATOR_NAMESPACES"] == "chat,chat-staging"
    assert env_a["MAINTENANCE_OPERATOR_DEFAULT_DAILY_TOKEN_BUDGET"] == "50000"
    image = active["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.startswith("registry.example.com/sre/maintenance-operator@sha256:")


# Approval key


def test_chart_creates_an_approval_key_the_deployment_reads(default: Manifest) -> None:
    secret = one(default, "Secret", "mo-maintenance-operator-approval-key")
    assert secret["type"] == "Opaque"
    assert set(secret["data"]) == {"approval-key"}
    key = base64.b64decode(secret["data"]["approval-key"])
    assert len(key) == 64 and key.isalnum()
    assert _env(one(default, "Deployment"))["MAINTENANCE_OPERATOR_APPROVAL_KEY"] == {
        "secretKeyRef": {"name": "mo-maintenance-operator-approval-key", "key": "approval-key"}
    }
    # `helm template` has no cluster to look the Secret up in: each render draws a new key (upgrades reuse it,
    # see tests/e2e/test_helm_install.py), which is why the key is never taken from values.
    again = one(render(), "Secret", "mo-maintenance-operator-approval-key")
    assert again["data"] != secret["data"]


def test_existing_approval_key_secret_is_used_by_both_replicas(full: Manifest) -> None:
    assert not [d for d in of_kind(full, "Secret") if d["metadata"]["name"].endswith("approval-key")]
    deployments = of_kind(full, "Deployment")
    assert len(deployments) == 2, "active and standby must verify with the same key"
    for deployment in deployments:
        assert _env(deployment)["MAINTENANCE_OPERATOR_APPROVAL_KEY"] == {
            "secretKeyRef": {"name": "approval-key-from-vault", "key": "hmac"}
        }


def test_standby_on_the_same_priority_fails() -> None:
    proc = helm(
        "template",
        "mo",
        str(CHART),
        "--set",
        "standby.enabled=true",
        "--set",
        "standby.priority=100",
        "--set",
        "peering.priority=100",
        check=False,
    )
    assert proc.returncode != 0
    assert "kopf #734" in proc.stderr


# Webhook


def _webhook(docs: Manifest, kind: str) -> dict[str, Any]:
    config = one(docs, kind)
    assert len(config["webhooks"]) == 1
    hook: dict[str, Any] = config["webhooks"][0]
    return hook


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("ValidatingWebhookConfiguration", "/validate-approval"),
        ("MutatingWebhookConfiguration", "/mutate-approval"),
    ],
)
def test_webhook_configuration(default: Manifest, kind: str, path: str) -> None:
    hook = _webhook(default, kind)
    assert hook["failurePolicy"] == "Fail"
    assert hook["sideEffects"] == "None"
    assert hook["admissionReviewVersions"] == ["v1"]
    assert hook["rules"] == [
        {
            "apiGroups": ["maintenance.chatapp.io"],
            "apiVersions": ["v1alpha1"],
            "operations": ["UPDATE"],
            "resources": ["remediations"],
            "scope": "Namespaced",
        }
    ]
    service = hook["clientConfig"]["service"]
    assert service == {
        "name": "mo-maintenance-operator-webhook",
        "namespace": "ops",
        "path": path,
        "port": 9443,
    }
    webhook_service = one(default, "Service", "mo-maintenance-operator-webhook")
    assert webhook_service["spec"]["ports"][0]["port"] == 9443
    assert "namespaceSelector" not in hook


def test_self_signed_certificate_matches_ca_bundle(default: Manifest, tmp_path: Path) -> None:
    secret = one(default, "Secret", "mo-maintenance-operator-webhook-tls")
    assert secret["type"] == "kubernetes.io/tls"
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        assert _webhook(default, kind)["clientConfig"]["caBundle"] == secret["data"]["ca.crt"]
    if shutil.which("openssl") is None:
        tools.tool_missing("openssl not installed; certificate contents not checked")
    (tmp_path / "ca.pem").write_bytes(base64.b64decode(secret["data"]["ca.crt"]))
    (tmp_path / "tls.pem").write_bytes(base64.b64decode(secret["data"]["tls.crt"]))
    verify = subprocess.run(
        ["openssl", "verify", "-CAfile", str(tmp_path / "ca.pem"), str(tmp_path / "tls.pem")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    text = subprocess.run(
        ["openssl", "x509", "-noout", "-text", "-in", str(tmp_path / "tls.pem")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "DNS:mo-maintenance-operator-webhook.ops.svc" in text


def test_cert_manager_mode(full: Manifest) -> None:
    certificate = one(full, "Certificate")
    assert certificate["spec"]["secretName"] == "mo-maintenance-operator-webhook-tls"
    assert "mo-maintenance-operator-webhook.ops.svc" in certificate["spec"]["dnsNames"]
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        config = one(full, kind)
        assert config["metadata"]["annotations"] == {
            "cert-manager.io/inject-ca-from": "ops/mo-maintenance-operator-webhook"
        }
        hook = config["webhooks"][0]
        assert "caBundle" not in hook["clientConfig"]
        assert hook["namespaceSelector"]["matchExpressions"][0]["values"] == ["chat", "chat-staging"]


def test_webhook_disabled() -> None:
    docs = render("--set", "webhook.enabled=false")
    kinds = {d["kind"] for d in docs}
    assert not kinds & {"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}
    # No certificate; the approval key stays (a webhook added later, e.g. with cert-manager, signs with it).
    secrets = [s["metadata"]["name"] for s in of_kind(docs, "Secret")]
    assert secrets == ["mo-maintenance-operator-approval-key"]
    assert _env(one(docs, "Deployment"))["MAINTENANCE_OPERATOR_WEBHOOK_MODE"] == "none"
    assert [s["metadata"]["name"] for s in of_kind(docs, "Service")] == ["mo-maintenance-operator-metrics"]


# Observability


def test_dashboard(default: Manifest) -> None:
    configmap = one(default, "ConfigMap")
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(configmap["data"]["maintenance-operator.json"])
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))
    for metric in (
        "maintenance_operator_health_score",
        "maintenance_operator_remediations_total",
        "maintenance_operator_time_to_recover_seconds_bucket",
        "maintenance_operator_llm_tokens_total",
        "maintenance_operator_llm_cost_usd_total",
    ):
        assert metric in exprs


def test_prometheus_rule_and_service_monitor(full: Manifest) -> None:
    rule = one(full, "PrometheusRule")
    alerts = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}
    assert 'dimension="overall"' in alerts["MaintenanceHealthScoreLow"]["expr"]
    assert "maintenance_operator_handler_errors_total" in alerts["MaintenanceOperatorHandlerErrors"]["expr"]
    assert "{{ $labels.handler }}" in alerts["MaintenanceOperatorHandlerErrors"]["annotations"]["summary"]
    monitor = one(full, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    metrics = one(full, "Service", "mo-maintenance-operator-metrics")
    assert all(
        monitor["spec"]["selector"]["matchLabels"][k] == v
        for k, v in metrics["metadata"]["labels"].items()
        if k in monitor["spec"]["selector"]["matchLabels"]
    )


def test_network_policy(full: Manifest) -> None:
    policy = one(full, "NetworkPolicy")
    egress_ports = {(p["port"], p["protocol"]) for rule in policy["spec"]["egress"] for p in rule["ports"]}
    assert {(53, "UDP"), (53, "TCP"), (443, "TCP"), (6443, "TCP"), (9090, "TCP")} <= egress_ports


def test_api_priority_puts_every_request_of_the_operators_account_in_its_own_level(default: Manifest) -> None:
    assert not of_kind(default, "FlowSchema") and not of_kind(default, "PriorityLevelConfiguration")
    docs = render("--set", "apiPriority.enabled=true", "--set", "apiPriority.nominalConcurrencyShares=7")
    level = one(docs, "PriorityLevelConfiguration")
    schema = one(docs, "FlowSchema")
    assert schema["spec"]["priorityLevelConfiguration"]["name"] == level["metadata"]["name"]
    assert level["spec"]["type"] == "Limited" and level["spec"]["limited"]["nominalConcurrencyShares"] == 7
    assert level["spec"]["limited"]["limitResponse"]["type"] == "Queue", "queued, not rejected, under load"
    assert schema["spec"]["matchingPrecedence"] < 9000, "ahead of the built-in service-accounts schema"
    [rule] = schema["spec"]["rules"]
    account = one(docs, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"]
    assert rule["subjects"] == [
        {"kind": "ServiceAccount", "serviceAccount": {"name": account, "namespace": "ops"}}
    ]
    # every request, watches and non-resource URLs included
    assert rule["resourceRules"] == [
        {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "clusterScope": True, "namespaces": ["*"]}
    ]
    assert rule["nonResourceRules"] == [{"verbs": ["*"], "nonResourceURLs": ["*"]}]


def test_api_priority_hand_size_beyond_the_queues_is_refused() -> None:
    proc = helm(
        "template",
        "mo",
        str(CHART),
        "--set",
        "apiPriority.enabled=true",
        "--set",
        "apiPriority.handSize=17",
        check=False,
    )
    assert proc.returncode != 0 and "handSize must not exceed apiPriority.queues" in proc.stderr, proc.stderr


# Schema


@pytest.mark.parametrize(
    "override",
    [
        ["--set-string", "replicaCount=two"],
        ["--set", "replicaCount=2"],
        ["--set", "replicaCOunt=1"],
        ["--set", "operator.logFormat=xml"],
        ["--set", "webhook.failurePolicy=Sometimes"],
        ["--set", "llm.defaultModel="],
        ["--set", "watchNamespaces[0]=Not_A_Namespace"],
        ["--set", "rbac.secretNamez[0]=x"],
        ["--set", "approvalKey.existingSecret=Not_A_Secret"],
        ["--set", "approvalKey.existingSecretKey=a/b"],
        ["--set", "approvalKey.secret=x"],
        ["--set", "apiPriority.queues=0"],
        ["--set", "apiPriority.lendablePercent=101"],
        ["--set", "apiPriority.matchingPrecedence=10000"],
    ],
    ids=lambda o: o[1],
)
def test_schema_rejects_bad_values(override: list[str]) -> None:
    proc = helm("template", "mo", str(CHART), *override, check=False)
    assert proc.returncode != 0, f"{override} was accepted"
    assert "values don't meet the specifications of the schema" in proc.stderr, proc.stderr


# Plain manifests


def test_deploy_dir_is_rendered_from_the_chart(tmp_path: Path) -> None:
    subprocess.run(
        [str(REPO / "hack" / "render-manifests.sh"), "deploy"],
        env={**os.environ, "DEPLOY_DIR": str(tmp_path), "HELM": str(HELM)},
        check=True,
        capture_output=True,
        timeout=120,
    )
    rendered = {p.name: p.read_text() for p in tmp_path.glob("*.yaml")}
    committed = {p.name: p.read_text() for p in (REPO / "deploy").glob("*.yaml")}
    assert rendered == committed, "deploy/ is stale: run hack/render-manifests.sh"
    docs = [d for text in committed.values() for d in yaml.safe_load_all(text) if d]
    assert {d["kind"] for d in docs} == {
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Service",
        "Deployment",
    }


def test_deploy_readme_creates_the_approval_key_the_deployment_reads() -> None:
    """deploy/ ships no key (a committed key would sign for everyone): its README has the command."""
    [deployment] = [d for d in yaml.safe_load_all((REPO / "deploy" / "40-deployment.yaml").read_text()) if d]
    ref = _env(deployment)["MAINTENANCE_OPERATOR_APPROVAL_KEY"]["secretKeyRef"]
    command = f"create secret generic {ref['name']} \\\n  --from-literal={ref['key']}="
    assert command in (REPO / "deploy" / "README.md").read_text()
    assert command in (REPO / "docs" / "install.md").read_text()
    assert command in (REPO / "README.md").read_text()


def test_kind_e2e_installs_the_image_it_builds_and_loads() -> None:
    """The kind stage builds the operator image (make test: in the background, hack/kind/prepare.sh), loads it
    into the node and installs the chart with exactly that reference, pulled never from a registry."""
    install = (REPO / "hack" / "kind" / "install.sh").read_text()
    [line] = [x for x in install.splitlines() if x.startswith("OPERATOR_IMAGE=")]
    image = line.split("=", 1)[1]
    assert '"$REPO_ROOT/hack/images/operator.sh" "$OPERATOR_IMAGE"' in install
    assert 'kind load docker-image "$OPERATOR_IMAGE"' in install
    assert '--set image.repository="${OPERATOR_IMAGE%%:*}" --set image.tag="${OPERATOR_IMAGE##*:}"' in install
    assert "--set image.pullPolicy=IfNotPresent" in install
    prepare = (REPO / "hack" / "kind" / "prepare.sh").read_text()
    assert f'hack/images/operator.sh" {image}' in prepare
    assert "hack/kind/install.sh" in (REPO / "hack" / "kind" / "e2e.sh").read_text()


# Notifications


def test_notifications_off_by_default(default: Manifest) -> None:
    assert not any(k.startswith("MAINTENANCE_OPERATOR_NOTIFY") for k in _env(one(default, "Deployment")))
    assert not [r for r in of_kind(default, "Role") if r["metadata"]["name"].endswith("-notifications")]


def test_notification_webhook_from_an_existing_secret() -> None:
    docs = render(
        "--set",
        "notifications.webhook.existingSecret=chat-slack",
        "--set",
        "notifications.webhook.format=generic",
        "--set",
        "notifications.webhook.events={SLABreached,Report}",
        "--set",
        "notifications.webhook.minSeverity=high",
    )
    env = _env(one(docs, "Deployment"))
    assert env["MAINTENANCE_OPERATOR_NOTIFY_WEBHOOK_SECRET"] == "ops/chat-slack/url"
    assert (env["MAINTENANCE_OPERATOR_NOTIFY_FORMAT"], env["MAINTENANCE_OPERATOR_NOTIFY_EVENTS"]) == (
        "generic",
        "SLABreached,Report",
    )
    assert env["MAINTENANCE_OPERATOR_NOTIFY_MIN_SEVERITY"] == "high"
    role = one(docs, "Role", "mo-maintenance-operator-notifications")
    assert role["metadata"]["namespace"] == "ops"
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["chat-slack"], "verbs": ["get"]}
    ]
    binding = one(docs, "RoleBinding", "mo-maintenance-operator-notifications")
    assert binding["subjects"][0]["name"] == "mo-maintenance-operator"
    from maintenance_operator.config import OperatorConfig

    config = OperatorConfig.from_env({k: v for k, v in env.items() if isinstance(v, str)})
    assert (config.notify_webhook_secret, config.notify_events) == (
        "ops/chat-slack/url",
        "SLABreached,Report",
    )


def test_documented_notification_events_are_the_operators() -> None:
    """values.yaml's comment, values.schema.json, docs/install.md and the operator name the same events."""
    from maintenance_operator.domain import notification

    events = [t.value for t in notification.EventType]
    schema = json.loads((CHART / "values.schema.json").read_text())
    webhook = schema["properties"]["notifications"]["properties"]["webhook"]["properties"]
    assert webhook["events"]["items"]["enum"] == events
    comment = (CHART / "values.yaml").read_text().split("# -- Event types to send (")[1].split(")")[0]
    assert [e.strip() for e in comment.replace("#", "").split(",")] == events
    install = (REPO / "docs" / "install.md").read_text()
    row = next(line for line in install.splitlines() if line.startswith("| `notifications.webhook.format`"))
    assert ", ".join(events) in row


@pytest.mark.parametrize(("value", "expected"), [(None, 7.0), ("6.5", 6.5)])
def test_the_health_alert_and_the_alert_rule_share_one_threshold(value: str | None, expected: float) -> None:
    from maintenance_operator.config import OperatorConfig
    from maintenance_operator.domain import scoring

    args = ["--set", "prometheusRule.enabled=true"]
    if value is not None:
        args += ["--set-json", f"prometheusRule.healthScoreWarning={value}"]
    docs = render(*args)
    env = _env(one(docs, "Deployment"))
    config = OperatorConfig.from_env({k: v for k, v in env.items() if isinstance(v, str)})
    assert config.health_alert_threshold == expected
    alerts = {r["alert"]: r for g in one(docs, "PrometheusRule")["spec"]["groups"] for r in g["rules"]}
    low = alerts["MaintenanceHealthScoreLow"]["expr"]
    assert float(low.rsplit("<", 1)[1]) == expected
    if value is None:
        assert expected == scoring.HEALTH_ALERT_BELOW  # the framework's threshold by default


@pytest.mark.parametrize(
    "override",
    [
        "notifications.webhook.format=teams",
        "notifications.webhook.minSeverity=urgent",
        "notifications.webhook.events={Everything}",
        "notifications.webhook.secret=x",
    ],
)
def test_notification_values_are_checked(override: str) -> None:
    assert helm("template", "mo", str(CHART), "--set", override, check=False).returncode != 0


def test_alert_receiver_token_comes_from_a_kept_secret(full: Manifest, default: Manifest) -> None:
    secret = one(full, "Secret", "mo-maintenance-operator-alert-receiver")
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    token = base64.b64decode(secret["data"]["token"]).decode()
    assert len(token) == 48 and token.isalnum()
    for deployment in of_kind(full, "Deployment"):
        assert _env(deployment)["MAINTENANCE_OPERATOR_ALERTS_TOKEN"] == {
            "secretKeyRef": {"name": "mo-maintenance-operator-alert-receiver", "key": "token"}
        }
    assert not [s for s in of_kind(default, "Secret") if s["metadata"]["name"].endswith("alert-receiver")]
    assert "MAINTENANCE_OPERATOR_ALERTS_TOKEN" not in _env(one(default, "Deployment"))


def test_alert_receiver_with_an_existing_secret_creates_none() -> None:
    docs = render(
        "--set",
        "alertReceiver.enabled=true",
        "--set",
        "alertReceiver.existingSecret=am-token",
        "--set",
        "alertReceiver.existingSecretKey=bearer",
    )
    assert not [s for s in of_kind(docs, "Secret") if s["metadata"]["name"].endswith("alert-receiver")]
    assert _env(one(docs, "Deployment"))["MAINTENANCE_OPERATOR_ALERTS_TOKEN"] == {
        "secretKeyRef": {"name": "am-token", "key": "bearer"}
    }
    # without the webhook server there is nothing to receive on
    off = render("--set", "alertReceiver.enabled=true", "--set", "webhook.enabled=false")
    assert "MAINTENANCE_OPERATOR_ALERTS_TOKEN" not in _env(one(off, "Deployment"))


def test_rules_from_policies_need_only_get_create_patch_of_prometheusrules(
    full: Manifest, default: Manifest
) -> None:
    granted = [r for _, r in operator_rules(full) if "prometheusrules" in r.get("resources", [])]
    assert granted and all(r["verbs"] == ["get", "create", "patch"] for r in granted)
    assert not [r for _, r in operator_rules(default) if "prometheusrules" in r.get("resources", [])]
    env = _env(one(full, "Deployment", "mo-maintenance-operator"))
    assert env["MAINTENANCE_OPERATOR_POLICY_ALERT_RULES"] == "true"
    assert env["MAINTENANCE_OPERATOR_POLICY_ALERT_RULE_LABELS"] == "release=kube-prometheus-stack"
    assert "MAINTENANCE_OPERATOR_POLICY_ALERT_RULES" not in _env(one(default, "Deployment"))


def test_scheduling_and_api_limits_reach_the_operator_settings(default: Manifest) -> None:
    from maintenance_operator.config import OperatorConfig

    env = _env(one(default, "Deployment"))
    assert env["MAINTENANCE_OPERATOR_MAX_CONCURRENT_ASSESSMENTS"] == "16"
    assert env["MAINTENANCE_OPERATOR_SCHEDULE_SPREAD_SECONDS"] == "10"
    assert env["MAINTENANCE_OPERATOR_API_QPS"] == "50"
    assert env["MAINTENANCE_OPERATOR_API_BURST"] == "100"
    assert env["MAINTENANCE_OPERATOR_API_MAX_IN_FLIGHT"] == "16"
    assert env["MALLOC_ARENA_MAX"] == "2"  # measured with it: the fleet benchmark, operator_rss
    tuned = render(
        "--set",
        "operator.maxConcurrentAssessments=32",
        "--set",
        "operator.scheduleSpreadSeconds=300",
        "--set-json",
        "operator.apiQps=20.5",
        "--set",
        "operator.apiBurst=40",
        "--set",
        "operator.apiMaxInFlight=24",
    )
    config = OperatorConfig.from_env(
        {k: v for k, v in _env(one(tuned, "Deployment")).items() if isinstance(v, str)}
    )
    assert config.max_concurrent_assessments == 32
    assert config.schedule_spread_seconds == 300
    assert config.api_qps == 20.5
    assert config.api_burst == 40
    assert config.api_max_in_flight == 24


@pytest.mark.parametrize(
    "override",
    [
        "operator.maxConcurrentAssessments=0",
        "operator.scheduleSpreadSeconds=-1",
        "operator.apiQps=0",
        "operator.apiBurst=0",
        "operator.apiMaxInFlight=0",
    ],
)
def test_scheduling_and_api_limits_are_checked(override: str) -> None:
    assert helm("template", "mo", str(CHART), "--set", override, check=False).returncode != 0
