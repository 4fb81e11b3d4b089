"""kopf handlers; importing this package registers them."""

from maintenance_operator.handlers import alert_rules, assessment, policy, probes, remediation, webhooks

__all__ = ["alert_rules", "assessment", "policy", "probes", "remediation", "webhooks"]
