"""The operator's own Prometheus metrics (served on the metrics port)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

REGISTRY = CollectorRegistry(auto_describe=True)

HEALTH_SCORE = Gauge(
    "maintenance_operator_health_score",
    "Latest health score 1-10 per policy and dimension (dimension=overall for the weighted score).",
    ["namespace", "policy", "dimension"],
    registry=REGISTRY,
)
HEALTH_ALERT = Gauge(
    "maintenance_operator_health_alert",
    "1 while the overall score is below 7.0 (the HIGH health alert).",
    ["namespace", "policy"],
    registry=REGISTRY,
)
ASSESSMENTS = Counter(
    "maintenance_operator_assessments_total",
    "HealthAssessments completed, by result (Completed, Inconclusive, Failed).",
    ["namespace", "policy", "result"],
    registry=REGISTRY,
)
ISSUES = Counter(
    "maintenance_operator_issues_total",
    "Issues detected, by severity and category.",
    ["namespace", "policy", "severity", "category"],
    registry=REGISTRY,
)
PROM_QUERY_SECONDS = Histogram(
    "maintenance_operator_prometheus_query_seconds",
    "Latency of Prometheus queries.",
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
PROM_QUERY_ERRORS = Counter(
    "maintenance_operator_prometheus_query_errors_total",
    "Prometheus query errors by kind (bad_data, execution, timeout, unavailable).",
    ["kind"],
    registry=REGISTRY,
)
REMEDIATIONS = Counter(
    "maintenance_operator_remediations_total",
    "Remediations reaching a terminal phase, by first action and outcome.",
    ["namespace", "policy", "action", "outcome"],
    registry=REGISTRY,
)
TRANSITIONS = Counter(
    "maintenance_operator_remediation_transitions_total",
    "Remediation phase transitions.",
    ["phase"],
    registry=REGISTRY,
)
TIME_TO_RECOVER = Histogram(
    "maintenance_operator_time_to_recover_seconds",
    "From issue detection to verified recovery.",
    ["namespace", "policy", "action"],
    registry=REGISTRY,
    buckets=(30, 60, 120, 300, 600, 900, 1800, 3600),
)
LLM_TOKENS = Counter(
    "maintenance_operator_llm_tokens_total",
    "LLM tokens by kind (input, output, cache_creation, cache_read).",
    ["namespace", "policy", "kind"],
    registry=REGISTRY,
)
LLM_COST = Counter(
    "maintenance_operator_llm_cost_usd_total",
    "Estimated LLM cost in US dollars.",
    ["namespace", "policy"],
    registry=REGISTRY,
)
PLANNER_FALLBACKS = Counter(
    "maintenance_operator_planner_fallbacks_total",
    "Plans made by the offline planner although Claude was configured, by reason.",
    ["reason"],
    registry=REGISTRY,
)
HANDLER_ERRORS = Counter(
    "maintenance_operator_handler_errors_total",
    "Unexpected handler errors.",
    ["handler"],
    registry=REGISTRY,
)

ALERTS_RECEIVED = Counter(
    "maintenance_operator_alerts_received_total",
    "Alertmanager notifications and the policies they matched, by outcome (Created, InFlight, Duplicate, "
    "Unmatched, Unauthorized, Invalid, NotReady, Error).",
    ["outcome"],
    registry=REGISTRY,
)
_SLA_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800)
RESPONSE_SECONDS = Histogram(
    "maintenance_operator_response_seconds",
    "From detectedAt (breach start) to the first response (execution or a human decision).",
    ["namespace", "policy", "severity", "outcome"],
    registry=REGISTRY,
    buckets=_SLA_BUCKETS,
)
RESOLUTION_SECONDS = Histogram(
    "maintenance_operator_resolution_seconds",
    "From detectedAt (breach start) to a verified fix, or to the terminal phase for other outcomes.",
    ["namespace", "policy", "severity", "outcome"],
    registry=REGISTRY,
    buckets=_SLA_BUCKETS,
)
SLA_BREACHES = Counter(
    "maintenance_operator_sla_breaches_total",
    "SLA deadlines missed, by severity and clock (response or resolution).",
    ["namespace", "policy", "severity", "clock"],
    registry=REGISTRY,
)
NOTIFICATIONS = Counter(
    "maintenance_operator_notifications_total",
    "Notifications by event type and result (delivered, failed, filtered).",
    ["type", "result"],
    registry=REGISTRY,
)
REPORTS = Counter(
    "maintenance_operator_reports_total",
    "MaintenanceReports made, by phase (Ready, Partial, Failed).",
    ["namespace", "phase"],
    registry=REGISTRY,
)
PLAN_REVIEWS = Counter(
    "maintenance_operator_plan_reviews_total",
    "Plan reviews by planner and result (passed, or the first kind that held it: invalid, unfit, "
    "disagreement, recent-failure).",
    ["namespace", "policy", "planner", "result"],
    registry=REGISTRY,
)
PLANNER_DISAGREEMENTS = Counter(
    "maintenance_operator_planner_disagreements_total",
    "Claude plans whose writing action types differ from the offline planner's for the same incident.",
    ["namespace", "policy"],
    registry=REGISTRY,
)
EFFECTIVE_CONFIDENCE = Histogram(
    "maintenance_operator_effective_confidence",
    "The operator's effective confidence (0-10) of reviewed plans, by planner.",
    ["planner"],
    registry=REGISTRY,
    buckets=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
)
PLANNER_BRIER_SCORE = Gauge(
    "maintenance_operator_planner_brier_score",
    "Calibration of a planner's confidence against executed outcomes (0 perfect, 0.25 coin toss).",
    ["namespace", "policy", "planner"],
    registry=REGISTRY,
)
PLANNER_SUCCESS_RATE = Gauge(
    "maintenance_operator_planner_success_rate",
    "Share of a planner's executed remediations that succeeded (compare with its mean confidence / 10).",
    ["namespace", "policy", "planner"],
    registry=REGISTRY,
)


def serve(port: int) -> None:
    """Serve /metrics on all interfaces in a background thread."""
    start_http_server(port, registry=REGISTRY)


# ---------------------------------------------------------------- capacity and audits

CONFIG_SCORE = Gauge(
    "maintenance_operator_config_score",
    "Configuration health score 1-10 of the newest configuration audit.",
    ["namespace", "policy"],
    registry=REGISTRY,
)
SECURITY_SCORE = Gauge(
    "maintenance_operator_security_score",
    "Security posture score 1-10 of the newest security review.",
    ["namespace", "policy"],
    registry=REGISTRY,
)
AUDIT_FINDINGS = Gauge(
    "maintenance_operator_audit_findings",
    "Findings of the newest audit, by analysis (configAudit, security) and severity.",
    ["namespace", "policy", "analysis", "severity"],
    registry=REGISTRY,
)
VULNERABILITIES = Gauge(
    "maintenance_operator_vulnerabilities",
    "Open vulnerabilities of the target's images by severity (state=open or overdue).",
    ["namespace", "policy", "severity", "state"],
    registry=REGISTRY,
)
CAPACITY_HEADROOM = Gauge(
    "maintenance_operator_capacity_headroom_percent",
    "Spare capacity of the target at the offered load (negative: short of capacity).",
    ["namespace", "policy"],
    registry=REGISTRY,
)
CAPACITY_REPLICAS_NEEDED = Gauge(
    "maintenance_operator_capacity_replicas_needed",
    "Replicas each growth scenario or horizon needs, with headroom.",
    ["namespace", "policy", "scenario"],
    registry=REGISTRY,
)
ANALYSIS_SECONDS = Histogram(
    "maintenance_operator_analysis_seconds",
    "Duration of each periodic analysis (capacity, configAudit, security).",
    ["analysis"],
    registry=REGISTRY,
)
ANALYSIS_RUNS = Counter(
    "maintenance_operator_analysis_runs_total",
    "Periodic analyses run, by analysis and result (ok, degraded, failed).",
    ["namespace", "policy", "analysis", "result"],
    registry=REGISTRY,
)
PROM_QUERIES_IN_FLIGHT = Gauge(
    "maintenance_operator_prometheus_queries_in_flight",
    "Prometheus queries sent and not yet answered (bounded by the global query limit).",
    registry=REGISTRY,
)
PROM_QUERIES_QUEUED = Gauge(
    "maintenance_operator_prometheus_queries_queued",
    "Prometheus queries waiting for a slot (the global limit or their endpoint's rate).",
    registry=REGISTRY,
)
SCHEDULE_LAG = Histogram(
    "maintenance_operator_schedule_lag_seconds",
    "Seconds from a scheduled assessment's due time to its start (stage=started) and end (stage=completed).",
    ["stage"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600),
    registry=REGISTRY,
)
SCHEDULED_POLICIES = Gauge(
    "maintenance_operator_scheduled_policies",
    "Policies with a due time in the scheduler.",
    registry=REGISTRY,
)
ASSESSMENTS_RUNNING = Gauge(
    "maintenance_operator_assessments_running",
    "Assessments holding a concurrency slot (state=running) or waiting in the fair queue (state=queued).",
    ["state"],
    registry=REGISTRY,
)
API_REQUESTS_IN_FLIGHT = Gauge(
    "maintenance_operator_api_requests_in_flight",
    "Kubernetes API calls sent and not yet answered (state=running) or held by the QPS limit (state=queued).",
    ["state"],
    registry=REGISTRY,
)
API_REQUESTS = Counter(
    "maintenance_operator_api_requests_total",
    "Kubernetes API calls made by the operator's own clients (kopf's watches and patches not included).",
    registry=REGISTRY,
)
API_THROTTLE_SECONDS = Histogram(
    "maintenance_operator_api_throttle_seconds",
    "Seconds an API call waited for the client-side QPS/burst limit.",
    buckets=(0.001, 0.01, 0.05, 0.1, 0.5, 1, 5),
    registry=REGISTRY,
)
