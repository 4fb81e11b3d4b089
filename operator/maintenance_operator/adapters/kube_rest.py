"""The built-in Kubernetes resources the operator reads and writes, by REST path on the kubernetes ApiClient.

The generated API classes are not used for these calls: importing ``CoreV1Api`` alone imports 250 pydantic
models (≈20 MB RSS, the largest item of the idle operator; docs/decisions.md, "Memory per policy"), and the
operator reads every answer as JSON anyway. The methods keep the generated names, arguments and errors
(``ApiException`` on a non-2xx answer) and, like a generated method called with ``_preload_content=False``,
return the undecoded urllib3 response, so ``kube._raw`` reads them unchanged.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException


def request(
    api_client: client.ApiClient,
    method: str,
    path: str,
    *,
    path_params: dict[str, str],
    query: dict[str, str | None] | None = None,
    body: Any = None,
    content_type: str | None = None,
    _preload_content: bool = False,
) -> Any:
    """One blocking call, serialised and authenticated as the generated client does it; the urllib3
    response (its ``.data`` is the server's JSON)."""
    if _preload_content:
        raise ValueError("kube_rest returns the undecoded response only (_preload_content=False)")
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = content_type or "application/json"
    serialized = api_client.param_serialize(
        method=method,
        resource_path=path,
        path_params=path_params,
        query_params=[(k, v) for k, v in (query or {}).items() if v is not None],
        header_params=headers,
        body=body,
        auth_settings=["BearerToken"],
    )
    response = api_client.call_api(*serialized)
    if not 200 <= response.status <= 299:
        response.read()  # type: ignore[no-untyped-call]
        raise ApiException.from_response(http_resp=response, body=None, data=None)
    return response.response


class _Group:
    """Calls under one API group version (``/api/v1`` or ``/apis/GROUP/VERSION``)."""

    prefix = ""

    def __init__(self, api_client: client.ApiClient) -> None:
        self.api_client = api_client

    def _namespaced(
        self,
        method: str,
        plural: str,
        namespace: str,
        name: str | None = None,
        *,
        dry_run: str | None = None,
        field_manager: str | None = None,
        label_selector: str | None = None,
        _content_type: str | None = None,
        **options: Any,
    ) -> Any:
        """The generated methods' keyword arguments, as their query parameters and Content-Type."""
        path = self.prefix + "/namespaces/{namespace}/" + plural + ("/{name}" if name is not None else "")
        params = {"namespace": namespace, **({"name": name} if name is not None else {})}
        query = {"dryRun": dry_run, "fieldManager": field_manager, "labelSelector": label_selector}
        return request(
            self.api_client,
            method,
            path,
            path_params=params,
            query=query,
            content_type=_content_type,
            **options,
        )


class CoreV1(_Group):
    """ConfigMaps and Secrets (core/v1)."""

    prefix = "/api/v1"

    def read_namespaced_config_map(self, name: str, namespace: str, **options: Any) -> Any:
        return self._namespaced("GET", "configmaps", namespace, name, **options)

    def read_namespaced_secret(self, name: str, namespace: str, **options: Any) -> Any:
        return self._namespaced("GET", "secrets", namespace, name, **options)

    def patch_namespaced_config_map(self, name: str, namespace: str, body: Any, **options: Any) -> Any:
        """``dry_run``, ``field_manager`` and ``_content_type`` as in ``CoreV1Api``."""
        return self._namespaced("PATCH", "configmaps", namespace, name, body=body, **options)


class AppsV1(_Group):
    """Deployments and ReplicaSets (apps/v1)."""

    prefix = "/apis/apps/v1"

    def read_namespaced_deployment(self, name: str, namespace: str, **options: Any) -> Any:
        return self._namespaced("GET", "deployments", namespace, name, **options)

    def list_namespaced_replica_set(self, namespace: str, **options: Any) -> Any:
        """``label_selector`` as in ``AppsV1Api``."""
        return self._namespaced("GET", "replicasets", namespace, **options)

    def patch_namespaced_deployment(self, name: str, namespace: str, body: Any, **options: Any) -> Any:
        """``dry_run``, ``field_manager`` and ``_content_type`` as in ``AppsV1Api``."""
        return self._namespaced("PATCH", "deployments", namespace, name, body=body, **options)


class AutoscalingV2(_Group):
    """HorizontalPodAutoscalers (autoscaling/v2)."""

    prefix = "/apis/autoscaling/v2"

    def list_namespaced_horizontal_pod_autoscaler(self, namespace: str, **options: Any) -> Any:
        return self._namespaced("GET", "horizontalpodautoscalers", namespace, **options)


class PolicyV1(_Group):
    """PodDisruptionBudgets (policy/v1)."""

    prefix = "/apis/policy/v1"

    def list_namespaced_pod_disruption_budget(self, namespace: str, **options: Any) -> Any:
        return self._namespaced("GET", "poddisruptionbudgets", namespace, **options)


class AuthorizationV1(_Group):
    """LocalSubjectAccessReviews (authorization.k8s.io/v1)."""

    prefix = "/apis/authorization.k8s.io/v1"

    def create_namespaced_local_subject_access_review(self, namespace: str, body: Any, **options: Any) -> Any:
        return self._namespaced("POST", "localsubjectaccessreviews", namespace, body=body, **options)
