"""The shard Leases (coordination.k8s.io/v1 ``<release>-shard-<i>``): read, acquire, renew, release, ask.

Every write is conditional on the resourceVersion just read, so two replicas racing for one shard never
both win. A request for a shard is an annotation on its Lease; the holder's renewal keeps it (a renewal
conflicting with a request retries once)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from maintenance_operator import metrics
from maintenance_operator.adapters import errors, kube
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import sharding, timestamps

WANTED_BY = f"{api.GROUP}/shard-wanted-by"
WANTED_AT = f"{api.GROUP}/shard-wanted-at"


#: Lease calls run on their own threads: behind the shared default executor (busy with API and Prometheus
#: calls under load) a renewal would wait its turn and lose the shard.
_EXECUTOR = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="shard-leases")


async def _raw(call: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """A client call off the event loop, the server's JSON as a dict. Not behind the client-side QPS limit
    either: a renewal queued behind a burst of assessments would lose the shard (client-go's leader
    election likewise renews on its own client); it is a few requests per renew period."""
    metrics.API_REQUESTS.inc()
    bound = functools.partial(call, *args, _preload_content=False, **kwargs)
    response = await asyncio.get_running_loop().run_in_executor(_EXECUTOR, bound)
    data: dict[str, Any] = json.loads(response.data or b"{}")
    return data


def parse(shard: int, lease: dict[str, Any] | None) -> sharding.ShardLease | None:
    """The decision-relevant view of a Lease read from the API (None: absent)."""
    if lease is None:
        return None
    spec = lease.get("spec") or {}
    annotations = (lease.get("metadata") or {}).get("annotations") or {}
    renewed = timestamps.parse_or_none(spec.get("renewTime") or spec.get("acquireTime"))
    wanted_at = timestamps.parse_or_none(annotations.get(WANTED_AT))
    return sharding.ShardLease(
        shard=shard,
        holder=spec.get("holderIdentity") or None,
        renewed=renewed.timestamp() if renewed else None,
        duration=float(spec.get("leaseDurationSeconds") or 0),
        wanted_by=annotations.get(WANTED_BY) or None,
        wanted_at=wanted_at.timestamp() if wanted_at else None,
    )


class ShardLeases:
    """The Leases of `shards` shards named ``<prefix>-<i>`` in `namespace`, written as `identity`."""

    def __init__(
        self,
        api_client: client.ApiClient,
        *,
        namespace: str,
        prefix: str,
        identity: str,
        duration_seconds: int,
    ) -> None:
        self.namespace = namespace
        self.prefix = prefix
        self.identity = identity
        self.duration_seconds = duration_seconds
        self._api = client.CustomObjectsApi(api_client)
        self._path = ("coordination.k8s.io", "v1", namespace, "leases")
        self.raw: dict[int, dict[str, Any] | None] = {}

    def name(self, shard: int) -> str:
        return f"{self.prefix}-{shard}"

    @errors.boundary
    async def read(self, shard: int) -> dict[str, Any] | None:
        """One shard's Lease (None if absent); remembered for the conditional write that follows."""
        try:
            lease = await _raw(self._api.get_namespaced_custom_object, *self._path, self.name(shard))
        except ApiException as exc:
            if exc.status != 404:
                raise
            lease = None
        self.raw[shard] = lease
        return lease

    async def read_all(self, shards: int) -> dict[int, sharding.ShardLease | None]:
        """Every shard's Lease, one GET each, concurrently (no LIST)."""
        found = await asyncio.gather(*(self.read(s) for s in range(shards)))
        return {s: parse(s, lease) for s, lease in enumerate(found)}

    def _spec(self, now: datetime, *, acquired: str | None, transitions: int) -> dict[str, Any]:
        stamp = timestamps.rfc3339_micro(now)
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": self.duration_seconds,
            "acquireTime": acquired or stamp,
            "renewTime": stamp,
            "leaseTransitions": transitions,
        }

    @errors.boundary
    async def acquire(self, shard: int, *, now: datetime | None = None) -> bool:
        """Take a free shard (creating its Lease if absent); False if another replica won the race. A
        request for the shard is cleared."""
        now = now or datetime.now(UTC)
        lease = self.raw.get(shard)
        if lease is None:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {
                    "name": self.name(shard),
                    "namespace": self.namespace,
                    "labels": {"app.kubernetes.io/managed-by": kube.EVENT_COMPONENT},
                },
                "spec": self._spec(now, acquired=None, transitions=0),
            }
            return await self._write(self._api.create_namespaced_custom_object, *self._path, body)
        spec = lease.get("spec") or {}
        lease["spec"] = self._spec(now, acquired=None, transitions=int(spec.get("leaseTransitions") or 0) + 1)
        annotations = dict((lease.get("metadata") or {}).get("annotations") or {})
        annotations.pop(WANTED_BY, None)
        annotations.pop(WANTED_AT, None)
        lease["metadata"]["annotations"] = annotations
        return await self._replace(shard, lease)

    @errors.boundary
    async def renew(self, shard: int, *, now: datetime | None = None) -> bool:
        """Extend a Lease that names us; False if it does not any more. Retries once on a conflict (a
        request annotation written between our read and our write)."""
        for _ in range(2):
            lease = self.raw.get(shard)
            if lease is None or (lease.get("spec") or {}).get("holderIdentity") != self.identity:
                return False
            spec = lease["spec"]
            lease["spec"] = self._spec(
                now or datetime.now(UTC),
                acquired=spec.get("acquireTime"),
                transitions=int(spec.get("leaseTransitions") or 0),
            )
            if await self._replace(shard, lease):
                return True
            await self.read(shard)
        return False

    @errors.boundary
    async def release(self, shard: int) -> bool:
        """Hand a shard over: clear the holder (the request stays, so the asker claims it first)."""
        lease = self.raw.get(shard)
        if lease is None or (lease.get("spec") or {}).get("holderIdentity") != self.identity:
            return False
        lease["spec"]["holderIdentity"] = None
        return await self._replace(shard, lease)

    @errors.boundary
    async def ask(self, shard: int, *, now: datetime | None = None) -> bool:
        """Ask the holder of `shard` to hand it over (an annotation on its Lease)."""
        lease = self.raw.get(shard)
        if lease is None:
            return False
        metadata = lease.setdefault("metadata", {})
        metadata["annotations"] = {
            **(metadata.get("annotations") or {}),
            WANTED_BY: self.identity,
            WANTED_AT: timestamps.rfc3339_micro(now or datetime.now(UTC)),
        }
        return await self._replace(shard, lease)

    async def _replace(self, shard: int, lease: dict[str, Any]) -> bool:
        written = await self._write(
            self._api.replace_namespaced_custom_object, *self._path, self.name(shard), lease
        )
        return written

    async def _write(self, call: Callable[..., Any], *args: Any) -> bool:
        try:
            result = await _raw(call, *args, field_manager=kube.FIELD_MANAGER)
        except ApiException as exc:
            if exc.status in (404, 409):
                return False
            raise
        name = str((result.get("metadata") or {}).get("name") or "")
        if name.startswith(f"{self.prefix}-"):
            self.raw[int(name.rsplit("-", 1)[1])] = result
        return True
