"""API types of maintenance.chatapp.io/v1alpha1: the single source of truth for crds/.

Every field's description becomes the CRD's `kubectl explain` text; CEL rules live next to the
fields they guard (``x-kubernetes-validations``) and are mirrored by pydantic validators so that
the operator rejects the same objects in process (for example, plans proposed by a planner).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator
from pydantic.alias_generators import to_camel

GROUP = "maintenance.chatapp.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

DURATION_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}

Duration = Annotated[
    str,
    Field(pattern=DURATION_PATTERN, max_length=32, description="A duration such as 30s, 5m, 1h30m."),
]
ObjectName = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]


def parse_duration(value: str) -> float:
    """Seconds in a Kubernetes-style duration string; raises ValueError on anything else."""
    if not re.fullmatch(DURATION_PATTERN, value):
        raise ValueError(f"invalid duration {value!r}: use forms like 30s, 5m, 1h30m")
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(value))


def cel(
    rule: str, message: str, *, field_path: str | None = None, reason: str | None = None
) -> dict[str, str]:
    """One x-kubernetes-validations entry."""
    entry = {"rule": rule, "message": message}
    if field_path:
        entry["fieldPath"] = field_path
    if reason:
        entry["reason"] = reason
    return entry


def guarded(*rules: dict[str, str]) -> ConfigDict:
    """Model config of a spec type whose CEL rules are published in the CRD."""
    return ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        extra="forbid",
        json_schema_extra={"x-kubernetes-validations": cast(list[JsonValue], list(rules))},
    )


class Model(BaseModel):
    """Base of every API type: camelCase on the wire, immutable in the operator."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid", use_enum_values=False
    )

    def wire(self) -> dict[str, Any]:
        """The object as the API server stores it (camelCase, no unset optionals)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class StatusModel(Model):
    """Status types tolerate fields written by newer operator versions."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore", use_enum_values=False
    )


# ---------------------------------------------------------------- shared types


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(StatusModel):
    """A condition per the Kubernetes API conventions."""

    type: str = Field(description="Type of condition in CamelCase, e.g. Ready, HealthAlert, Approved.")
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field(default="", description="Machine-readable CamelCase reason for the last transition.")
    message: str = Field(default="", max_length=4096, description="Human-readable details.")
    last_transition_time: str | None = Field(default=None, description="When status last changed (RFC 3339).")
    observed_generation: int | None = Field(default=None, description="metadata.generation this reflects.")


class LocalObjectReference(Model):
    """A reference to an object in the same namespace."""

    name: ObjectName = Field(description="Name of the referenced object.")


class SecretKeyRef(Model):
    """A key of a Secret in the same namespace as the referring object."""

    name: ObjectName = Field(description="Name of the Secret.")
    key: str = Field(default="token", min_length=1, max_length=253, description="Key within the Secret.")


class TargetRef(Model):
    """The Deployment this policy maintains. It must live in the policy's own namespace."""

    model_config = guarded(
        cel(
            "!has(self.namespace)",
            "targetRef.namespace is not supported: the target must be in the policy's own namespace",
            field_path=".namespace",
        )
    )

    api_version: Literal["apps/v1"] = Field(default="apps/v1", description="API version of the target.")
    kind: Literal["Deployment"] = Field(default="Deployment", description="Kind of the target.")
    name: ObjectName = Field(description="Name of the Deployment in the policy's namespace.")
    namespace: str | None = Field(
        default=None, description="Not supported: present only so that setting it fails loudly at admission."
    )

    @field_validator("namespace")
    @classmethod
    def _no_namespace(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError(
                "targetRef.namespace is not supported: the target must be in the policy's own namespace"
            )
        return value


class Dimension(StrEnum):
    """The five health dimensions of the Chat App."""

    CORE = "core"
    COMPONENT = "component"
    INTEGRATION = "integration"
    USER_EXPERIENCE = "userExperience"
    OPERATIONAL = "operational"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class RiskLevel(StrEnum):
    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"
    CRITICAL = "Critical"


RISK_ORDER: dict[RiskLevel, int] = {
    RiskLevel.LOW: 0,
    RiskLevel.MEDIUM: 1,
    RiskLevel.HIGH: 2,
    RiskLevel.CRITICAL: 3,
}
SEVERITY_ORDER: dict[Severity, int] = {
    Severity.LOW: 0,
    Severity.MEDIUM: 1,
    Severity.HIGH: 2,
    Severity.CRITICAL: 3,
}


class TokenUsage(StatusModel):
    """LLM tokens spent, as reported by the API."""

    input_tokens: int = Field(default=0, ge=0, description="Uncached input tokens.")
    output_tokens: int = Field(default=0, ge=0, description="Output tokens.")
    cache_creation_input_tokens: int = Field(
        default=0, ge=0, description="Input tokens written to the cache."
    )
    cache_read_input_tokens: int = Field(default=0, ge=0, description="Input tokens read from the cache.")
    calls: int = Field(default=0, ge=0, description="Number of API calls.")
    estimated_cost_usd: float = Field(default=0.0, ge=0, description="Estimated cost in US dollars.")

    @property
    def total(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_creation_input_tokens
            + self.cache_read_input_tokens
        )

    def plus(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_creation_input_tokens=self.cache_creation_input_tokens + other.cache_creation_input_tokens,
            cache_read_input_tokens=self.cache_read_input_tokens + other.cache_read_input_tokens,
            calls=self.calls + other.calls,
            estimated_cost_usd=round(self.estimated_cost_usd + other.estimated_cost_usd, 6),
        )


# ---------------------------------------------------------------- MaintenancePolicy


class PrometheusSpec(Model):
    """Where and how to query Prometheus. Unset fields fall back to the operator's configuration."""

    url: str | None = Field(
        default=None,
        max_length=2048,
        pattern=r"^https?://",
        description="Base URL, e.g. http://prometheus:9090.",
    )
    bearer_token_secret_ref: SecretKeyRef | None = Field(
        default=None, description="Secret key holding a bearer token sent with every query."
    )
    ca_secret_ref: SecretKeyRef | None = Field(
        default=None, description="Secret key holding a PEM CA bundle."
    )
    timeout: Duration | None = Field(
        default=None,
        description=(
            "Timeout of one query. Unset: the operator's "
            "(MAINTENANCE_OPERATOR_PROMETHEUS_TIMEOUT_SECONDS, 10s)."
        ),
    )


class ScheduleSpec(Model):
    """How often the operator assesses the target."""

    model_config = guarded(
        cel("duration(self.healthCheck) >= duration('30s')", "schedule.healthCheck must be at least 30s"),
        cel(
            "duration(self.performanceAnalysis) >= duration(self.healthCheck)",
            "schedule.performanceAnalysis must not be shorter than schedule.healthCheck",
        ),
    )

    health_check: Duration = Field(default="5m", description="Interval of the health check.")
    performance_analysis: Duration = Field(
        default="15m", description="Interval of the deeper performance analysis (trends and forecasts)."
    )

    @model_validator(mode="after")
    def _intervals(self) -> ScheduleSpec:
        if parse_duration(self.health_check) < 30:
            raise ValueError("schedule.healthCheck must be at least 30s")
        if parse_duration(self.performance_analysis) < parse_duration(self.health_check):
            raise ValueError("schedule.performanceAnalysis must not be shorter than schedule.healthCheck")
        return self


class Direction(StrEnum):
    HIGHER_IS_WORSE = "HigherIsWorse"
    LOWER_IS_WORSE = "LowerIsWorse"


class NoDataPolicy(StrEnum):
    INCONCLUSIVE = "Inconclusive"
    HEALTHY = "Healthy"
    FAILED = "Failed"


class ForecastSpec(Model):
    """Forecast exhaustion of a gauge with predict_linear over a lookback window."""

    model_config = guarded(
        cel("has(self.limit) != has(self.limitQuery)", "forecast needs exactly one of limit or limitQuery")
    )

    limit: float | None = Field(default=None, description="Fixed value at which the resource is exhausted.")
    limit_query: str | None = Field(
        default=None,
        max_length=4096,
        description="PromQL giving the exhaustion value (e.g. the memory limit).",
    )
    lookback: Duration = Field(default="10m", description="Range that predict_linear fits over.")
    horizon: Duration = Field(
        default="1h", description="Predicted exhaustion within this horizon is an issue."
    )

    @model_validator(mode="after")
    def _one_limit(self) -> ForecastSpec:
        if (self.limit is None) == (self.limit_query is None):
            raise ValueError("forecast needs exactly one of limit or limitQuery")
        return self


class Indicator(Model):
    """One PromQL signal, judged against thresholds and scored into a dimension."""

    name: str = Field(min_length=1, max_length=63, pattern=DNS_LABEL_PATTERN, description="Unique name.")
    dimension: Dimension = Field(description="Health dimension this indicator scores.")
    category: str = Field(
        default="general",
        max_length=63,
        pattern=DNS_LABEL_PATTERN,
        description="Issue category used by the planner: error-rate, latency, memory, queue, config, "
        "external-dependency, plugins, sessions, logging, general.",
    )
    description: str = Field(default="", max_length=1024, description="What the indicator means to an SRE.")
    query: str = Field(
        min_length=1,
        max_length=4096,
        description="PromQL returning one value per series. $namespace and $deployment are substituted.",
    )
    warning: float = Field(description="Threshold at which the measurement is degraded.")
    critical: float = Field(description="Threshold at which the measurement fails.")
    direction: Direction = Field(
        default=Direction.HIGHER_IS_WORSE, description="Which side of a threshold is bad."
    )
    no_data_policy: NoDataPolicy = Field(
        default=NoDataPolicy.INCONCLUSIVE, description="How an empty or NaN result is judged."
    )
    for_: Duration = Field(
        default="0s", alias="for", description="How long a breach must last to become an issue."
    )
    consecutive_error_limit: int = Field(
        default=4, ge=0, le=100, description="Query errors in a row tolerated before the indicator is Error."
    )
    forecast: ForecastSpec | None = Field(default=None, description="Exhaustion forecast for gauges.")

    model_config = guarded(
        cel(
            "self.direction == 'LowerIsWorse' ? self.critical <= self.warning"
            " : self.critical >= self.warning",
            "critical must be at or beyond warning in the indicator's direction",
        )
    )

    @model_validator(mode="after")
    def _thresholds(self) -> Indicator:
        if self.direction is Direction.LOWER_IS_WORSE:
            ok = self.critical <= self.warning
        else:
            ok = self.critical >= self.warning
        if not ok:
            raise ValueError("critical must be at or beyond warning in the indicator's direction")
        return self


class DimensionWeights(Model):
    """Weights of the dimensions in the overall score, in percent. They must sum to 100."""

    model_config = guarded(
        cel(
            "self.core + self.component + self.integration + self.userExperience + self.operational == 100",
            "dimensionWeights must sum to 100",
        )
    )

    core: int = Field(default=30, ge=0, le=100, description="Core system health weight.")
    component: int = Field(default=25, ge=0, le=100, description="Component health weight.")
    integration: int = Field(default=20, ge=0, le=100, description="Integration health weight.")
    user_experience: int = Field(default=15, ge=0, le=100, description="User experience health weight.")
    operational: int = Field(default=10, ge=0, le=100, description="Operational health weight.")

    @model_validator(mode="after")
    def _sum(self) -> DimensionWeights:
        if sum(self.as_dict().values()) != 100:
            raise ValueError("dimensionWeights must sum to 100")
        return self

    def as_dict(self) -> dict[Dimension, int]:
        return {
            Dimension.CORE: self.core,
            Dimension.COMPONENT: self.component,
            Dimension.INTEGRATION: self.integration,
            Dimension.USER_EXPERIENCE: self.user_experience,
            Dimension.OPERATIONAL: self.operational,
        }


class Route(StrEnum):
    """What happens to an issue of a given severity."""

    AUTO_RESOLVE = "AutoResolve"
    APPROVAL_REQUIRED = "ApprovalRequired"
    MAINTENANCE_WINDOW = "MaintenanceWindow"
    BACKLOG = "Backlog"
    IGNORE = "Ignore"


class SeverityRouting(Model):
    """Routing per severity, after the seed: critical auto-resolves, high needs approval, medium waits for
    a maintenance window, low goes to the backlog."""

    critical: Route = Field(default=Route.AUTO_RESOLVE, description="Route for critical issues.")
    high: Route = Field(default=Route.APPROVAL_REQUIRED, description="Route for high issues.")
    medium: Route = Field(default=Route.MAINTENANCE_WINDOW, description="Route for medium issues.")
    low: Route = Field(default=Route.BACKLOG, description="Route for low issues.")

    def route(self, severity: Severity) -> Route:
        return {
            Severity.CRITICAL: self.critical,
            Severity.HIGH: self.high,
            Severity.MEDIUM: self.medium,
            Severity.LOW: self.low,
        }[severity]


class RestartAction(Model):
    """Rollout restart of the target."""

    enabled: bool = Field(default=True, description="Allow rollout restarts.")


class ScaleAction(Model):
    """Scale the target within bounds."""

    model_config = guarded(cel("self.min <= self.max", "actions.scale.min must be <= actions.scale.max"))

    enabled: bool = Field(default=False, description="Allow scaling.")
    min: int = Field(default=1, ge=1, le=1000, description="Lowest replica count the operator may set.")
    max: int = Field(default=10, ge=1, le=1000, description="Highest replica count the operator may set.")
    max_step: int = Field(default=4, ge=1, le=100, description="Largest change in replicas in one action.")

    @model_validator(mode="after")
    def _bounds(self) -> ScaleAction:
        if self.min > self.max:
            raise ValueError("actions.scale.min must be <= actions.scale.max")
        return self


class ConfigPatchAction(Model):
    """Patch allowlisted keys of one ConfigMap, then restart the target so it reloads them."""

    enabled: bool = Field(default=False, description="Allow ConfigMap patches.")
    config_map_ref: LocalObjectReference | None = Field(
        default=None, description="The only ConfigMap to patch."
    )
    allowed_keys: list[Annotated[str, Field(min_length=1, max_length=253)]] = Field(
        default_factory=list, max_length=64, description="Keys that may be changed; nothing else is touched."
    )

    model_config = guarded(
        cel(
            "!self.enabled || (has(self.configMapRef) && size(self.allowedKeys) > 0)",
            "actions.configPatch needs configMapRef and at least one allowedKeys entry when enabled",
        )
    )

    @model_validator(mode="after")
    def _complete(self) -> ConfigPatchAction:
        if self.enabled and (self.config_map_ref is None or not self.allowed_keys):
            raise ValueError(
                "actions.configPatch needs configMapRef and at least one allowedKeys entry when enabled"
            )
        return self


class RollbackAction(Model):
    """Roll the target back to an earlier revision, as `kubectl rollout undo` does."""

    enabled: bool = Field(default=True, description="Allow rollbacks.")
    max_revisions_back: int = Field(default=3, ge=1, le=20, description="How far back a rollback may go.")


class SetResourcesAction(Model):
    """Set requests and limits of a container (capacity right-sizing); always needs a human approval."""

    enabled: bool = Field(default=False, description="Allow SetResources.")
    max_cpu_cores: float = Field(default=8.0, gt=0, le=256, description="Highest CPU request or limit.")
    max_memory_gib: float = Field(default=32.0, gt=0, le=1024, description="Highest memory request or limit.")
    max_change_factor: float = Field(
        default=4.0, ge=1.0, le=100.0, description="Largest factor by which one value may grow or shrink."
    )


class ActionsSpec(Model):
    """The allowlist: only these typed actions, within these bounds, can ever be executed."""

    restart: RestartAction = Field(default_factory=RestartAction, description="Rollout restart.")
    scale: ScaleAction = Field(default_factory=ScaleAction, description="Scaling within bounds.")
    config_patch: ConfigPatchAction = Field(default_factory=ConfigPatchAction, description="ConfigMap patch.")
    rollback: RollbackAction = Field(default_factory=RollbackAction, description="Rollback to a revision.")
    set_resources: SetResourcesAction = Field(
        default_factory=SetResourcesAction, description="Requests and limits of a container."
    )


MAX_FAILED_ACTION_WINDOW_SECONDS = 720 * 3600.0


class AutoApproveSpec(Model):
    """Plans inside these limits are approved without a human."""

    model_config = guarded(
        cel(
            "!has(self.failedActionWindow) || duration(self.failedActionWindow) <= duration('720h')",
            "autoApprove.failedActionWindow must be at most 720h",
            field_path=".failedActionWindow",
        )
    )

    severities: list[Severity] = Field(
        default_factory=lambda: [Severity.CRITICAL],
        max_length=4,
        description="Severities that may auto-approve.",
    )
    max_risk: RiskLevel = Field(
        default=RiskLevel.MEDIUM, description="Highest operator-computed risk allowed."
    )
    min_confidence: float = Field(
        default=8.0,
        ge=0,
        le=10,
        description="Lowest confidence allowed (the operator's effective confidence, not the model's).",
    )
    require_planner_agreement: bool = Field(
        default=True,
        description="A Claude plan auto-approves only when the offline planner picks the same action types.",
    )
    failed_action_window: Duration = Field(
        default="24h",
        description="An action that failed, was rolled back or rejected for the same issue fingerprint "
        "within this period is never auto-approved again (at most 720h).",
    )

    @field_validator("failed_action_window")
    @classmethod
    def _window_bound(cls, value: str) -> str:
        if parse_duration(value) > MAX_FAILED_ACTION_WINDOW_SECONDS:
            raise ValueError("autoApprove.failedActionWindow must be at most 720h")
        return value


class ApprovalSpec(Model):
    """Human approval settings."""

    expire_after: Duration = Field(
        default="1h", description="An unanswered approval request expires after this."
    )


class RateLimitSpec(Model):
    """Bounds on how often the operator acts on one target."""

    max_per_hour: int = Field(default=3, ge=0, le=60, description="Executed remediations per rolling hour.")
    cooldown: Duration = Field(
        default="10m", description="Minimum time between two executions on the target."
    )
    max_concurrent: int = Field(
        default=1, ge=1, le=1, description="Remediations executing at once (always 1)."
    )


class Weekday(StrEnum):
    MON = "Mon"
    TUE = "Tue"
    WED = "Wed"
    THU = "Thu"
    FRI = "Fri"
    SAT = "Sat"
    SUN = "Sun"


class MaintenanceWindow(Model):
    """A recurring window in which medium-severity remediations may run."""

    days: list[Weekday] = Field(
        default_factory=lambda: list(Weekday),
        min_length=1,
        max_length=7,
        description="Days the window opens.",
    )
    start: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="Opening time HH:MM.")
    duration: Duration = Field(description="How long the window stays open.")
    timezone: str = Field(default="UTC", max_length=64, description="IANA time zone of start.")


class PauseRequest(Model):
    """While any pause request is present (and not expired), no remediation writes anything."""

    name: str = Field(min_length=1, max_length=63, description="Who or what asked for the pause.")
    reason: str = Field(default="", max_length=1024, description="Why.")
    until: str | None = Field(default=None, description="RFC 3339 time after which the pause lapses.")


class SafetySpec(Model):
    """Guards checked before every write."""

    min_available: int = Field(
        default=1,
        ge=0,
        le=1000,
        description="Do not act if fewer replicas than this are available afterwards.",
    )
    pause_requests: list[PauseRequest] = Field(
        default_factory=list, max_length=16, description="Active pauses."
    )


class VerificationSpec(Model):
    """How a remediation is verified against the indicators that raised the issue."""

    initial_delay: Duration = Field(default="30s", description="Wait after the rollout before measuring.")
    window: Duration = Field(default="2m", description="How long to measure.")
    interval: Duration = Field(default="15s", description="Time between measurements.")
    failure_limit: int = Field(default=1, ge=0, le=20, description="Failed measurements tolerated.")
    inconclusive_limit: int = Field(
        default=2, ge=0, le=20, description="Inconclusive measurements tolerated."
    )


class LLMMode(StrEnum):
    AUTO = "Auto"
    OFFLINE = "Offline"
    OFF = "Off"


class LLMSpec(Model):
    """LLM settings. Auto uses Claude when an API key is configured, the offline planner otherwise."""

    mode: LLMMode = Field(default=LLMMode.AUTO, description="Auto, Offline (offline planner only) or Off.")
    model: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        pattern=r"^[a-z0-9][-a-z0-9.@_]*$",
        description=(
            "Claude model name. Unset: the operator's "
            "(MAINTENANCE_OPERATOR_DEFAULT_MODEL, claude-sonnet-4-6)."
        ),
    )
    secret_ref: SecretKeyRef | None = Field(
        default=None, description="Secret key with the Anthropic API key (else the operator's default)."
    )
    daily_token_budget: int | None = Field(
        default=None,
        ge=0,
        le=100_000_000,
        description=(
            "Tokens per UTC day; over budget, the offline planner plans; 0 never calls Claude. "
            "Unset: the operator's default (MAINTENANCE_OPERATOR_DEFAULT_DAILY_TOKEN_BUDGET, 200000)."
        ),
    )
    max_output_tokens: int = Field(default=2048, ge=256, le=16384, description="Output tokens per call.")
    timeout: Duration = Field(default="30s", description="Timeout of one API call.")


class TrendSpec(Model):
    """Baseline used to call a dimension improving, stable or degrading."""

    baseline_window: Duration = Field(default="30m", description="Window averaged for the baseline.")
    baseline_offset: Duration = Field(default="30m", description="How far back the baseline window ends.")
    z_score_threshold: float = Field(default=2.0, gt=0, le=10, description="|z| beyond this is a trend.")
    min_samples: int = Field(default=10, ge=2, le=10000, description="Fewer baseline samples: trend unknown.")


class SeverityDurations(Model):
    """One duration per severity."""

    critical: Duration = Field(description="For critical issues.")
    high: Duration = Field(description="For high issues.")
    medium: Duration = Field(description="For medium issues.")
    low: Duration = Field(description="For low issues.")

    def of(self, severity: Severity) -> str:
        return {
            Severity.CRITICAL: self.critical,
            Severity.HIGH: self.high,
            Severity.MEDIUM: self.medium,
            Severity.LOW: self.low,
        }[severity]


def _framework_targets() -> SeverityDurations:
    return SeverityDurations(critical="15m", high="1h", medium="4h", low="24h")


_SLA_ORDER_MESSAGE = "sla.resolution must not be shorter than sla.response for any severity"


class SLASpec(Model):
    """Response and resolution targets per severity, counted from when the breach began (detectedAt)."""

    model_config = guarded(
        cel(
            " && ".join(
                f"duration(self.resolution.{s}) >= duration(self.response.{s})"
                for s in ("critical", "high", "medium", "low")
            ),
            _SLA_ORDER_MESSAGE,
        ),
    )

    response: SeverityDurations = Field(
        default=_framework_targets(),
        description="Time to respond (executing, or a human decision). Default 15m/1h/4h/24h.",
    )
    resolution: SeverityDurations = Field(
        default=_framework_targets(),
        description="Time to a verified fix. Default 15m/1h/4h/24h.",
    )
    at_risk_fraction: float = Field(
        default=0.75, ge=0.1, le=0.99, description="Share of a target elapsed before it counts as at risk."
    )
    reminder_interval: Duration = Field(
        default="1h", description="Minimum time between two reminders about the same open issue."
    )

    @model_validator(mode="after")
    def _ordered(self) -> SLASpec:
        if any(parse_duration(self.resolution.of(s)) < parse_duration(self.response.of(s)) for s in Severity):
            raise ValueError(_SLA_ORDER_MESSAGE)
        return self


class HistorySpec(Model):
    """How long finished Remediations and remediation outcomes are kept (the metrics keep the long record)."""

    model_config = guarded(
        cel("duration(self.retention) >= duration('1h')", "history.retention must be at least 1h"),
    )

    retention: Duration = Field(
        default="720h", description="Finished Remediations and outcomes older than this are pruned (30 days)."
    )

    @model_validator(mode="after")
    def _minimum(self) -> HistorySpec:
        if parse_duration(self.retention) < 3600:
            raise ValueError("history.retention must be at least 1h")
        return self


class MaintenancePolicySpec(Model):
    """What to watch on a target Deployment and what the operator may do about it."""

    target_ref: TargetRef = Field(description="The Deployment to maintain (same namespace).")
    prometheus: PrometheusSpec = Field(default_factory=PrometheusSpec, description="Prometheus connection.")
    schedule: ScheduleSpec = Field(default_factory=ScheduleSpec, description="Assessment intervals.")
    indicators: list[Indicator] = Field(
        min_length=1, max_length=64, description="PromQL indicators, each in one of the five dimensions."
    )
    dimension_weights: DimensionWeights = Field(
        default_factory=DimensionWeights, description="Weights of the dimensions (sum 100)."
    )
    trend: TrendSpec = Field(default_factory=TrendSpec, description="Trend baseline.")
    severity_routing: SeverityRouting = Field(
        default_factory=SeverityRouting, description="Routing per severity."
    )
    actions: ActionsSpec = Field(default_factory=ActionsSpec, description="Allowlisted actions and bounds.")
    auto_approve: AutoApproveSpec = Field(
        default_factory=AutoApproveSpec, description="Auto-approval limits."
    )
    approval: ApprovalSpec = Field(default_factory=ApprovalSpec, description="Human approval settings.")
    rate_limit: RateLimitSpec = Field(default_factory=RateLimitSpec, description="Rate limits per target.")
    maintenance_windows: list[MaintenanceWindow] = Field(
        default_factory=list, max_length=16, description="Windows for medium-severity remediations."
    )
    safety: SafetySpec = Field(default_factory=SafetySpec, description="Guards before any write.")
    verification: VerificationSpec = Field(
        default_factory=VerificationSpec, description="Verification settings."
    )
    llm: LLMSpec = Field(default_factory=LLMSpec, description="LLM settings.")
    history_limit: int = Field(default=10, ge=1, le=100, description="HealthAssessments kept per policy.")
    suspend: bool = Field(default=False, description="Stop assessing and acting until unset.")
    sla: SLASpec = Field(default=SLASpec(), description="Response and resolution targets per severity.")
    history: HistorySpec = Field(
        default=HistorySpec(), description="Retention of finished Remediations and outcomes."
    )
    analyses: AnalysesSpec = Field(
        default_factory=lambda: AnalysesSpec(),
        description="Capacity planning, configuration audit and security posture review.",
    )

    @field_validator("indicators")
    @classmethod
    def _unique_names(cls, value: list[Indicator]) -> list[Indicator]:
        names = [i.name for i in value]
        if len(names) != len(set(names)):
            raise ValueError("indicator names must be unique")
        return value


class PolicyPhase(StrEnum):
    ACTIVE = "Active"
    SUSPENDED = "Suspended"
    DEGRADED = "Degraded"
    ERROR = "Error"


class IndicatorState(StatusModel):
    """Carried between assessments: how long an indicator has breached and how many errors in a row."""

    name: str = Field(description="Indicator name.")
    breaching_since: str | None = Field(default=None, description="When the current breach began (RFC 3339).")
    consecutive_errors: int = Field(default=0, ge=0, description="Query errors in a row.")
    last_good_value: float | None = Field(default=None, description="Last healthy measurement.")


class Outcome(StatusModel):
    """One remediation outcome, the knowledge base the planner reads."""

    fingerprint: str = Field(description="Issue fingerprint.")
    category: str = Field(default="general", description="Issue category.")
    action: str = Field(description="Action type executed.")
    result: str = Field(description="Succeeded, RolledBack, Failed, ...")
    time_to_recover_seconds: float | None = Field(
        default=None, description="From detection to verified recovery."
    )
    at: str = Field(description="When the outcome was recorded (RFC 3339).")
    remediation: str = Field(default="", description="Name of the Remediation.")
    planner: PlannerKind | None = Field(default=None, description="Planner of the plan: Claude or Offline.")
    confidence: float | None = Field(default=None, description="The planner's own confidence 0-10.")
    effective_confidence: float | None = Field(
        default=None, description="The operator's effective confidence 0-10 when the plan was decided."
    )


class KnownGoodConfig(StatusModel):
    """Last values of allowlisted ConfigMap keys seen while the target was healthy."""

    config_map: str = Field(description="ConfigMap name.")
    data: dict[str, str] = Field(default_factory=dict, description="Allowlisted keys and their values.")
    recorded_at: str = Field(description="When recorded (RFC 3339).")


class MaintenancePolicyStatus(StatusModel):
    """Observed state of a MaintenancePolicy."""

    phase: PolicyPhase | None = Field(default=None, description="Active, Suspended, Degraded or Error.")
    observed_generation: int | None = Field(default=None, description="Last generation processed.")
    conditions: list[Condition] = Field(
        default_factory=list, description="Ready, Prometheus, LLM, HealthAlert."
    )
    last_health_check_time: str | None = Field(default=None, description="Last scheduled health check.")
    last_performance_analysis_time: str | None = Field(default=None, description="Last performance analysis.")
    last_assessment: str | None = Field(default=None, description="Name of the newest HealthAssessment.")
    overall_score: float | None = Field(default=None, description="Overall score of the newest assessment.")
    indicator_states: list[IndicatorState] = Field(
        default_factory=list, description="Per-indicator carry-over."
    )
    outcomes: list[Outcome] = Field(
        default_factory=list, description="Recent remediation outcomes (bounded)."
    )
    known_good_config: KnownGoodConfig | None = Field(
        default=None, description="ConfigMap values proven healthy (see candidateConfig)."
    )
    candidate_config: KnownGoodConfig | None = Field(
        default=None, description="Values seen healthy, promoted to knownGoodConfig once they stay healthy."
    )
    token_usage_day: str | None = Field(default=None, description="UTC day (YYYY-MM-DD) of tokenUsage.")
    token_usage: TokenUsage | None = Field(default=None, description="LLM tokens spent on tokenUsageDay.")
    capacity: CapacityReport | None = Field(default=None, description="Newest capacity analysis.")
    config_audit: ConfigAuditReport | None = Field(default=None, description="Newest configuration audit.")
    security: SecurityReport | None = Field(default=None, description="Newest security posture review.")
    calibration: list[PlannerCalibration] = Field(
        default_factory=list, description="How each planner's confidence compares with executed outcomes."
    )


class PlannerCalibration(StatusModel):
    """Confidence against outcomes for one planner (executed remediations only)."""

    planner: PlannerKind = Field(description="Claude or Offline.")
    outcomes: int = Field(default=0, ge=0, description="Executed outcomes with a recorded confidence.")
    succeeded: int = Field(default=0, ge=0, description="Of which succeeded.")
    mean_confidence: float | None = Field(default=None, description="Mean stated confidence, 0-10.")
    success_rate: float | None = Field(default=None, description="Succeeded / outcomes, 0-1.")
    brier_score: float | None = Field(
        default=None, description="Mean (confidence/10 - succeeded)^2: 0 is perfect, 0.25 is a coin toss."
    )
    rejected: int = Field(default=0, ge=0, description="Plans a human rejected or let expire.")


# ---------------------------------------------------------------- HealthAssessment


class Trigger(StrEnum):
    SCHEDULED = "Scheduled"
    ON_DEMAND = "OnDemand"


class AnalysisKind(StrEnum):
    HEALTH_CHECK = "HealthCheck"
    PERFORMANCE_ANALYSIS = "PerformanceAnalysis"


class HealthAssessmentSpec(Model):
    """Which policy to assess. The spec is immutable: create a new assessment to assess again."""

    model_config = guarded(cel("self == oldSelf", "HealthAssessment spec is immutable"))

    policy_ref: LocalObjectReference = Field(description="The MaintenancePolicy in the same namespace.")
    trigger: Trigger = Field(
        default=Trigger.ON_DEMAND, description="Scheduled (by the operator) or OnDemand."
    )
    analysis: AnalysisKind = Field(
        default=AnalysisKind.HEALTH_CHECK,
        description="HealthCheck or PerformanceAnalysis (adds trends, forecasts).",
    )


class MeasurementPhase(StrEnum):
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    INCONCLUSIVE = "Inconclusive"
    ERROR = "Error"


class Measurement(StatusModel):
    """One judged measurement of an indicator."""

    phase: MeasurementPhase = Field(description="Successful, Failed, Inconclusive or Error.")
    value: float | None = Field(default=None, description="Worst value across series; absent when no data.")
    at: str = Field(description="When measured (RFC 3339).")
    message: str = Field(default="", max_length=1024, description="Why, for anything but Successful.")


class IndicatorResult(StatusModel):
    """The indicator's judgement in this assessment."""

    name: str = Field(description="Indicator name.")
    dimension: Dimension = Field(description="Dimension.")
    phase: MeasurementPhase = Field(description="Judgement of the latest measurement.")
    value: float | None = Field(default=None, description="Latest value.")
    score: float | None = Field(default=None, description="Score 1-10 of this indicator; absent if unknown.")
    query: str = Field(description="The query as sent (variables substituted).")
    series: int = Field(default=0, ge=0, description="Number of series in the result.")
    breaching_since: str | None = Field(default=None, description="When the current breach began.")
    message: str = Field(default="", max_length=1024, description="Details.")
    measurements: list[Measurement] = Field(
        default_factory=list, description="Recent measurements, newest last."
    )


class Trend(StrEnum):
    IMPROVING = "improving"
    STABLE = "stable"
    DEGRADING = "degrading"
    UNKNOWN = "unknown"


class DimensionScore(StatusModel):
    """Score of one health dimension."""

    dimension: Dimension = Field(description="Dimension.")
    score: float | None = Field(default=None, description="1-10; absent when there is insufficient data.")
    weight: int = Field(description="Configured weight in percent.")
    effective_weight: float = Field(description="Weight after redistributing unknown dimensions.")
    trend: Trend = Field(default=Trend.UNKNOWN, description="improving, stable, degrading or unknown.")
    z_score: float | None = Field(default=None, description="Worst z-score of the dimension's indicators.")
    indicators: int = Field(default=0, description="Indicators with data.")
    message: str = Field(default="", description="E.g. insufficient data.")


class Forecast(StatusModel):
    """Predicted exhaustion of a gauge."""

    indicator: str = Field(description="Indicator name.")
    current: float = Field(description="Current value.")
    limit: float = Field(description="Exhaustion value.")
    predicted: float = Field(description="Value predicted at the horizon.")
    seconds_to_exhaustion: float | None = Field(
        default=None, description="Absent if never within the horizon."
    )
    horizon_seconds: float = Field(description="Forecast horizon.")
    confidence: float = Field(ge=0, le=1, description="0-1, from sample count and fit.")
    query: str = Field(description="Query used.")


class Evidence(StatusModel):
    """A measured fact behind an issue."""

    query: str = Field(description="PromQL as sent.")
    value: float | None = Field(default=None, description="Observed value.")
    threshold: float | None = Field(default=None, description="Threshold crossed.")
    comparison: str = Field(default="", description="E.g. '>= critical'.")
    at: str = Field(default="", description="When observed.")


class Issue(StatusModel):
    """A detected or predicted problem."""

    fingerprint: str = Field(description="Stable id: target + indicator + category (+ predicted).")
    title: str = Field(max_length=256, description="One line for humans.")
    severity: Severity = Field(description="critical, high, medium or low.")
    category: str = Field(description="Issue category.")
    dimension: Dimension = Field(description="Dimension.")
    indicator: str = Field(description="Indicator that raised it.")
    predicted: bool = Field(default=False, description="True for forecast exhaustion, not yet happened.")
    description: str = Field(default="", max_length=2048, description="What was observed.")
    evidence: list[Evidence] = Field(default_factory=list, description="Queries, values and thresholds.")
    route: Route | None = Field(default=None, description="Route chosen by severityRouting.")
    remediation: str | None = Field(default=None, description="Remediation created for it, if any.")
    detected_at: str | None = Field(
        default=None, description="When the breach began (RFC 3339); SLA clocks start here."
    )


class SummarySource(StrEnum):
    LLM = "LLM"
    OFFLINE = "Offline"


class Summary(StatusModel):
    """Short narrative of the assessment."""

    text: str = Field(max_length=4096, description="The narrative.")
    source: SummarySource = Field(description="LLM or Offline.")
    model: str | None = Field(default=None, description="Model used, for LLM summaries.")


class AssessmentPhase(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    COMPLETED = "Completed"
    INCONCLUSIVE = "Inconclusive"
    FAILED = "Failed"


class HealthAssessmentStatus(StatusModel):
    """Result of one assessment."""

    phase: AssessmentPhase | None = Field(default=None, description="Pending, Running, Completed, ...")
    overall_score: float | None = Field(
        default=None, description="Weighted 1-10; absent if insufficient data."
    )
    healthy: bool | None = Field(default=None, description="Overall >= 8.0 and no issues.")
    dimensions: list[DimensionScore] = Field(
        default_factory=list, description="Per-dimension scores and trends."
    )
    forecasts: list[Forecast] = Field(default_factory=list, description="Exhaustion forecasts.")
    issues: list[Issue] = Field(default_factory=list, description="Detected and predicted issues.")
    indicator_results: list[IndicatorResult] = Field(
        default_factory=list, description="Per-indicator results."
    )
    summary: Summary | None = Field(default=None, description="Narrative.")
    token_usage: TokenUsage | None = Field(default=None, description="LLM tokens spent on this assessment.")
    queries: int = Field(default=0, description="Prometheus queries sent.")
    started_at: str | None = Field(default=None, description="Start (RFC 3339).")
    completed_at: str | None = Field(default=None, description="End (RFC 3339).")
    message: str = Field(default="", description="Why the phase is what it is.")
    conditions: list[Condition] = Field(
        default_factory=list, description="Completed, HealthAlert, PrometheusReachable."
    )

    # ---------------------------------------------------------------- Remediation


class ActionType(StrEnum):
    ROLLOUT_RESTART = "RolloutRestart"
    SCALE = "Scale"
    CONFIG_PATCH = "ConfigPatch"
    ROLLBACK = "Rollback"
    NO_ACTION = "NoAction"
    ESCALATE = "Escalate"
    SET_RESOURCES = "SetResources"


class ScaleParams(Model):
    """Target replica count."""

    replicas: int = Field(ge=0, le=1000, description="Desired replicas (bounded by the policy).")


class ConfigPatchParams(Model):
    """One ConfigMap key to set."""

    config_map_ref: LocalObjectReference = Field(description="ConfigMap (must be the policy's).")
    key: str = Field(min_length=1, max_length=253, description="Key (must be allowlisted).")
    value: str = Field(max_length=8192, description="New value.")


class RollbackParams(Model):
    """Revision to restore."""

    to_revision: int = Field(ge=1, description="deployment.kubernetes.io/revision to restore.")


class EscalateParams(Model):
    """Why a human is needed."""

    reason: str = Field(min_length=1, max_length=1024, description="Reason.")


QUANTITY_PATTERN = r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"
Quantity = Annotated[str, Field(max_length=32, pattern=QUANTITY_PATTERN)]


class SetResourcesParams(Model):
    """New requests and limits of one container of the target (unset fields stay as they are)."""

    model_config = guarded(
        cel(
            "has(self.cpuRequest) || has(self.cpuLimit) || has(self.memoryRequest) || has(self.memoryLimit)",
            "setResources needs at least one of cpuRequest, cpuLimit, memoryRequest, memoryLimit",
        )
    )

    container: str = Field(
        min_length=1, max_length=63, pattern=DNS_LABEL_PATTERN, description="Container name."
    )
    cpu_request: Quantity | None = Field(default=None, description="CPU request, e.g. 250m.")
    cpu_limit: Quantity | None = Field(default=None, description="CPU limit.")
    memory_request: Quantity | None = Field(default=None, description="Memory request, e.g. 256Mi.")
    memory_limit: Quantity | None = Field(default=None, description="Memory limit.")

    @model_validator(mode="after")
    def _something(self) -> SetResourcesParams:
        if not self.values():
            raise ValueError(
                "setResources needs at least one of cpuRequest, cpuLimit, memoryRequest, memoryLimit"
            )
        return self

    def values(self) -> dict[str, dict[str, str]]:
        """The set fields as a container's resources ({"requests": {"cpu": ...}, "limits": {...}})."""
        out: dict[str, dict[str, str]] = {}
        for kind, resource, value in (
            ("requests", "cpu", self.cpu_request),
            ("limits", "cpu", self.cpu_limit),
            ("requests", "memory", self.memory_request),
            ("limits", "memory", self.memory_limit),
        ):
            if value is not None:
                out.setdefault(kind, {})[resource] = value
        return out


_UNION_MEMBERS = {
    ActionType.SCALE: "scale",
    ActionType.CONFIG_PATCH: "configPatch",
    ActionType.ROLLBACK: "rollback",
    ActionType.ESCALATE: "escalate",
    ActionType.SET_RESOURCES: "setResources",
}


class Action(Model):
    """One typed action (a Kubernetes-style union: `type` names the member that carries parameters)."""

    model_config = guarded(
        *[
            cel(
                f"self.type == '{t.value}' ? has(self.{m}) : !has(self.{m})",
                f"{m} must be set exactly when type is {t.value}",
            )
            for t, m in _UNION_MEMBERS.items()
        ]
    )

    type: ActionType = Field(
        description="RolloutRestart, Scale, ConfigPatch, Rollback, NoAction, Escalate or SetResources."
    )
    scale: ScaleParams | None = Field(default=None, description="Parameters of Scale.")
    config_patch: ConfigPatchParams | None = Field(default=None, description="Parameters of ConfigPatch.")
    rollback: RollbackParams | None = Field(default=None, description="Parameters of Rollback.")
    escalate: EscalateParams | None = Field(default=None, description="Parameters of Escalate.")
    set_resources: SetResourcesParams | None = Field(default=None, description="Parameters of SetResources.")

    @model_validator(mode="after")
    def _union(self) -> Action:
        for t, member in _UNION_MEMBERS.items():
            attr = {"configPatch": "config_patch", "setResources": "set_resources"}.get(member, member)
            present = getattr(self, attr) is not None
            if present != (self.type is t):
                raise ValueError(f"{member} must be set exactly when type is {t.value}")
        return self

    @property
    def mutating(self) -> bool:
        """True for actions that write to the cluster."""
        return self.type not in (ActionType.NO_ACTION, ActionType.ESCALATE)


class SuccessCriteria(Model):
    """What must hold after execution for the remediation to count as a success."""

    indicators: list[str] = Field(
        default_factory=list, max_length=16, description="Indicators that must be Successful again."
    )
    window: Duration = Field(default="2m", description="How long they must hold.")


class PlannerKind(StrEnum):
    CLAUDE = "Claude"
    OFFLINE = "Offline"


class Plan(Model):
    """A typed plan. Planners propose it; the operator validates every parameter and scores its risk."""

    actions: list[Action] = Field(min_length=1, max_length=5, description="Actions in order.")
    rationale: str = Field(max_length=2000, description="Why these actions.")
    expected_effect: str = Field(
        default="", max_length=1000, description="What should change in the metrics."
    )
    success_criteria: SuccessCriteria = Field(
        default_factory=SuccessCriteria, description="Verification criteria."
    )
    rollback_plan: str = Field(default="", max_length=1000, description="How the operator undoes the change.")
    confidence: float = Field(ge=0, le=10, description="Planner's confidence 0-10.")
    planner: PlannerKind = Field(default=PlannerKind.OFFLINE, description="Claude or Offline.")
    model: str | None = Field(default=None, max_length=128, description="Model, for Claude plans.")
    prompt_hash: str | None = Field(default=None, max_length=80, description="sha256 of the exact prompt.")

    @property
    def mutating(self) -> bool:
        return any(a.mutating for a in self.actions)


class Approval(Model):
    """A human decision. approvedBy and approvedAt are stamped by the admission webhook, never trusted from
    the client."""

    approved: bool = Field(description="true approves the plan, false rejects it.")
    approved_by: str | None = Field(default=None, max_length=512, description="Set by the webhook.")
    approved_at: str | None = Field(default=None, description="Set by the webhook (RFC 3339).")
    reason: str = Field(default="", max_length=1024, description="Optional note.")


class RemediationSpec(Model):
    """A plan for one issue on one target."""

    model_config = guarded(
        cel("self.plan == oldSelf.plan", "plan is immutable: create a new Remediation instead"),
        cel(
            "!has(oldSelf.approval) || (has(self.approval) && self.approval == oldSelf.approval)",
            "an approval decision cannot be revoked or changed",
        ),
        cel("self.targetRef == oldSelf.targetRef", "targetRef is immutable"),
        cel("!has(oldSelf.terminate) || !oldSelf.terminate || self.terminate", "terminate cannot be unset"),
    )

    policy_ref: LocalObjectReference = Field(description="Policy that governs this remediation.")
    assessment_ref: LocalObjectReference | None = Field(
        default=None, description="Assessment that raised it."
    )
    target_ref: TargetRef = Field(description="Target Deployment (same namespace).")
    issue: Issue = Field(description="The issue with its evidence.")
    plan: Plan = Field(description="The typed plan.")
    approval: Approval | None = Field(default=None, description="Human decision.")
    terminate: bool = Field(default=False, description="Abort now; roll back if anything was changed.")


class RemediationPhase(StrEnum):
    PROPOSED = "Proposed"
    AWAITING_APPROVAL = "AwaitingApproval"
    SCHEDULED = "Scheduled"
    BACKLOG = "Backlog"
    APPROVED = "Approved"
    EXECUTING = "Executing"
    VERIFYING = "Verifying"
    PAUSED = "Paused"
    ROLLING_BACK = "RollingBack"
    SUCCEEDED = "Succeeded"
    ROLLED_BACK = "RolledBack"
    FAILED = "Failed"
    REJECTED = "Rejected"
    EXPIRED = "Expired"
    ESCALATED = "Escalated"
    TERMINATED = "Terminated"


TERMINAL_PHASES = frozenset(
    {
        RemediationPhase.SUCCEEDED,
        RemediationPhase.ROLLED_BACK,
        RemediationPhase.FAILED,
        RemediationPhase.REJECTED,
        RemediationPhase.EXPIRED,
        RemediationPhase.ESCALATED,
        RemediationPhase.TERMINATED,
    }
)


class Risk(StatusModel):
    """Risk computed by the operator (never taken from a planner)."""

    score: float = Field(ge=0, le=10, description="0-10.")
    level: RiskLevel = Field(description="Low, Medium, High or Critical.")
    factors: list[str] = Field(default_factory=list, description="What contributed.")


class ConfigMapState(StatusModel):
    """Recorded pre-state of a ConfigMap's allowlisted keys."""

    name: str = Field(description="ConfigMap name.")
    resource_version: str = Field(description="resourceVersion before the change.")
    data: dict[str, str] = Field(default_factory=dict, description="Values of the touched keys before.")
    absent_keys: list[str] = Field(
        default_factory=list, description="Touched keys that did not exist before."
    )


class PreState(StatusModel):
    """What the operator needs to undo its change."""

    revision: int | None = Field(default=None, description="Deployment revision before.")
    replicas: int | None = Field(default=None, description="spec.replicas before.")
    restarted_at: str | None = Field(default=None, description="restartedAt annotation before.")
    generation: int | None = Field(default=None, description="metadata.generation before.")
    config_maps: list[ConfigMapState] = Field(default_factory=list, description="ConfigMap keys before.")
    captured_at: str = Field(description="When captured (RFC 3339).")


class StepPhase(StrEnum):
    PENDING = "Pending"
    DRY_RUN_PASSED = "DryRunPassed"
    APPLIED = "Applied"
    ROLLED_OUT = "RolledOut"
    SKIPPED = "Skipped"
    FAILED = "Failed"
    PROPOSED_ONLY = "ProposedOnly"


class Step(StatusModel):
    """Progress of one action; makes execution safe to repeat after a restart."""

    index: int = Field(ge=0, description="Index into spec.plan.actions.")
    type: ActionType = Field(description="Action type.")
    phase: StepPhase = Field(description="Pending, DryRunPassed, Applied, RolledOut, Skipped, Failed.")
    message: str = Field(default="", max_length=2048, description="Details.")
    started_at: str | None = Field(default=None, description="Start (RFC 3339).")
    completed_at: str | None = Field(default=None, description="End (RFC 3339).")
    marker: str | None = Field(
        default=None, description="Value written (e.g. restartedAt) to detect a prior apply."
    )


class VerificationResult(StatusModel):
    """Verification against the triggering indicators."""

    phase: MeasurementPhase | None = Field(default=None, description="Overall verdict so far.")
    started_at: str | None = Field(default=None, description="Start of measuring.")
    measurements: list[Measurement] = Field(default_factory=list, description="Measurements, newest last.")
    failures: int = Field(default=0, description="Failed or Error measurements.")
    inconclusive: int = Field(default=0, description="Inconclusive measurements.")
    successes: int = Field(default=0, description="Successful measurements.")


class RemediationStatus(StatusModel):
    """Where the remediation stands."""

    phase: RemediationPhase | None = Field(default=None, description="State machine phase.")
    observed_generation: int | None = Field(default=None, description="Last generation processed.")
    risk: Risk | None = Field(default=None, description="Operator-computed risk.")
    route: Route | None = Field(default=None, description="Route from severityRouting.")
    approval_expires_at: str | None = Field(default=None, description="When a pending approval expires.")
    approved_by: str | None = Field(default=None, description="Who approved (webhook-stamped or 'policy').")
    pre_state: PreState | None = Field(default=None, description="What is needed to undo.")
    steps: list[Step] = Field(default_factory=list, description="Per-action progress.")
    verification: VerificationResult | None = Field(default=None, description="Verification.")
    rolled_back: bool = Field(default=False, description="True once the pre-state was restored.")
    proposed_change: str | None = Field(
        default=None, max_length=8192, description="Diff recorded instead of applied (GitOps-managed target)."
    )
    message: str = Field(default="", max_length=4096, description="Why the phase is what it is.")
    started_at: str | None = Field(default=None, description="Execution start.")
    completed_at: str | None = Field(default=None, description="Terminal phase reached.")
    conditions: list[Condition] = Field(default_factory=list, description="Approved, Executed, Verified.")
    responded_at: str | None = Field(
        default=None, description="First response: execution began or a human decided (RFC 3339)."
    )
    resolved_at: str | None = Field(default=None, description="Verified fixed (RFC 3339).")
    response_due: str | None = Field(default=None, description="SLA response deadline (RFC 3339).")
    resolution_due: str | None = Field(default=None, description="SLA resolution deadline (RFC 3339).")
    review: PlanReview | None = Field(
        default=None, description="The operator's review of the plan: fit, second opinion, history."
    )
    sla_notices: list[str] = Field(
        default_factory=list,
        max_length=16,
        description="SLA notices sent (SLAAtRisk, SLABreached, Reminder).",
    )
    last_notice_at: str | None = Field(default=None, description="When the last SLA notice was sent.")


# ---------------------------------------------------------------- MaintenanceReport


class ReportSchedule(StrEnum):
    ONCE = "Once"
    DAILY = "Daily"
    WEEKLY = "Weekly"


class PolicySelector(Model):
    """Policies in the report's namespace whose labels contain all of matchLabels."""

    match_labels: dict[str, str] = Field(min_length=1, max_length=16, description="Labels to match.")


_REPORT_TARGET_MESSAGE = "set exactly one of policyRef and selector"


class MaintenanceReportSpec(Model):
    """Which policies to report on, over which period, how often."""

    model_config = guarded(
        cel("has(self.policyRef) != has(self.selector)", _REPORT_TARGET_MESSAGE),
        cel("duration(self.period) >= duration('1h')", "period must be at least 1h"),
        cel("duration(self.period) <= duration('2160h')", "period must be at most 2160h (90 days)"),
    )

    policy_ref: LocalObjectReference | None = Field(default=None, description="One policy to report on.")
    selector: PolicySelector | None = Field(default=None, description="Or every policy with these labels.")
    period: Duration = Field(default="168h", description="How far back the report looks (default 7 days).")
    schedule: ReportSchedule = Field(
        default=ReportSchedule.ONCE, description="Once, or regenerate Daily or Weekly."
    )

    @model_validator(mode="after")
    def _target(self) -> MaintenanceReportSpec:
        if (self.policy_ref is None) == (self.selector is None):
            raise ValueError(_REPORT_TARGET_MESSAGE)
        if not 3600 <= parse_duration(self.period) <= 2160 * 3600:
            raise ValueError("period must be between 1h and 2160h (90 days)")
        return self


class ReportPhase(StrEnum):
    PENDING = "Pending"
    READY = "Ready"
    PARTIAL = "Partial"
    FAILED = "Failed"


class DimensionHealth(StatusModel):
    """One dimension's score over the period."""

    dimension: str = Field(description="Dimension, or 'overall'.")
    min: float | None = Field(default=None, description="Lowest score.")
    mean: float | None = Field(default=None, description="Mean score.")
    last: float | None = Field(default=None, description="Latest score.")
    trend: Trend | None = Field(default=None, description="Improving, Stable or Degrading over the period.")
    points: list[float] = Field(
        default_factory=list, max_length=200, description="Scores at evenly spaced instants, oldest first."
    )


class IssueCount(StatusModel):
    """Issues of one severity and category."""

    severity: Severity = Field(description="Severity.")
    category: str = Field(description="Category.")
    count: int = Field(ge=0, description="Distinct issues.")


class ResponseTimes(StatusModel):
    """Response and resolution against the SLA for one severity."""

    severity: Severity = Field(description="Severity.")
    remediations: int = Field(default=0, ge=0, description="Remediations of this severity.")
    response_target_seconds: float = Field(description="SLA response target.")
    resolution_target_seconds: float = Field(description="SLA resolution target.")
    median_response_seconds: float | None = Field(default=None, description="Median time to respond.")
    mttr_seconds: float | None = Field(default=None, description="Mean time to a verified fix.")
    response_breaches: int = Field(default=0, ge=0, description="Responses later than the target.")
    resolution_breaches: int = Field(default=0, ge=0, description="Resolutions later than the target.")


class ActionEffectiveness(StatusModel):
    """Outcomes of one action type."""

    action: str = Field(description="Action type.")
    total: int = Field(default=0, ge=0, description="Finished remediations.")
    succeeded: int = Field(default=0, ge=0, description="Verified.")
    rolled_back: int = Field(default=0, ge=0, description="Rolled back.")
    failed: int = Field(default=0, ge=0, description="Failed, expired or escalated.")
    success_rate: float | None = Field(default=None, description="succeeded / total.")


class PlannerDecisions(StatusModel):
    """Plans of one planner and how they turned out."""

    planner: str = Field(description="Claude or Offline.")
    plans: int = Field(default=0, ge=0, description="Plans made.")
    mean_confidence: float | None = Field(default=None, description="Mean stated confidence (0-10).")
    success_rate: float | None = Field(default=None, description="Share of finished plans that succeeded.")


class CapacitySection(StatusModel):
    """The latest capacity analysis of one policy's target, as the report shows it."""

    policy: str = Field(description="Policy.")
    analyzed_at: str | None = Field(default=None, description="When the analysis ran.")
    sufficient: bool = Field(default=False, description="Enough data to plan.")
    headroom_percent: float | None = Field(default=None, description="Current headroom.")
    exhaustion_at: str | None = Field(default=None, description="When capacity runs out at the growth seen.")
    blocked_scenarios: list[str] = Field(
        default_factory=list, description="Scenarios the limits do not allow."
    )
    right_sized_containers: int = Field(default=0, ge=0, description="Containers with a recommendation.")
    message: str = Field(default="", max_length=1024, description="Why there is no plan, if none.")


class AuditSection(StatusModel):
    """The latest configuration audit and security review of one policy's target."""

    policy: str = Field(description="Policy.")
    config_score: float | None = Field(default=None, description="Configuration health score 1-10.")
    config_findings: int = Field(default=0, ge=0, description="Configuration findings.")
    security_score: float | None = Field(default=None, description="Security posture score 1-10.")
    security_findings: int = Field(default=0, ge=0, description="Security findings.")
    overdue_vulnerabilities: int = Field(default=0, ge=0, description="Vulnerabilities past their deadline.")


class MaintenanceReportStatus(StatusModel):
    """The report: the framework's sections, filled from Prometheus and the retained objects."""

    phase: ReportPhase | None = Field(default=None, description="Pending, Ready, Partial or Failed.")
    observed_generation: int | None = Field(default=None, description="Last generation processed.")
    period_start: str | None = Field(default=None, description="Start of the period (RFC 3339).")
    period_end: str | None = Field(default=None, description="End of the period (RFC 3339).")
    generated_at: str | None = Field(default=None, description="When the report was made.")
    next_run_at: str | None = Field(default=None, description="When a scheduled report is made next.")
    policies: list[str] = Field(default_factory=list, description="Policies covered.")
    executive_summary: str = Field(default="", max_length=4096, description="Executive summary.")
    health: list[DimensionHealth] = Field(default_factory=list, description="System health overview.")
    issues: list[IssueCount] = Field(default_factory=list, description="Issues by severity and category.")
    response_times: list[ResponseTimes] = Field(
        default_factory=list, description="Response and resolution against the SLAs, with MTTR."
    )
    remediations: list[ActionEffectiveness] = Field(
        default_factory=list, description="Remediation effectiveness by action."
    )
    ai_decisions: list[PlannerDecisions] = Field(
        default_factory=list, description="Planner used, confidence against outcome."
    )
    token_usage: TokenUsage | None = Field(default=None, description="LLM tokens and cost in the period.")
    findings: list[str] = Field(default_factory=list, description="Capacity and audit findings.")
    recommendations: list[str] = Field(default_factory=list, description="Recommendations.")
    gaps: list[str] = Field(
        default_factory=list, description="Data that was missing; why the report is partial."
    )
    message: str = Field(default="", max_length=4096, description="Why the phase is what it is.")
    conditions: list[Condition] = Field(default_factory=list, description="Ready.")
    capacity: list[CapacitySection] = Field(
        default_factory=list, description="Latest capacity analysis per policy."
    )
    audits: list[AuditSection] = Field(
        default_factory=list, description="Latest configuration audit and security review per policy."
    )


class Agreement(StrEnum):
    AGREE = "Agree"
    DISAGREE = "Disagree"
    NOT_CHECKED = "NotChecked"


class PlanReview(StatusModel):
    """Whether a plan may be auto-approved, decided by the operator's own rules (never the model's)."""

    passed: bool = Field(description="True when nothing below blocks auto-approval.")
    fits: bool = Field(description="The plan's actions can plausibly fix this issue category.")
    agreement: Agreement = Field(
        default=Agreement.NOT_CHECKED, description="Agree, Disagree (offline planner) or NotChecked."
    )
    second_opinion: str = Field(default="", max_length=512, description="The offline planner's action types.")
    planner_confidence: float = Field(ge=0, le=10, description="The planner's own confidence.")
    effective_confidence: float = Field(ge=0, le=10, description="The operator's confidence, gated on.")
    reasons: list[str] = Field(default_factory=list, description="What blocks auto-approval.")
    notes: list[str] = Field(default_factory=list, description="What shaped the effective confidence.")


# ---------------------------------------------------------------- capacity and audits


class GrowthScenario(Model):
    """A load the target should survive: ``factor`` x offered load, or x the peak with ``ofPeak``."""

    name: str = Field(min_length=1, max_length=32, description="Label of the scenario, e.g. +50%.")
    factor: float = Field(gt=0, le=100, description="Multiplier of the load.")
    of_peak: bool = Field(default=False, description="Multiply the peak instead of the p95 offered load.")


def _default_scenarios() -> list[GrowthScenario]:
    return [
        GrowthScenario(name="+25%", factor=1.25),
        GrowthScenario(name="+50%", factor=1.5),
        GrowthScenario(name="+100%", factor=2.0),
        GrowthScenario(name="3x peak", factor=3.0, of_peak=True),
    ]


class CapacityAnalysisSpec(Model):
    """Capacity planning from Prometheus history (findings and recommendations only)."""

    enabled: bool = Field(default=True, description="Run the capacity analysis.")
    interval: Duration = Field(default="24h", description="How often it runs.")
    window: Duration = Field(default="336h", description="History read (KRR uses about two weeks).")
    step: Duration = Field(default="5m", description="Resolution of the range queries.")
    min_data: Duration = Field(default="24h", description="Less history than this: recommend nothing.")
    load_query: str | None = Field(
        default=None,
        max_length=4096,
        description="PromQL of the offered load in requests/s; $namespace, $deployment substituted.",
    )
    healthy_query: str | None = Field(
        default=None,
        max_length=4096,
        description="PromQL that is 1 while latency and queue are within objectives; as loadQuery.",
    )
    replicas_query: str | None = Field(
        default=None, max_length=4096, description="PromQL of ready replicas (default: kube-state-metrics)."
    )
    cpu_query: str | None = Field(
        default=None, max_length=4096, description="PromQL of CPU cores per container (default: cAdvisor)."
    )
    memory_query: str | None = Field(
        default=None, max_length=4096, description="PromQL of memory bytes per container (default: cAdvisor)."
    )
    headroom_percent: int = Field(
        default=20, ge=0, le=90, description="Spare capacity kept in every scenario."
    )
    cpu_percentile: float = Field(default=95.0, ge=50, le=100, description="CPU request at this percentile.")
    memory_buffer_percent: int = Field(default=10, ge=0, le=100, description="Memory peak plus this buffer.")
    scenarios: list[GrowthScenario] = Field(
        default_factory=_default_scenarios, max_length=16, description="Growth scenarios to plan for."
    )


class ConfigAuditSpec(Model):
    """Weekly configuration audit of the target Deployment (and on every target change)."""

    enabled: bool = Field(default=True, description="Run the configuration audit.")
    interval: Duration = Field(default="168h", description="How often it runs besides target changes.")


class SecurityAuditSpec(Model):
    """Security posture review of the target."""

    enabled: bool = Field(default=True, description="Run the security review.")
    interval: Duration = Field(default="24h", description="How often it runs.")
    check_service_account: bool = Field(
        default=True, description="Ask SubjectAccessReviews what the target's ServiceAccount may do."
    )


class AnalysesSpec(Model):
    """Analyses on their own schedules, beside the health checks."""

    capacity: CapacityAnalysisSpec = Field(default_factory=CapacityAnalysisSpec, description="Capacity.")
    config_audit: ConfigAuditSpec = Field(default_factory=ConfigAuditSpec, description="Configuration audit.")
    security: SecurityAuditSpec = Field(default_factory=SecurityAuditSpec, description="Security posture.")


class ScenarioResult(StatusModel):
    """Replicas and resources one scenario needs."""

    name: str = Field(description="Scenario or horizon.")
    load: float = Field(description="Load planned for (requests/s).")
    replicas: int = Field(description="Replicas needed, with headroom.")
    allowed: bool = Field(description="Whether actions.scale.max and the HPA's maxReplicas allow it.")
    blocked_by: str = Field(default="", description="The ceiling that blocks it.")
    cpu_cores: float = Field(description="Requested cores x replicas (cost proxy).")
    memory_gib: float = Field(description="Requested GiB x replicas (cost proxy).")


class RightSizingResult(StatusModel):
    """A request/limit recommendation for one container; absent values: not enough data."""

    container: str = Field(description="Container name.")
    cpu_request_cores: float | None = Field(default=None, description="Recommended CPU request (cores).")
    memory_request_bytes: float | None = Field(default=None, description="Recommended memory request.")
    memory_limit_bytes: float | None = Field(default=None, description="Recommended memory limit.")
    assumptions: str = Field(default="", max_length=1024, description="Percentile, buffer and data used.")


class CapacityReport(StatusModel):
    """The newest capacity analysis."""

    analyzed_at: str = Field(description="When it ran (RFC 3339).")
    sufficient: bool = Field(description="Whether the data was enough to plan with.")
    message: str = Field(default="", max_length=2048, description="Why nothing was recommended, if so.")
    samples: int = Field(default=0, description="Load samples used.")
    data_days: float = Field(default=0.0, description="Days of load history used.")
    offered_load: float | None = Field(default=None, description="p95 offered load (requests/s).")
    peak_load: float | None = Field(default=None, description="Peak load (requests/s).")
    throughput_per_pod: float | None = Field(default=None, description="Measured healthy requests/s per pod.")
    growth_percent_per_day: float | None = Field(default=None, description="Observed growth.")
    current_replicas: int = Field(default=0, description="Replicas at analysis time.")
    headroom_percent: float | None = Field(default=None, description="Spare capacity now (negative: short).")
    exhaustion_at: str | None = Field(
        default=None, description="When capacity runs out at the observed growth."
    )
    scenarios: list[ScenarioResult] = Field(default_factory=list, description="Scenario and horizon table.")
    right_sizing: list[RightSizingResult] = Field(default_factory=list, description="Per container.")
    queries: int = Field(default=0, description="Range queries spent.")


class AuditFinding(StatusModel):
    """One failed check."""

    check: str = Field(description="Check id.")
    severity: str = Field(description="high, medium, low (vulnerabilities: their own severity).")
    subject: str = Field(description="Container, key, permission or vulnerability it concerns.")
    message: str = Field(max_length=512, description="What is wrong.")
    fix: str = Field(max_length=512, description="How to fix it.")


class ConfigAuditReport(StatusModel):
    """The newest configuration audit."""

    analyzed_at: str = Field(description="When it ran (RFC 3339).")
    score: float = Field(ge=1, le=10, description="Configuration health score 1-10.")
    checks_run: int = Field(default=0, description="Checks evaluated.")
    finding_count: int = Field(default=0, description="Findings.")
    findings: list[AuditFinding] = Field(default_factory=list, max_length=200, description="Findings.")
    target_fingerprint: str = Field(default="", description="Target generation/ConfigMap version audited.")


class SecurityReport(StatusModel):
    """The newest security posture review."""

    analyzed_at: str = Field(description="When it ran (RFC 3339).")
    score: float = Field(ge=1, le=10, description="Security score 1-10.")
    finding_count: int = Field(default=0, description="Findings.")
    findings: list[AuditFinding] = Field(default_factory=list, max_length=200, description="Findings.")
    vulnerability_counts: dict[str, int] | None = Field(
        default=None, description="Open vulnerabilities by severity (absent: scanner not installed)."
    )
    overdue_vulnerabilities: int = Field(default=0, description="Vulnerabilities past their patch deadline.")
    message: str = Field(default="", max_length=2048, description="What could not be checked, and why.")


# ---------------------------------------------------------------- kinds


class KindInfo(BaseModel):
    """How one kind is published as a CRD."""

    model_config = ConfigDict(frozen=True)

    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    spec: type[Model]
    status: type[StatusModel]
    printer_columns: tuple[dict[str, Any], ...]
    description: str


_AGE = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}

KINDS: tuple[KindInfo, ...] = (
    KindInfo(
        kind="MaintenancePolicy",
        plural="maintenancepolicies",
        singular="maintenancepolicy",
        short_names=("mpol",),
        spec=MaintenancePolicySpec,
        status=MaintenancePolicyStatus,
        description="What to watch on a Chat App Deployment and what the operator may do about it.",
        printer_columns=(
            {"name": "Target", "type": "string", "jsonPath": ".spec.targetRef.name"},
            {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
            {"name": "Score", "type": "number", "jsonPath": ".status.overallScore"},
            {"name": "Suspended", "type": "boolean", "jsonPath": ".spec.suspend"},
            {"name": "Last-Check", "type": "date", "jsonPath": ".status.lastHealthCheckTime"},
            {"name": "Config", "type": "number", "jsonPath": ".status.configAudit.score", "priority": 1},
            {
                "name": "Sec-Findings",
                "type": "integer",
                "jsonPath": ".status.security.findingCount",
                "priority": 1,
            },
            {
                "name": "Headroom",
                "type": "number",
                "jsonPath": ".status.capacity.headroomPercent",
                "priority": 1,
            },
            _AGE,
        ),
    ),
    KindInfo(
        kind="HealthAssessment",
        plural="healthassessments",
        singular="healthassessment",
        short_names=("hass",),
        spec=HealthAssessmentSpec,
        status=HealthAssessmentStatus,
        description="One scoring of a policy's target from Prometheus: scores, trends, forecasts, issues.",
        printer_columns=(
            {"name": "Policy", "type": "string", "jsonPath": ".spec.policyRef.name"},
            {"name": "Analysis", "type": "string", "jsonPath": ".spec.analysis"},
            {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
            {"name": "Score", "type": "number", "jsonPath": ".status.overallScore"},
            {"name": "Issues", "type": "string", "jsonPath": ".status.issues[*].severity", "priority": 1},
            _AGE,
        ),
    ),
    KindInfo(
        kind="Remediation",
        plural="remediations",
        singular="remediation",
        short_names=("mrem",),
        spec=RemediationSpec,
        status=RemediationStatus,
        description="A typed plan for one issue: approved, executed, verified, rolled back if it failed.",
        printer_columns=(
            {"name": "Target", "type": "string", "jsonPath": ".spec.targetRef.name"},
            {"name": "Severity", "type": "string", "jsonPath": ".spec.issue.severity"},
            {"name": "Action", "type": "string", "jsonPath": ".spec.plan.actions[0].type"},
            {"name": "Risk", "type": "string", "jsonPath": ".status.risk.level"},
            {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
            {"name": "Approved-By", "type": "string", "jsonPath": ".status.approvedBy", "priority": 1},
            _AGE,
        ),
    ),
    KindInfo(
        kind="MaintenanceReport",
        plural="maintenancereports",
        singular="maintenancereport",
        short_names=("mrep",),
        spec=MaintenanceReportSpec,
        status=MaintenanceReportStatus,
        description="A maintenance report over a period: health, issues, SLAs, remediations, AI decisions.",
        printer_columns=(
            {"name": "Policy", "type": "string", "jsonPath": ".spec.policyRef.name"},
            {"name": "Period", "type": "string", "jsonPath": ".spec.period"},
            {"name": "Schedule", "type": "string", "jsonPath": ".spec.schedule"},
            {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
            {"name": "Generated", "type": "date", "jsonPath": ".status.generatedAt"},
            _AGE,
        ),
    ),
)
