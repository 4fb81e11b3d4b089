"""kopf handlers; importing this package registers them."""

from maintenance_operator.handlers import assessment, policy, probes, remediation, report, webhooks

__all__ = ["assessment", "policy", "probes", "remediation", "report", "webhooks"]
