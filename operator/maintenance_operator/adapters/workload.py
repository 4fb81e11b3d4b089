"""Read-only Kubernetes reads the audits need about one target Deployment.

Built on the official ``kubernetes`` client like adapters/kube.py: blocking calls run in
``asyncio.to_thread`` and return the API server's JSON as camelCase dicts. Nothing here writes to the
cluster; the only create is a LocalSubjectAccessReview, which is a question, not an object.

Guarantees: Secret *values* are never read (the audits only see env var and Secret names in the pod
template); an absent VulnerabilityReport CRD gives ``None`` (not installed), never an exception. A
vulnerability's patch clock starts at its ``publishedDate`` (public disclosure, which Trivy always
reports), else at its report's ``creationTimestamp``: a scanner that runs late must not extend a deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from maintenance_operator.adapters import kube, kube_rest
from maintenance_operator.domain import cadence, config_audit, security_audit

TRIVY_GROUP = "aquasecurity.github.io"
TRIVY_VERSION = "v1alpha1"
TRIVY_PLURAL = "vulnerabilityreports"
# (verb, resource, subresource, group) the target's ServiceAccount should not be allowed.
RISKY_PERMISSIONS: tuple[tuple[str, str, str, str], ...] = (
    ("list", "secrets", "", ""),
    ("get", "secrets", "", ""),
    ("create", "pods", "exec", ""),
    ("*", "*", "", "*"),
)


def permission_text(verb: str, resource: str, subresource: str, group: str) -> str:
    """``verb resource[/sub][.group]`` as kubectl auth can-i spells it."""
    name = f"{resource}/{subresource}" if subresource else resource
    return f"{verb} {name}.{group}" if group else f"{verb} {name}"


class WorkloadReader:
    """What the configuration and security audits read about one Deployment in one namespace."""

    def __init__(self, api_client: client.ApiClient, *, namespace: str, name: str) -> None:
        self.namespace = namespace
        self.name = name
        self._apps = kube_rest.AppsV1(api_client)
        self._core = kube_rest.CoreV1(api_client)
        self._policy = kube_rest.PolicyV1(api_client)
        self._autoscaling = kube_rest.AutoscalingV2(api_client)
        self._authz = kube_rest.AuthorizationV1(api_client)
        self._custom = client.CustomObjectsApi(api_client)

    async def deployment(self) -> dict[str, Any]:
        """The Deployment object."""
        return await kube._raw(self._apps.read_namespaced_deployment, self.name, self.namespace)

    async def has_pdb(self, deployment: Mapping[str, Any]) -> bool:
        """Whether a PodDisruptionBudget in the namespace selects the Deployment's pod template."""
        labels = ((deployment.get("spec") or {}).get("template") or {}).get("metadata", {}).get(
            "labels"
        ) or {}
        pdbs = await kube._raw(self._policy.list_namespaced_pod_disruption_budget, self.namespace)
        # policy/v1: a null selector selects no pod, an empty one every pod.
        selectors = [(p.get("spec") or {}).get("selector") for p in pdbs.get("items") or ()]
        return any(s is not None and config_audit.selector_matches(s, labels) for s in selectors)

    async def hpa_max_replicas(self) -> int | None:
        """maxReplicas of the HorizontalPodAutoscaler targeting the Deployment (None: no HPA)."""
        hpas = await kube._raw(self._autoscaling.list_namespaced_horizontal_pod_autoscaler, self.namespace)
        for hpa in hpas.get("items") or ():
            spec = hpa.get("spec") or {}
            ref = spec.get("scaleTargetRef") or {}
            if ref.get("kind") == "Deployment" and ref.get("name") == self.name:
                return int(spec.get("maxReplicas", 0)) or None
        return None

    async def config_map_data(self, name: str) -> dict[str, str] | None:
        """The ConfigMap's data (None when it does not exist)."""
        try:
            cm = await kube._raw(self._core.read_namespaced_config_map, name, self.namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return {str(k): str(v) for k, v in (cm.get("data") or {}).items()}

    async def config_map_version(self, name: str) -> str:
        """The ConfigMap's resourceVersion ("" when it does not exist): a change re-runs the audit."""
        try:
            cm = await kube._raw(self._core.read_namespaced_config_map, name, self.namespace)
        except ApiException as exc:
            if exc.status == 404:
                return ""
            raise
        return str((cm.get("metadata") or {}).get("resourceVersion", ""))

    async def risky_permissions(self, service_account: str) -> list[str]:
        """The risky permissions a LocalSubjectAccessReview grants ``service_account`` in the namespace."""
        user = f"system:serviceaccount:{self.namespace}:{service_account}"
        granted: list[str] = []
        for verb, resource, sub, group in RISKY_PERMISSIONS:
            body: Any = {
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "LocalSubjectAccessReview",
                "metadata": {"namespace": self.namespace},
                "spec": {
                    "user": user,
                    "groups": ["system:serviceaccounts", f"system:serviceaccounts:{self.namespace}"],
                    "resourceAttributes": {
                        "namespace": self.namespace,
                        "verb": verb,
                        "resource": resource,
                        "subresource": sub,
                        "group": group,
                    },
                },
            }
            review = await kube._raw(
                self._authz.create_namespaced_local_subject_access_review, self.namespace, body
            )
            if (review.get("status") or {}).get("allowed"):
                granted.append(permission_text(verb, resource, sub, group))
        return granted

    async def vulnerabilities(
        self, deployment: Mapping[str, Any]
    ) -> list[security_audit.Vulnerability] | None:
        """Vulnerabilities Trivy Operator reported for the Deployment's ReplicaSets; None if not installed."""
        call: Callable[..., Any] = self._custom.list_namespaced_custom_object
        try:
            reports = await kube._raw(call, TRIVY_GROUP, TRIVY_VERSION, self.namespace, TRIVY_PLURAL)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        owned = {self.name}
        out: list[security_audit.Vulnerability] = []
        for r in reports.get("items") or ():
            labels = (r.get("metadata") or {}).get("labels") or {}
            if not _belongs(labels, owned):
                continue
            seen = cadence.epoch((r.get("metadata") or {}).get("creationTimestamp")) or 0.0
            report = r.get("report") or {}
            artifact = report.get("artifact") or {}
            image = f"{artifact.get('repository', '?')}:{artifact.get('tag', '?')}"
            for v in report.get("vulnerabilities") or ():
                published = cadence.epoch(v.get("publishedDate"))
                out.append(
                    security_audit.Vulnerability(
                        str(v.get("vulnerabilityID", "?")),
                        str(v.get("severity", "UNKNOWN")),
                        image,
                        published if published is not None else seen,
                    )
                )
        return out


def _belongs(labels: Mapping[str, str], deployments: set[str]) -> bool:
    """A report of the Deployment itself, or of one of its ReplicaSets (``<name>-<pod-template-hash>``)."""
    kind = labels.get("trivy-operator.resource.kind")
    name = labels.get("trivy-operator.resource.name", "")
    if kind == "Deployment":
        return name in deployments
    if kind == "ReplicaSet":
        return name.rsplit("-", 1)[0] in deployments
    return False
