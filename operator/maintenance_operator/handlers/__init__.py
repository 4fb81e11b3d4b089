"""kopf handlers; importing this package registers them."""

from maintenance_operator.handlers import (
    alert_rules,
    analyses,
    assessment,
    policy,
    probes,
    remediation,
    report,
    schedule,
    webhooks,
)

__all__ = [
    "alert_rules",
    "analyses",
    "assessment",
    "policy",
    "probes",
    "remediation",
    "report",
    "schedule",
    "webhooks",
]
