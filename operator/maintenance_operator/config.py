"""Operator settings from the environment, and the kopf settings chosen at startup."""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import kopf
from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from maintenance_operator.api import v1alpha1
from maintenance_operator.domain import notification

#: The Claude model when neither the policy nor MAINTENANCE_OPERATOR_DEFAULT_MODEL names one.
DEFAULT_MODEL = "claude-sonnet-4-6"

FINALIZER = f"{v1alpha1.GROUP}/finalizer"
FIELD_MANAGER = "maintenance-operator"
ENV_PREFIX = "MAINTENANCE_OPERATOR_"
#: kopf workers per watched kind = this * max_concurrent_assessments (16 -> 64).
KOPF_WORKERS_PER_ASSESSMENT_SLOT = 4


#: The variables ``OperatorConfig.from_env(environ)`` reads instead of the process's.
_GIVEN_ENVIRONMENT: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "given_environment", default=None
)


class _GivenEnvironment(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping (names are case-insensitive)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k.lower(): v for k, v in self._environ.items()}


class OperatorConfig(BaseSettings):
    """Process-wide settings; each field reads MAINTENANCE_OPERATOR_<FIELD_NAME_UPPER> from the env."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    namespaces: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Namespaces to watch (comma-separated); empty means all."
    )
    prometheus_url: str = Field(default="http://prometheus:9090", description="Default Prometheus base URL.")
    prometheus_timeout_seconds: float = Field(default=10.0, description="Default timeout of one query.")
    prometheus_max_concurrent_queries: int = Field(
        default=8, ge=1, description="Prometheus queries in flight at once, all endpoints together."
    )
    prometheus_queries_per_second: float = Field(
        default=100.0,
        ge=0,
        description="Queries started per second on one Prometheus endpoint (0: no limit).",
    )
    anthropic_api_key_env: str = Field(
        default="ANTHROPIC_API_KEY", description="Environment variable holding the default Anthropic API key."
    )
    default_model: str = Field(default=DEFAULT_MODEL, description="Claude model when a policy names none.")
    metrics_port: int = Field(default=8080, description="Port of the operator's Prometheus metrics.")
    liveness_endpoint: str = Field(default="http://0.0.0.0:8081/healthz", description="kopf liveness URL.")
    log_format: str = Field(default="json", description="json or text.")
    log_level: str = Field(default="INFO", description="Python log level.")
    watch_inactivity_timeout: float = Field(
        default=70.0, description="Seconds before an idle watch reconnects."
    )
    request_timeout: float = Field(default=60.0, description="Seconds for one API request.")
    connect_timeout: float = Field(default=10.0, description="Seconds to connect to the API server.")
    lease_seconds: int = Field(default=600, description="Duration of the per-target execution Lease.")
    notify_webhook_secret: str | None = Field(
        default=None, description="namespace/name/key of a Secret with a Slack-compatible webhook URL."
    )
    webhook_port: int | None = Field(default=None, description="Port for the admission webhook server.")
    webhook_host: str = Field(
        default="localhost", description="Host the API server uses to reach the webhook."
    )
    webhook_mode: str = Field(default="none", description="none, local (self-signed, loopback) or server.")
    webhook_cert_file: str = Field(
        default="/etc/maintenance-operator/webhook-tls/tls.crt",
        description="Serving certificate (server mode).",
    )
    webhook_key_file: str = Field(
        default="/etc/maintenance-operator/webhook-tls/tls.key", description="Serving key (server mode)."
    )
    default_daily_token_budget: int = Field(
        default=200_000, description="Daily LLM token budget for policies that do not set one."
    )
    peering: str | None = Field(default=None, description="kopf peering name for standby replicas.")
    priority: int = Field(default=0, description="kopf peering priority; standbys need distinct values.")
    policy_alert_rules: bool = Field(
        default=False, description="Render a PrometheusRule from each policy's indicators."
    )
    policy_alert_rule_labels: str = Field(
        default="", description="k=v,k2=v2 labels on those PrometheusRules (the Prometheus ruleSelector)."
    )
    notify_format: Literal["slack", "generic"] = Field(
        default="slack", description="Webhook payload: slack (incoming-webhook message) or generic JSON."
    )
    notify_events: str = Field(
        default="", description="Comma-separated event types to send (e.g. SLABreached,Report); empty: all."
    )
    notify_min_severity: Literal["critical", "high", "medium", "low"] = Field(
        default="low", description="Least severity notified (events without a severity always pass)."
    )
    health_alert_threshold: float = Field(
        default=7.0, ge=1.0, le=10.0, description="Overall score below which a HealthAlert is notified."
    )

    @field_validator("namespaces", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return [n.strip() for n in value.split(",") if n.strip()] if isinstance(value, str) else value

    max_concurrent_assessments: int = Field(
        default=16, ge=1, description="Assessments run at once; the rest wait in a per-namespace fair queue."
    )
    schedule_spread_seconds: float = Field(
        default=10.0, ge=0, description="Policies never assessed (or overdue) start within this, by hash."
    )
    api_qps: float = Field(default=50.0, gt=0, description="Client-side API requests per second (refill).")
    api_burst: int = Field(default=100, ge=1, description="Client-side API request burst.")
    api_max_in_flight: int = Field(
        default=16,
        ge=1,
        description="Client-side API requests in flight at once (threads, pooled connections).",
    )
    sharding_enabled: bool = Field(
        default=False, description="Split policies across replicas by shard Leases (else kopf peering)."
    )
    sharding_shards: int = Field(default=3, ge=1, description="Shards the policies are hashed into.")
    sharding_lease_duration_seconds: int = Field(
        default=15, ge=3, description="A dead replica's shards are taken over within this (plus a renewal)."
    )
    sharding_lease_namespace: str = Field(
        default="", description="Namespace of the shard Leases (empty: POD_NAMESPACE, else default)."
    )
    sharding_lease_prefix: str = Field(
        default="maintenance-operator-shard", description="Shard i's Lease is named <prefix>-<i>."
    )

    @field_validator("notify_events")
    @classmethod
    def _known_events(cls, value: str) -> str:
        notification.parse_filter(types=value.split(","), min_severity=None)
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment: the process's, or the one ``from_env`` was given."""
        given = _GIVEN_ENVIRONMENT.get()
        return (init_settings, env_settings if given is None else _GivenEnvironment(settings_cls, given))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OperatorConfig:
        """Settings from MAINTENANCE_OPERATOR_* variables (the process's, or ``environ`` alone); unknown
        variables are ignored."""
        token = _GIVEN_ENVIRONMENT.set(environ)
        try:
            return cls()
        finally:
            _GIVEN_ENVIRONMENT.reset(token)


def apply_kopf_settings(
    settings: kopf.OperatorSettings, config: OperatorConfig, *, identity: str | None = None
) -> None:
    """Production settings chosen on day one: changing storage later would make every object look new.

    ``identity`` (see :func:`operator_identity`) becomes every Event's ``reportingInstance``: after a
    restart the Events of one object say which operator Pod did each step (kopf's default is "dev").
    """
    prefix = v1alpha1.GROUP
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=prefix)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=prefix, key="last-handled-configuration"
    )
    settings.persistence.finalizer = FINALIZER
    settings.watching.inactivity_timeout = config.watch_inactivity_timeout
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = config.connect_timeout
    settings.networking.request_timeout = config.request_timeout
    settings.networking.connect_timeout = config.connect_timeout
    settings.posting.loggers = False
    if identity:
        settings.posting.reporting_instance = identity
    settings.execution.max_workers = 8
    # Per watched kind, objects handled at once: without a bound, 1,000 policies resumed (or assessments
    # queued) at once each hold a worker, a body and a handler while they wait for the API or a slot.
    settings.queueing.worker_limit = KOPF_WORKERS_PER_ASSESSMENT_SLOT * config.max_concurrent_assessments
    settings.queueing.error_delays = (1, 2, 5, 10, 30, 60)
    if config.peering is None or config.sharding_enabled:  # sharded replicas all run: no peering
        settings.peering.standalone = True
    else:
        settings.peering.name = config.peering
        settings.peering.priority = config.priority
        settings.peering.mandatory = True


def operator_identity(environ: dict[str, str], *, uid: int, hostname: str, pid: int) -> str:
    """This process's kopf peering identity, without ``getpass``.

    kopf's own guess calls ``getpass.getuser()``, which raises when the container runs as a uid that has
    no /etc/passwd entry (``runAsUser`` overridden, OpenShift's random uids): a crash loop at startup.
    In a Pod the chart sets POD_NAME; out of cluster the user, host and pid identify the process.
    """
    for key in ("POD_ID", "POD_NAME"):
        if environ.get(key):
            return environ[key]
    user = next((environ[k] for k in ("USER", "LOGNAME", "USERNAME") if environ.get(k)), f"uid-{uid}")
    return f"{user}@{hostname}/{pid}"
