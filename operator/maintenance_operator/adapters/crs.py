"""Reading and writing the operator's own custom resources (and the Secrets they name)."""

from __future__ import annotations

import base64
import copy
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from maintenance_operator.adapters import errors, kube_rest, throttle
from maintenance_operator.api import v1alpha1
from maintenance_operator.domain import machine

POLICY_LABEL = f"{v1alpha1.GROUP}/policy"
TARGET_LABEL = f"{v1alpha1.GROUP}/target"
FINGERPRINT_LABEL = f"{v1alpha1.GROUP}/fingerprint"
ANALYSIS_LABEL = f"{v1alpha1.GROUP}/analysis"
#: Set by `kubectl maintenance ack` on an Escalated Remediation: a human took it; a new one may follow.
ACK_ANNOTATION = f"{v1alpha1.GROUP}/acknowledged-by"

PLURALS = {info.kind: info.plural for info in v1alpha1.KINDS}


def new_api_client(kubeconfig: str | None = None, *, pool_size: int | None = None) -> client.ApiClient:
    """In-cluster config when running in a Pod, the kubeconfig (or $KUBECONFIG) otherwise. ``pool_size``:
    connections kept to the API server, one per API thread (``throttle``); beyond the pool every call
    would open and drop a connection of its own."""
    configuration = client.Configuration()
    if kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST") and not os.environ.get("KUBECONFIG"):
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    else:
        config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)  # type: ignore[no-untyped-call]
    if pool_size is not None:
        configuration.connection_pool_maxsize = pool_size
    return client.ApiClient(configuration)


async def _call(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a blocking kubernetes-client call off the event loop, within the client-side QPS limit."""
    return await throttle.call(function, *args, **kwargs)


def remediation_summary(body: Mapping[str, Any]) -> dict[str, Any]:
    """What the proposal's dedupe and the execution guard read of a Remediation, in its wire shape: name,
    labels, the acknowledgement, target, the issue's severity and detection, phase and start; the plan
    only while it can still absorb a new issue (not started yet, or running)."""
    meta = body.get("metadata") or {}
    spec = body.get("spec") or {}
    status = body.get("status") or {}
    issue = spec.get("issue") or {}
    phase = status.get("phase")
    ack = (meta.get("annotations") or {}).get(ACK_ANNOTATION)
    kept_spec: dict[str, Any] = {
        "targetRef": dict(spec.get("targetRef") or {}),
        "issue": {k: issue[k] for k in ("severity", "detectedAt", "predicted") if k in issue},
    }
    if phase is None or phase in machine.values(machine.ABSORBING):
        kept_spec["plan"] = spec.get("plan") or {}
    return {
        "metadata": {
            "name": meta.get("name"),
            "namespace": meta.get("namespace"),
            "labels": dict(meta.get("labels") or {}),
            "annotations": {ACK_ANNOTATION: ack} if ack else {},
        },
        "spec": kept_spec,
        "status": {k: status[k] for k in ("phase", "startedAt") if k in status},
    }


def _labelled(item: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    found = (item.get("metadata") or {}).get("labels") or {}
    return all(found.get(k) == v for k, v in labels.items())


class CustomResources:
    """Thin async wrapper over CustomObjectsApi for the three kinds."""

    def __init__(self, api_client: client.ApiClient) -> None:
        self._objects = client.CustomObjectsApi(api_client)
        self._core = kube_rest.CoreV1(api_client)
        #: Remediation summaries by namespace, kept by a watch (the operator's kopf index); None: LIST.
        self.watched_remediations: Mapping[str, Iterable[Mapping[str, Any]]] | None = None

    async def remediations(
        self, namespace: str, *, labels: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """Summaries (``remediation_summary``) of the namespace's Remediations with these labels: from the
        watch when the operator keeps one (no LIST), else from one LIST."""
        wanted = labels or {}
        if self.watched_remediations is not None:
            return [
                copy.deepcopy(dict(s))
                for s in self.watched_remediations.get(namespace, ())
                if _labelled(s, wanted)
            ]
        items = await self.list("Remediation", namespace, labels=wanted)
        return [remediation_summary(i) for i in items]

    @errors.boundary
    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The object, or None if it does not exist."""
        try:
            result: dict[str, Any] = await _call(
                self._objects.get_namespaced_custom_object,
                v1alpha1.GROUP,
                v1alpha1.VERSION,
                namespace,
                PLURALS[kind],
                name,
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return result

    @errors.boundary
    async def list(
        self, kind: str, namespace: str, *, labels: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        selector = ",".join(f"{k}={v}" for k, v in (labels or {}).items())
        result = await _call(
            self._objects.list_namespaced_custom_object,
            v1alpha1.GROUP,
            v1alpha1.VERSION,
            namespace,
            PLURALS[kind],
            label_selector=selector,
        )
        items: list[dict[str, Any]] = result.get("items", [])
        return items

    @errors.boundary
    async def create(self, kind: str, namespace: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Create the object; (existing object, False) if the name is taken, so creation is idempotent."""
        body = {"apiVersion": v1alpha1.API_VERSION, "kind": kind, **body}
        try:
            created: dict[str, Any] = await _call(
                self._objects.create_namespaced_custom_object,
                v1alpha1.GROUP,
                v1alpha1.VERSION,
                namespace,
                PLURALS[kind],
                body,
            )
            return created, True
        except ApiException as exc:
            if exc.status != 409:
                raise
        existing = await self.get(kind, namespace, body["metadata"]["name"])
        if existing is None:
            raise RuntimeError(f"{kind} {namespace}/{body['metadata']['name']} conflicted but does not exist")
        return existing, False

    @errors.boundary
    async def delete(self, kind: str, namespace: str, name: str) -> None:
        try:
            await _call(
                self._objects.delete_namespaced_custom_object,
                v1alpha1.GROUP,
                v1alpha1.VERSION,
                namespace,
                PLURALS[kind],
                name,
            )
        except ApiException as exc:
            if exc.status != 404:
                raise

    @errors.boundary
    async def annotate(self, kind: str, namespace: str, name: str, annotations: dict[str, str]) -> bool:
        """Merge the annotations into the object's metadata; False if the object is gone."""
        try:
            await _call(
                self._objects.patch_namespaced_custom_object,
                v1alpha1.GROUP,
                v1alpha1.VERSION,
                namespace,
                PLURALS[kind],
                name,
                {"metadata": {"annotations": annotations}},
            )
        except ApiException as exc:
            if exc.status != 404:
                raise
            return False
        return True

    @errors.boundary
    async def patch_status(
        self,
        kind: str,
        namespace: str,
        name: str,
        status: dict[str, Any],
        *,
        resource_version: str | None = None,
    ) -> None:
        """Merge-patch the status subresource; with ``resource_version`` only if nobody wrote since (else
        errors.Conflict)."""
        body: dict[str, Any] = {"status": status}
        if resource_version is not None:
            body["metadata"] = {"resourceVersion": resource_version}
        await _call(
            self._objects.patch_namespaced_custom_object_status,
            v1alpha1.GROUP,
            v1alpha1.VERSION,
            namespace,
            PLURALS[kind],
            name,
            body,
        )

    @errors.boundary
    async def read_secret(self, namespace: str, name: str, key: str) -> str | None:
        """One Secret value, or None if the Secret or key is missing. Never logged."""
        try:
            response = await _call(self._core.read_namespaced_secret, name, namespace, _preload_content=False)
        except ApiException as exc:
            if exc.status in (403, 404):
                return None
            raise
        raw = (json.loads(response.data or b"{}").get("data") or {}).get(key)
        return base64.b64decode(raw).decode() if raw is not None else None


def owner_reference(
    body: Mapping[str, Any], *, kind: str | None = None, controller: bool = True
) -> dict[str, Any]:
    """An ownerReference to one of our objects; deleting the owner never blocks on its dependents."""
    metadata = body["metadata"]
    return {
        "apiVersion": body.get("apiVersion", v1alpha1.API_VERSION),
        "kind": kind or body["kind"],
        "name": metadata["name"],
        "uid": metadata["uid"],
        "controller": controller,
        "blockOwnerDeletion": False,
    }
