"""A PrometheusRule per MaintenancePolicy, rendered from its indicators, so that Alertmanager can tell the
operator about a breach as soon as Prometheus sees it (opt-in: policy_alert_rules)."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from maintenance_operator.adapters import crs, monitoring
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import alerts, promql
from maintenance_operator.handlers import common
from maintenance_operator.runtime import from_memo

log = logging.getLogger(__name__)
PLURAL = "maintenancepolicies"
RULE_SUFFIX = "-maintenance-indicators"


def rule_labels(raw: str) -> dict[str, str]:
    """`k=v,k2=v2` (the chart's prometheusRule.labels) as a dict; malformed pairs are dropped."""
    pairs = (item.split("=", 1) for item in raw.split(",") if "=" in item)
    return {k.strip(): v.strip() for k, v in pairs if k.strip()}


@kopf.on.resume(api.GROUP, api.VERSION, PLURAL, id="alert-rules", when=common.owned)
@kopf.on.create(api.GROUP, api.VERSION, PLURAL, id="alert-rules", when=common.owned)
@kopf.on.update(api.GROUP, api.VERSION, PLURAL, field="spec", id="alert-rules", when=common.owned)
async def render_alert_rules(
    spec: kopf.Spec, name: str, namespace: str, body: kopf.Body, memo: kopf.Memo, **_: Any
) -> None:
    """Apply the policy's PrometheusRule; without prometheus-operator, say so in an Event and carry on."""
    runtime = from_memo(memo)
    if not runtime.config.policy_alert_rules:
        return
    policy, _error = common.parse(api.MaintenancePolicySpec, spec)
    if policy is None:
        return  # reconcile_policy reports the invalid spec
    try:
        queries = [
            (i, promql.substitute(i.query, namespace=namespace, deployment=policy.target_ref.name))
            for i in policy.indicators
        ]
    except ValueError as exc:
        kopf.warn(body, reason="AlertRulesNotRendered", message=str(exc))
        return
    rule_name = f"{name[: 63 - len(RULE_SUFFIX)]}{RULE_SUFFIX}"
    labels = {**rule_labels(runtime.config.policy_alert_rule_labels), crs.POLICY_LABEL: name}
    try:
        await runtime.apply_alert_rule(
            namespace=namespace,
            name=rule_name,
            labels=labels,
            owner=crs.owner_reference(body, kind="MaintenancePolicy"),
            spec=alerts.indicator_rules(policy=name, namespace=namespace, indicators=queries),
        )
    except monitoring.RulesUnavailable as exc:
        kopf.warn(body, reason="AlertRulesUnavailable", message=str(exc))
        return
    kopf.info(body, reason="AlertRulesApplied", message=f"PrometheusRule {rule_name} renders the indicators")
