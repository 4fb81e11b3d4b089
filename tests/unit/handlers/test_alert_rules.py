"""Labels of the PrometheusRules rendered from policies, as the chart passes them."""

from __future__ import annotations

import pytest

from maintenance_operator.config import OperatorConfig
from maintenance_operator.handlers import alert_rules


@pytest.mark.parametrize(
    ("raw", "labels"),
    [
        ("", {}),
        ("release=kube-prometheus-stack", {"release": "kube-prometheus-stack"}),
        (" a = 1 ,b=2,", {"a": "1", "b": "2"}),
        ("novalue,=orphan,c=x=y", {"c": "x=y"}),
    ],
)
def test_rule_labels(raw: str, labels: dict[str, str]) -> None:
    assert alert_rules.rule_labels(raw) == labels


def test_rules_are_opt_in() -> None:
    assert OperatorConfig.from_env({}).policy_alert_rules is False
    config = OperatorConfig.from_env(
        {
            "MAINTENANCE_OPERATOR_POLICY_ALERT_RULES": "true",
            "MAINTENANCE_OPERATOR_POLICY_ALERT_RULE_LABELS": "release=prom",
        }
    )
    assert (config.policy_alert_rules, config.policy_alert_rule_labels) == (True, "release=prom")
