"""Fault specifications accepted by ``POST /faults``.

Pure data: validation only, no I/O. Field aliases match the camelCase JSON the fault API documents;
snake_case names are accepted too so tests can build specs directly.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

MIB = 1024 * 1024
# Healthy resident memory and the default limit; the default leak rate is derived from them so a leaking
# pod climbs from the healthy level to the limit in about five minutes.
HEALTHY_MEMORY_BYTES = 180 * MIB
DEFAULT_MEMORY_LIMIT_BYTES = 512 * MIB
DEFAULT_LEAK_SECONDS_TO_LIMIT = 300.0
DEFAULT_LEAK_BYTES_PER_SECOND = (
    DEFAULT_MEMORY_LIMIT_BYTES - HEALTHY_MEMORY_BYTES
) / DEFAULT_LEAK_SECONDS_TO_LIMIT

DEFAULT_DEPLOYMENT = "chatapp"
DEFAULT_BAD_IMAGE = "chatapp:1.1"
# Three times the healthy total (100 msg/s): two pods overload (150 msg/s each vs capacity 100),
# three pods sit exactly at capacity, four pods are comfortably under it.
DEFAULT_SURGE_TOTAL_LOAD = 300.0
DEFAULT_CONFIG_NAMESPACE = "default"
DEFAULT_CONFIG_MAP = "chatapp-config"
DEFAULT_CONFIG_KEY = "config.yaml"
DEFAULT_CONFIG_BAD_VALUE = "plugins: [unterminated\n"
DEFAULT_FLAP_PERIOD_SECONDS = 30.0


class _Spec(BaseModel):
    """Common base: strict about unknown fields so typos in a POST body fail loudly (400)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    deployment: str = Field(default=DEFAULT_DEPLOYMENT, min_length=1)
    # None = the named Deployment in any namespace.
    namespace: str | None = None


class MemoryLeakSpec(_Spec):
    type: Literal["memory_leak"] = "memory_leak"
    bytes_per_second: float = Field(default=DEFAULT_LEAK_BYTES_PER_SECOND, alias="bytesPerSecond", gt=0)


class BadReleaseSpec(_Spec):
    type: Literal["bad_release"] = "bad_release"
    image: str = Field(default=DEFAULT_BAD_IMAGE, min_length=1)


class LoadSurgeSpec(_Spec):
    type: Literal["load_surge"] = "load_surge"
    total_load: float = Field(default=DEFAULT_SURGE_TOTAL_LOAD, alias="totalLoad", ge=0)


class ConfigCorruptionSpec(_Spec):
    type: Literal["config_corruption"] = "config_corruption"
    # A ConfigMap is namespaced and only mountable by pods of its own namespace, so here namespace is
    # both where the ConfigMap lives and where the affected Deployment runs.
    namespace: str | None = DEFAULT_CONFIG_NAMESPACE
    config_map: str = Field(default=DEFAULT_CONFIG_MAP, alias="configMap", min_length=1)
    key: str = Field(default=DEFAULT_CONFIG_KEY, min_length=1)
    bad_value: str = Field(default=DEFAULT_CONFIG_BAD_VALUE, alias="badValue")

    @property
    def config_namespace(self) -> str:
        return self.namespace or DEFAULT_CONFIG_NAMESPACE


class LlmSlowdownSpec(_Spec):
    type: Literal["llm_slowdown"] = "llm_slowdown"


class FlappingSpec(_Spec):
    type: Literal["flapping"] = "flapping"
    period_seconds: float = Field(default=DEFAULT_FLAP_PERIOD_SECONDS, alias="periodSeconds", gt=0)


FaultSpec = Annotated[
    MemoryLeakSpec | BadReleaseSpec | LoadSurgeSpec | ConfigCorruptionSpec | LlmSlowdownSpec | FlappingSpec,
    Field(discriminator="type"),
]
FAULT_TYPES = ("memory_leak", "bad_release", "load_surge", "config_corruption", "llm_slowdown", "flapping")

_ADAPTER: TypeAdapter[FaultSpec] = TypeAdapter(FaultSpec)


def parse_fault_spec(body: object) -> FaultSpec:
    """Validate a decoded JSON body; raises pydantic.ValidationError on bad input."""
    return _ADAPTER.validate_python(body)


def spec_to_json(spec: FaultSpec) -> dict[str, object]:
    """The spec as the API shows it (camelCase, defaults filled in)."""
    return spec.model_dump(mode="json", by_alias=True)
