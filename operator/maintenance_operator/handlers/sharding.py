"""Sharded replicas: claim shard Leases at startup (before any watch), keep them, feed the scheduler.

Every replica watches every object; one holding a policy's shard is the only one that schedules, assesses,
advances remediations of, or writes kopf state on, that policy's objects. kopf's progress and diff-base
annotations are written only for owned objects: a replica skipping an object it does not own must not mark
it handled for the owner. Registered after probes and schedule, whose startup it needs."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

import kopf

from maintenance_operator.adapters import crs, shard_leases
from maintenance_operator.config import OperatorConfig, operator_identity
from maintenance_operator.handlers import common, schedule
from maintenance_operator.reconcilers import shards as shards_lib

log = logging.getLogger(__name__)
Owns = Callable[[Mapping[str, Any]], bool]


class OwnedProgressStorage(kopf.AnnotationsProgressStorage):
    """kopf's annotation progress storage that writes only on objects this replica owns."""

    def __init__(self, *, owns: Owns, prefix: str) -> None:
        super().__init__(prefix=prefix)
        self.owns = owns

    def store(self, *, body: Any, **kwargs: Any) -> None:
        if self.owns(body):
            super().store(body=body, **kwargs)

    def purge(self, *, body: Any, **kwargs: Any) -> None:
        if self.owns(body):
            super().purge(body=body, **kwargs)

    def touch(self, *, body: Any, **kwargs: Any) -> None:
        if self.owns(body):
            super().touch(body=body, **kwargs)


class OwnedDiffBaseStorage(kopf.AnnotationsDiffBaseStorage):
    """kopf's annotation diff-base storage that writes only on objects this replica owns."""

    def __init__(self, *, owns: Owns, prefix: str, key: str) -> None:
        super().__init__(prefix=prefix, key=key)
        self.owns = owns

    def store(self, *, body: Any, **kwargs: Any) -> None:
        if self.owns(body):
            super().store(body=body, **kwargs)


def guard_storages(settings: kopf.OperatorSettings, owns: Owns) -> None:
    """Swap kopf's annotation storages (as configured by apply_kopf_settings) for owner-only ones."""
    progress = settings.persistence.progress_storage
    diffbase = settings.persistence.diffbase_storage
    assert isinstance(progress, kopf.AnnotationsProgressStorage)
    assert isinstance(diffbase, kopf.AnnotationsDiffBaseStorage)
    settings.persistence.progress_storage = OwnedProgressStorage(owns=owns, prefix=progress.prefix or "")
    settings.persistence.diffbase_storage = OwnedDiffBaseStorage(
        owns=owns, prefix=diffbase.prefix or "", key=diffbase.key
    )


def identity() -> str:
    return operator_identity(dict(os.environ), uid=os.getuid(), hostname=os.uname().nodename, pid=os.getpid())


@kopf.on.startup()
async def start_sharding(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    config = OperatorConfig.from_env()
    if not config.sharding_enabled:
        return
    # its own client (and threads, see adapters/shard_leases): renewals never queue behind the fleet's calls
    memo.shards_api = crs.new_api_client()
    store = shard_leases.ShardLeases(
        memo.shards_api,
        namespace=config.sharding_lease_namespace or os.environ.get("POD_NAMESPACE") or "default",
        prefix=config.sharding_lease_prefix,
        identity=identity(),
        duration_seconds=config.sharding_lease_duration_seconds,
    )
    shards = shards_lib.Shards(
        count=config.sharding_shards, store=store, duration=float(config.sharding_lease_duration_seconds)
    )
    fleet = schedule.fleet_of(memo)
    fleet.owns = lambda key: shards.owns(*key)
    shards.listeners.append(lambda gained, lost: fleet.reshard())
    # a shard taken over may hold assessments its previous holder never finished (an alert's included)
    shards.listeners.append(lambda gained, lost: fleet.adopt_soon(store.identity) if gained else None)
    guard_storages(settings, lambda body: common.owned(body, memo))
    memo.shards = shards
    await shards.round()  # own shards before the first watch event arrives
    memo.shards_task = asyncio.create_task(shards.run())
    log.info("sharding on: %s shards, identity %s, holding %s", shards.count, store.identity, shards.held)


@kopf.on.cleanup()
async def stop_sharding(memo: kopf.Memo, **_: Any) -> None:
    task = getattr(memo, "shards_task", None)
    if isinstance(task, asyncio.Task):
        task.cancel()
    shards = getattr(memo, "shards", None)
    if isinstance(shards, shards_lib.Shards):
        await shards.release_all()
    api_client = getattr(memo, "shards_api", None)
    if api_client is not None:
        api_client.close()
