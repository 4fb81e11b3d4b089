"""kopf handlers; importing this package registers them."""

from maintenance_operator.handlers import analyses, assessment, policy, probes, remediation, report, webhooks

__all__ = ["analyses", "assessment", "policy", "probes", "remediation", "report", "webhooks"]
