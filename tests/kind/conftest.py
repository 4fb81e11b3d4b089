"""Fixtures of the kind stage (`make e2e-kind`): the cluster hack/kind/e2e.sh prepared, a namespace per test
with the Chat App running as real Pods, and the sample policy with demo timings."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from tests.fixtures import kind as kind_lib


@pytest.fixture(scope="session")
def kind() -> kind_lib.KindCluster:
    return kind_lib.KindCluster.from_env()


@pytest.fixture
def app(kind: kind_lib.KindCluster) -> Iterator[str]:
    """A namespace with the Chat App (2 replicas), its LLM dependency and its load generator, scraped."""
    namespace = f"kind-{uuid.uuid4().hex[:6]}"
    try:
        kind_lib.deploy_chatapp(kind, namespace)
        yield namespace
    finally:
        kind_lib.stack_lib.delete_namespace(kind.api(), namespace)
