"""kopf handlers; importing this package registers them."""

from maintenance_operator.handlers import analyses, assessment, policy, probes, remediation, webhooks

__all__ = ["analyses", "assessment", "policy", "probes", "remediation", "webhooks"]
