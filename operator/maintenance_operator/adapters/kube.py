"""Kubernetes I/O of remediations: read the target, record pre-state, apply actions, restore, lease.

Built on the official ``kubernetes`` client; every (blocking) call runs through ``throttle.call`` and
returns the API server's JSON as camelCase dicts (the shape of kopf bodies and of ``domain.rollout``).

Guarantees callers can rely on:

- Every write is first sent with ``dryRun=All`` (admission runs, nothing is stored); the real write follows
  only if every dry run of the action passed. Writes use field manager ``maintenance-operator``.
- Every action and :meth:`TargetDeployment.restore` is idempotent: it looks at the live objects and writes
  only what is not already there, so the operator may be killed between a write and its status update and
  simply call again with the same arguments (persist ``Step.marker`` *before* calling).
- Scaling patches ``spec.replicas`` of the Deployment (not the scale subresource) so that dry run, field
  ownership and the result object are the same as for the other actions.
- SetResources JSON-patches one container's ``resources`` (guarded by a ``test`` of the container's name
  at that index); it makes a new revision, so :meth:`TargetDeployment.restore` undoes it by restoring the
  pre-state revision's pod template, as for a rollout restart.
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from maintenance_operator.adapters import errors, kube_rest, throttle
from maintenance_operator.api.v1alpha1 import Action, ActionType, ConfigMapState, PreState, SetResourcesParams
from maintenance_operator.domain import rollout as rollout_rules
from maintenance_operator.domain import timestamps

FIELD_MANAGER = "maintenance-operator"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
LEASE_PREFIX = "maintenance-"
EVENT_COMPONENT = "maintenance-operator"


class KubeActionError(errors.AdapterError):
    """An action cannot be applied; ``reason`` is CamelCase for conditions and Events."""

    reason = "ActionFailed"


class RevisionNotFound(KubeActionError):
    """No ReplicaSet of the Deployment carries the requested revision (cleaned up by revisionHistoryLimit)."""

    reason = "RevisionNotFound"


class DeploymentPausedError(KubeActionError):
    """The Deployment is paused: a rollout restart would not roll out."""

    reason = "DeploymentPaused"


class DryRunRejected(KubeActionError):
    """The API server (or an admission webhook) rejected the dry run; nothing was written."""

    reason = "DryRunRejected"


class ConfigChanged(KubeActionError):
    """The ConfigMap changed since the pre-state was captured (resourceVersion precondition failed)."""

    reason = "ConfigChanged"


class ContainerNotFound(KubeActionError):
    """SetResources names a container the Deployment's pod template does not have."""

    reason = "ContainerNotFound"


class RestoreIncomplete(KubeActionError):
    """Part of the pre-state could not be restored; everything else was."""

    reason = "RestoreIncomplete"


@dataclasses.dataclass(frozen=True)
class Revision:
    """One revision of the Deployment, as its ReplicaSet records it."""

    number: int
    replica_set: str
    images: tuple[str, ...]
    created_at: str
    template: dict[str, Any]
    #: revision plus earlier numbers in revision-history (a rollback reuses the old ReplicaSet).
    numbers: frozenset[int]


@dataclasses.dataclass(frozen=True)
class ApplyResult:
    """What an action (or a restore) did."""

    #: True if anything was written by this call; False when already applied or nothing to do.
    applied: bool
    message: str
    #: Value identifying the change (restartedAt, replicas, revision) for Step.marker.
    marker: str | None = None
    #: Unified diff of what was (or, proposed only, would be) changed, from the server's dry run.
    diff: str = ""


@dataclasses.dataclass(frozen=True)
class _Write:
    kind: str  # Deployment | ConfigMap
    name: str
    content_type: str
    body: Any
    what: str


def restart_marker(now: datetime) -> str:
    """A restartedAt value as ``kubectl rollout restart`` writes it (RFC 3339, seconds)."""
    return timestamps.rfc3339(now)


async def _raw(call: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Call a client method without deserialising: the server's JSON as a dict."""
    response = await throttle.call(call, *args, _preload_content=False, **kwargs)
    data: dict[str, Any] = json.loads(response.data or b"{}")
    return data


def _api_message(exc: ApiException) -> str:
    return errors.message_of(exc)


def _template(obj: Mapping[str, Any]) -> dict[str, Any]:
    return dict((obj.get("spec") or {}).get("template") or {})


def _diff(kind: str, name: str, before: Any, after: Any) -> str:
    a = json.dumps(before, indent=2, sort_keys=True).splitlines()
    b = json.dumps(after, indent=2, sort_keys=True).splitlines()
    return "\n".join(
        difflib.unified_diff(a, b, f"{kind}/{name} (live)", f"{kind}/{name} (after)", lineterm="")
    )


class TargetDeployment:
    """Remediation I/O for one Deployment (and its ConfigMap) in one namespace."""

    def __init__(self, api_client: client.ApiClient, *, namespace: str, name: str) -> None:
        self.namespace = namespace
        self.name = name
        self._apps = kube_rest.AppsV1(api_client)
        self._core = kube_rest.CoreV1(api_client)
        self._autoscaling = kube_rest.AutoscalingV2(api_client)

    # ------------------------------------------------------------ reads

    @errors.boundary
    async def read(self) -> dict[str, Any]:
        """The Deployment object."""
        return await _raw(self._apps.read_namespaced_deployment, self.name, self.namespace)

    @errors.boundary
    async def has_hpa(self) -> bool:
        """True if an autoscaling/v2 HorizontalPodAutoscaler in the namespace targets this Deployment."""
        hpas = await _raw(self._autoscaling.list_namespaced_horizontal_pod_autoscaler, self.namespace)
        for hpa in hpas.get("items", []):
            ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
            group = str(ref.get("apiVersion", "apps/v1")).split("/")[0]
            if ref.get("kind") == "Deployment" and ref.get("name") == self.name and group == "apps":
                return True
        return False

    @errors.boundary
    async def snapshot(self, *, argo_label_tracking: bool = False) -> rollout_rules.TargetSnapshot:
        """The Deployment summarised for risk scoring and guards (includes HPA presence)."""
        deployment, hpa = await asyncio.gather(self.read(), self.has_hpa())
        return rollout_rules.snapshot(deployment, has_hpa=hpa, argo_label_tracking=argo_label_tracking)

    @errors.boundary
    async def state(self, *, now: datetime) -> rollout_rules.TargetSnapshot:
        """The snapshot plus what the planner needs: image, resources, revisions, current revision's age."""
        deployment = await self.read()
        revisions = await self.revisions(deployment)
        has_hpa = await self.has_hpa()
        spec = deployment.get("spec") or {}
        containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or [{}]
        snapshot = rollout_rules.snapshot(deployment, has_hpa=has_hpa)
        current = snapshot.revision
        current_created = next((r.created_at for r in revisions if current in r.numbers), None)
        age = (now - timestamps.parse(current_created)).total_seconds() if current_created else None
        return snapshot.model_copy(
            update=dict(
                image=str(containers[0].get("image", "")),
                containers={
                    str(c["name"]): {
                        kind: {
                            str(k): str(v) for k, v in ((c.get("resources") or {}).get(kind) or {}).items()
                        }
                        for kind in ("requests", "limits")
                    }
                    for c in containers
                    if c.get("name")
                },
                revisions=[
                    rollout_rules.RevisionInfo(
                        revision=r.number, image=(r.images or ("",))[0], created_at=r.created_at
                    )
                    for r in revisions
                ],
                current_revision_age_seconds=age,
            )
        )

    async def config_values(self, config_map: str, keys: Sequence[str]) -> dict[str, str]:
        """Current values of ``keys`` in the ConfigMap ({} if it cannot be read); nothing else is read."""
        try:
            cm = await _raw(self._core.read_namespaced_config_map, config_map, self.namespace)
        except ApiException:
            return {}
        data = cm.get("data") or {}
        return {k: str(data[k]) for k in keys if k in data}

    async def progress_deadline_seconds(self) -> float:
        """spec.progressDeadlineSeconds (the API default, 600, when unset)."""
        deployment = await self.read()
        return float((deployment.get("spec") or {}).get("progressDeadlineSeconds") or 600)

    @errors.boundary
    async def revisions(self, deployment: Mapping[str, Any] | None = None) -> list[Revision]:
        """The Deployment's revisions (its ReplicaSets), newest first."""
        deployment = deployment or await self.read()
        uid = (deployment.get("metadata") or {}).get("uid")
        labels = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        sets = await _raw(self._apps.list_namespaced_replica_set, self.namespace, label_selector=selector)
        found = []
        for rs in sets.get("items", []):
            meta = rs.get("metadata") or {}
            if not any(o.get("uid") == uid for o in meta.get("ownerReferences") or []):
                continue
            numbers = rollout_rules.replica_set_revisions(rs)
            number = rollout_rules.parse_revision(
                (meta.get("annotations") or {}).get("deployment.kubernetes.io/revision")
            )
            if number is None:
                continue
            template = _template(rs)
            containers = (template.get("spec") or {}).get("containers") or []
            found.append(
                Revision(
                    number=number,
                    replica_set=str(meta.get("name")),
                    images=tuple(str(c.get("image", "")) for c in containers),
                    created_at=str(meta.get("creationTimestamp", "")),
                    template=template,
                    numbers=frozenset(numbers),
                )
            )
        return sorted(found, key=lambda r: r.number, reverse=True)

    @errors.boundary
    async def find_revision(self, number: int, deployment: Mapping[str, Any] | None = None) -> Revision:
        """Revision ``number`` (also via revision-history); raises :class:`RevisionNotFound` if gone."""
        revisions = await self.revisions(deployment)
        for revision in revisions:
            if number in revision.numbers:
                return revision
        known = ", ".join(str(r.number) for r in revisions) or "none"
        raise RevisionNotFound(
            f"revision {number} of deployment {self.name} not found (ReplicaSet cleaned up?); known: {known}"
        )

    @errors.boundary
    async def rollout_state(self) -> rollout_rules.RolloutState:
        """kubectl rollout-status verdict right now."""
        return rollout_rules.rollout_state(await self.read())

    @errors.boundary
    async def capture_pre_state(
        self, *, now: datetime, config_map: str | None = None, keys: Sequence[str] = ()
    ) -> PreState:
        """What :meth:`restore` needs: revision, replicas, restartedAt, generation, and the ``keys`` of
        ``config_map`` (values, resourceVersion, keys that do not exist). Capture once, persist it in
        status.preState before the first write, and reuse the persisted one on retries."""
        deployment = await self.read()
        snap = rollout_rules.snapshot(deployment, has_hpa=False)
        config_maps = []
        if config_map is not None:
            cm = await _raw(self._core.read_namespaced_config_map, config_map, self.namespace)
            data = cm.get("data") or {}
            config_maps.append(
                ConfigMapState(
                    name=config_map,
                    resource_version=str((cm.get("metadata") or {}).get("resourceVersion", "")),
                    data={k: data[k] for k in keys if k in data},
                    absent_keys=[k for k in keys if k not in data],
                )
            )
        return PreState(
            revision=snap.revision,
            replicas=snap.replicas,
            restarted_at=snap.restarted_at,
            generation=snap.generation,
            config_maps=config_maps,
            captured_at=timestamps.rfc3339(now),
        )

    # ------------------------------------------------------------ writes

    async def _send(self, write: _Write, *, dry_run: bool) -> dict[str, Any]:
        patch = (
            self._apps.patch_namespaced_deployment
            if write.kind == "Deployment"
            else self._core.patch_namespaced_config_map
        )
        try:
            return await _raw(
                patch,
                write.name,
                self.namespace,
                write.body,
                dry_run="All" if dry_run else None,
                field_manager=FIELD_MANAGER,
                _content_type=write.content_type,
            )
        except ApiException as exc:
            if exc.status == 409 and write.kind == "ConfigMap":
                raise ConfigChanged(
                    f"ConfigMap {write.name} changed since the pre-state was captured: {_api_message(exc)}"
                ) from exc
            if dry_run:
                raise DryRunRejected(f"dry run of {write.what} rejected: {_api_message(exc)}") from exc
            raise

    async def _apply(self, writes: Sequence[_Write], *, propose_only: bool) -> tuple[str, bool]:
        """Dry-run every write, then (unless ``propose_only``) apply them in order: (diff, applied)."""
        diffs = []
        for write in writes:
            live = await (
                self.read()
                if write.kind == "Deployment"
                else _raw(self._core.read_namespaced_config_map, write.name, self.namespace)
            )
            after = await self._send(write, dry_run=True)
            part = "spec" if write.kind == "Deployment" else "data"
            diffs.append(_diff(write.kind, write.name, live.get(part), after.get(part)))
        if not propose_only:
            for write in writes:
                await self._send(write, dry_run=False)
        return "\n".join(d for d in diffs if d), not propose_only and bool(writes)

    def _restart_write(self, deployment: Mapping[str, Any], marker: str) -> _Write | None:
        annotations = (_template(deployment).get("metadata") or {}).get("annotations") or {}
        if annotations.get(rollout_rules.RESTARTED_AT_ANNOTATION) == marker:
            return None
        if (deployment.get("spec") or {}).get("paused"):
            raise DeploymentPausedError(f"deployment {self.name} is paused: resume it before restarting")
        body = {
            "spec": {
                "template": {"metadata": {"annotations": {rollout_rules.RESTARTED_AT_ANNOTATION: marker}}}
            }
        }
        return _Write("Deployment", self.name, MERGE_PATCH, body, f"rollout restart ({marker})")

    def _scale_write(self, deployment: Mapping[str, Any], replicas: int) -> _Write | None:
        if (deployment.get("spec") or {}).get("replicas", 1) == replicas:
            return None
        return _Write(
            "Deployment", self.name, MERGE_PATCH, {"spec": {"replicas": replicas}}, f"scale to {replicas}"
        )

    def _resources_write(self, deployment: Mapping[str, Any], params: SetResourcesParams) -> _Write | None:
        containers = list((_template(deployment).get("spec") or {}).get("containers") or [])
        index = next((i for i, c in enumerate(containers) if c.get("name") == params.container), None)
        if index is None:
            raise ContainerNotFound(f"deployment {self.name} has no container {params.container}")
        before = containers[index].get("resources") or {}
        after = {kind: dict(before.get(kind) or {}) for kind in ("requests", "limits")}
        for kind, values in params.values().items():
            after[kind].update(values)
        after = {**before, **{k: v for k, v in after.items() if v}}
        if after == before:
            return None
        path = f"/spec/template/spec/containers/{index}"
        body = [
            {"op": "test", "path": f"{path}/name", "value": params.container},  # the index still names it
            {"op": "add", "path": f"{path}/resources", "value": after},
        ]
        what = f"set resources of {params.container} to {params.values()}"
        return _Write("Deployment", self.name, JSON_PATCH, body, what)

    async def _rollback_write(self, deployment: Mapping[str, Any], to_revision: int) -> _Write | None:
        revision = await self.find_revision(to_revision, deployment)
        if rollout_rules.template_equal_ignoring_hash(_template(deployment), revision.template):
            return None
        template = rollout_rules.strip_template_hash(revision.template)
        body = [{"op": "replace", "path": "/spec/template", "value": template}]
        return _Write("Deployment", self.name, JSON_PATCH, body, f"rollback to revision {to_revision}")

    async def _config_write(
        self, config_map: str, values: Mapping[str, str | None], resource_version: str | None
    ) -> _Write | None:
        cm = await _raw(self._core.read_namespaced_config_map, config_map, self.namespace)
        data = cm.get("data") or {}
        changes = {k: v for k, v in values.items() if data.get(k) != v}
        if not changes:
            return None
        body: dict[str, Any] = {"data": changes}
        if resource_version:
            body["metadata"] = {"resourceVersion": resource_version}
        return _Write(
            "ConfigMap", config_map, MERGE_PATCH, body, f"patch ConfigMap {config_map} keys {sorted(changes)}"
        )

    @errors.boundary
    async def execute(
        self,
        action: Action,
        *,
        marker: str | None = None,
        pre_state: PreState | None = None,
        propose_only: bool = False,
    ) -> ApplyResult:
        """Dry-run then apply one action; idempotent given the same ``marker``.

        ``marker``: the restartedAt value for RolloutRestart and ConfigPatch (see :func:`restart_marker`),
        required for them. ``pre_state``: its ConfigMap resourceVersion is the precondition of ConfigPatch
        (:class:`ConfigChanged` if someone else edited the ConfigMap since). ``propose_only``: dry-run only
        and return the diff (GitOps-managed targets). Raises :class:`KubeActionError` subclasses.
        """
        deployment = await self.read()
        writes: list[_Write | None]
        if action.type is ActionType.ROLLOUT_RESTART:
            writes, result_marker = [self._restart_write(deployment, _need(marker))], marker
        elif action.type is ActionType.SCALE and action.scale is not None:
            result_marker = str(action.scale.replicas)
            writes = [self._scale_write(deployment, action.scale.replicas)]
        elif action.type is ActionType.SET_RESOURCES and action.set_resources is not None:
            result_marker = action.set_resources.container
            writes = [self._resources_write(deployment, action.set_resources)]
        elif action.type is ActionType.ROLLBACK and action.rollback is not None:
            result_marker = str(action.rollback.to_revision)
            writes = [await self._rollback_write(deployment, action.rollback.to_revision)]
        elif action.type is ActionType.CONFIG_PATCH and action.config_patch is not None:
            patch, result_marker = action.config_patch, _need(marker)
            state = next(
                (
                    c
                    for c in (pre_state.config_maps if pre_state else [])
                    if c.name == patch.config_map_ref.name
                ),
                None,
            )
            writes = [
                await self._config_write(
                    patch.config_map_ref.name,
                    {patch.key: patch.value},
                    state.resource_version if state else None,
                ),
                self._restart_write(deployment, result_marker),
            ]
        else:
            return ApplyResult(applied=False, message=f"{action.type} writes nothing")
        pending = [w for w in writes if w is not None]
        if not pending:
            return ApplyResult(applied=False, message=f"{action.type} already applied", marker=result_marker)
        diff, applied = await self._apply(pending, propose_only=propose_only)
        what = "; ".join(w.what for w in pending)
        verb = "proposed (not applied)" if propose_only else "applied"
        return ApplyResult(applied=applied, message=f"{verb}: {what}", marker=result_marker, diff=diff)

    @errors.boundary
    async def restore(self, pre_state: PreState) -> ApplyResult:
        """Undo: replicas (unless an HPA owns them), ConfigMap keys (keys absent before are deleted) and the
        pod template of the pre-state revision (as ``kubectl rollout undo``). Idempotent; dry-runs first.

        Raises :class:`RestoreIncomplete` after restoring everything else if the pre-state revision's
        ReplicaSet is gone.
        """
        deployment = await self.read()
        writes: list[_Write | None] = []
        problems = []
        if pre_state.replicas is not None and not await self.has_hpa():
            writes.append(self._scale_write(deployment, pre_state.replicas))
        for cm in pre_state.config_maps:
            values: dict[str, str | None] = {**cm.data, **dict.fromkeys(cm.absent_keys)}
            try:
                writes.append(await self._config_write(cm.name, values, None))
            except ApiException as exc:
                if exc.status != 404:
                    raise
                problems.append(f"ConfigMap {cm.name} no longer exists")
        if pre_state.revision is not None:
            try:
                writes.append(await self._rollback_write(deployment, pre_state.revision))
            except RevisionNotFound as exc:
                problems.append(str(exc))
        pending = [w for w in writes if w is not None]
        diff, applied = await self._apply(pending, propose_only=False) if pending else ("", False)
        if problems:
            raise RestoreIncomplete("; ".join(problems))
        what = "; ".join(w.what for w in pending) or "nothing to restore: already at the pre-state"
        return ApplyResult(applied=applied, message=what, marker=str(pre_state.revision), diff=diff)


def _need(marker: str | None) -> str:
    if not marker:
        raise ValueError("this action needs a marker (restartedAt value): see restart_marker()")
    return marker


# ---------------------------------------------------------------- lease


class TargetLease:
    """A coordination.k8s.io/v1 Lease ``maintenance-<deployment>`` so two remediations never overlap.

    ``holder`` is the Remediation's name. The lease is free when absent, when its holderIdentity is empty,
    or when renewTime + leaseDurationSeconds has passed.
    """

    def __init__(
        self,
        api_client: client.ApiClient,
        *,
        namespace: str,
        deployment: str,
        holder: str,
        duration_seconds: int,
    ) -> None:
        self.namespace = namespace
        self.name = f"{LEASE_PREFIX}{deployment}"[:253]
        self.holder = holder
        self.duration_seconds = duration_seconds
        # CustomObjectsApi passes dicts through: the typed Lease model re-serialises MicroTime without the
        # six fractional digits the API server requires whenever microseconds are 0.
        self._api = client.CustomObjectsApi(api_client)
        self._path = ("coordination.k8s.io", "v1", namespace, "leases")

    def _spec(self, now: datetime, acquired: str | None, transitions: int) -> dict[str, Any]:
        stamp = timestamps.rfc3339_micro(now)
        return {
            "holderIdentity": self.holder,
            "leaseDurationSeconds": self.duration_seconds,
            "acquireTime": acquired or stamp,
            "renewTime": stamp,
            "leaseTransitions": transitions,
        }

    @errors.boundary
    async def read(self) -> dict[str, Any] | None:
        """The Lease, None if absent."""
        try:
            return await _raw(self._api.get_namespaced_custom_object, *self._path, self.name)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    @errors.boundary
    async def current_holder(self, *, now: datetime | None = None) -> str | None:
        """Who holds the lease now (None when free or expired)."""
        lease = await self.read()
        if lease is None or _expired(lease, now or datetime.now(UTC)):
            return None
        return (lease.get("spec") or {}).get("holderIdentity") or None

    @errors.boundary
    async def acquire(self, *, now: datetime | None = None) -> bool:
        """Take or renew the lease; False if another holder has it and it has not expired."""
        now = now or datetime.now(UTC)
        lease = await self.read()
        if lease is None:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {
                    "name": self.name,
                    "namespace": self.namespace,
                    "labels": {"app.kubernetes.io/managed-by": EVENT_COMPONENT},
                },
                "spec": self._spec(now, None, 0),
            }
            try:
                await _raw(
                    self._api.create_namespaced_custom_object, *self._path, body, field_manager=FIELD_MANAGER
                )
                return True
            except ApiException as exc:
                if exc.status != 409:
                    raise
                return False  # someone created it first
        spec = lease.get("spec") or {}
        ours = spec.get("holderIdentity") == self.holder
        if not ours and spec.get("holderIdentity") and not _expired(lease, now):
            return False
        transitions = int(spec.get("leaseTransitions") or 0) + (0 if ours else 1)
        lease["spec"] = self._spec(now, spec.get("acquireTime") if ours else None, transitions)
        try:
            await _raw(
                self._api.replace_namespaced_custom_object,
                *self._path,
                self.name,
                lease,
                field_manager=FIELD_MANAGER,
            )
        except ApiException as exc:
            if exc.status != 409:
                raise
            return False  # changed under us: someone else won
        return True

    @errors.boundary
    async def renew(self, *, now: datetime | None = None) -> bool:
        """Extend our lease; False if it is not ours any more."""
        if await self.current_holder(now=now) != self.holder:
            return False
        return await self.acquire(now=now)

    @errors.boundary
    async def release(self) -> bool:
        """Give the lease up if we hold it (clear holderIdentity, conditional on the resourceVersion)."""
        lease = await self.read()
        if lease is None:
            return True
        if (lease.get("spec") or {}).get("holderIdentity") != self.holder:
            return False
        rv = (lease.get("metadata") or {}).get("resourceVersion")
        try:
            # clear the holder rather than delete: the operator needs no delete permission at all, and a
            # resourceVersion in the patch makes it conditional on nobody having taken the lease since
            await _raw(
                self._api.patch_namespaced_custom_object,
                *self._path,
                self.name,
                {"metadata": {"resourceVersion": rv}, "spec": {"holderIdentity": None}},
            )
        except ApiException as exc:
            if exc.status == 404:
                return True
            if exc.status == 409:
                return False
            raise
        return True


def _expired(lease: Mapping[str, Any], now: datetime) -> bool:
    spec = lease.get("spec") or {}
    renewed = spec.get("renewTime") or spec.get("acquireTime")
    if not renewed:
        return True
    renewed_at = timestamps.parse(str(renewed))
    return now >= renewed_at + timedelta(seconds=int(spec.get("leaseDurationSeconds") or 0))
