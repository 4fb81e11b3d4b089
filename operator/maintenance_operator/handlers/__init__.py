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
    sharding,  # after probes and schedule: its startup handler needs theirs
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
    "sharding",
    "webhooks",
]
