"""The chart's dashboard and alert rules against a real Prometheus and the operator's real /metrics.

- Every Grafana panel and variable query returns data when Prometheus scrapes the operator's own
  registry (``metrics.REGISTRY``), so a renamed metric or label breaks this test, not a dashboard.
- The PrometheusRule's groups pass ``promtool check rules`` and ``promtool test rules``: each alert
  fires on the series the operator emits, with the label values the code uses, and stays silent on
  healthy ones.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import start_http_server
from tests.fixtures import tools
from tests.fixtures.helm import CHART, NEEDS_HELM, one, render
from tests.fixtures.prometheus import PrometheusProcess, ensure_prometheus_binary, free_port

from maintenance_operator import metrics
from maintenance_operator.api import v1alpha1 as api

pytestmark = [
    pytest.mark.integration,
    NEEDS_HELM,
]

JOB = "mo-maintenance-operator-metrics"  # the metrics Service of release "mo": the ServiceMonitor's job
P = api.RemediationPhase


def _dashboard() -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads((CHART / "files" / "dashboard.json").read_text())
    return dashboard


def _grafana(expr: str) -> str:
    """Grafana's variables as Grafana would expand them with 'All' selected."""
    return (
        expr.replace("$__rate_interval", "1m")
        .replace("$__range", "1h")
        .replace("$namespace", ".*")
        .replace("$policy", ".*")
    )


def _emit(namespace: str) -> None:
    """Drive every operator metric the dashboard and the alerts read, with the labels the code uses."""
    policy = "chat"
    for dimension, score in (("overall", 3.5), ("availability", 2.0), ("performance", 6.0)):
        metrics.HEALTH_SCORE.labels(namespace=namespace, policy=policy, dimension=dimension).set(score)
    metrics.ASSESSMENTS.labels(namespace=namespace, policy=policy, result="Completed").inc()
    metrics.REMEDIATIONS.labels(
        namespace=namespace, policy=policy, action="Scale", outcome=P.SUCCEEDED.value
    ).inc()
    metrics.REMEDIATIONS.labels(
        namespace=namespace, policy=policy, action="RolloutRestart", outcome=P.ROLLED_BACK.value
    ).inc()
    metrics.TIME_TO_RECOVER.labels(namespace=namespace, policy=policy, action="Scale").observe(80)
    metrics.LLM_TOKENS.labels(namespace=namespace, policy=policy, kind="input").inc(2400)
    metrics.LLM_COST.labels(namespace=namespace, policy=policy).inc(0.02)
    metrics.PROM_QUERY_SECONDS.observe(0.02)
    metrics.PROM_QUERY_ERRORS.labels(kind="timeout").inc()
    metrics.HANDLER_ERRORS.labels(handler="policy_timer").inc()
    metrics.CONFIG_SCORE.labels(namespace, policy).set(6.4)
    metrics.SECURITY_SCORE.labels(namespace, policy).set(5.0)
    metrics.AUDIT_FINDINGS.labels(namespace, policy, "configAudit", "medium").set(2)
    metrics.VULNERABILITIES.labels(namespace, policy, "critical", "open").set(1)
    metrics.CAPACITY_HEADROOM.labels(namespace, policy).set(-12.5)
    metrics.CAPACITY_REPLICAS_NEEDED.labels(namespace, policy, "+50%").set(5)


@pytest.fixture(scope="module")
def operator_prometheus() -> Iterator[PrometheusProcess]:
    """A real Prometheus scraping the operator's metrics registry over HTTP, as the ServiceMonitor would."""
    binary = ensure_prometheus_binary()
    if binary is None:
        tools.tool_missing("prometheus binary not available and could not be installed")
    _emit(f"obs-{uuid.uuid4().hex[:6]}")
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=metrics.REGISTRY)
    prometheus = PrometheusProcess(binary, targets=[f"127.0.0.1:{port}"], job=JOB)
    try:
        prometheus.start()
        prometheus.wait_for(f'up{{job="{JOB}"}}', lambda v: v == [1.0])
        # rate() and increase() need two samples inside the window
        prometheus.wait_for(
            "count_over_time(maintenance_operator_llm_tokens_total[1m])", lambda v: min(v, default=0) >= 3
        )
        yield prometheus
    finally:
        prometheus.cleanup()
        server.shutdown()
        thread.join(timeout=5)


def _panel_queries() -> list[tuple[str, str]]:
    return [
        (panel["title"], target["expr"])
        for panel in _dashboard()["panels"]
        for target in panel.get("targets", [])
        if "expr" in target
    ]


@pytest.mark.parametrize(("title", "expr"), _panel_queries(), ids=[t for t, _ in _panel_queries()])
def test_every_dashboard_panel_has_data(
    operator_prometheus: PrometheusProcess, title: str, expr: str
) -> None:
    result = operator_prometheus.query(_grafana(expr))
    assert result, f"panel {title!r}: {expr} returned no series from the operator's metrics"


def test_dashboard_variables_list_the_emitting_policies(operator_prometheus: PrometheusProcess) -> None:
    variables = {v["name"]: v for v in _dashboard()["templating"]["list"] if v.get("type") == "query"}
    assert {"namespace", "policy"} <= set(variables)
    for name, variable in variables.items():
        definition = variable["definition"]
        assert definition.startswith("label_values(") and definition.endswith(")")
        metric, label = (
            part.strip() for part in definition.removeprefix("label_values(")[:-1].rsplit(",", 1)
        )
        values = {s["metric"].get(label) for s in operator_prometheus.query(_grafana(metric))}
        assert values - {None}, f"variable {name}: no {label} values in {metric}"


# Alert rules


@pytest.fixture(scope="module")
def rules_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rule = one(render("--set", "prometheusRule.enabled=true"), "PrometheusRule")
    path = tmp_path_factory.mktemp("rules") / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    return path


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        ensure_prometheus_binary()  # the Prometheus package ships promtool
        found = shutil.which("promtool")
    if found is None:
        tools.tool_missing("promtool not available")
    return found


def _run_promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_promtool(), *args], capture_output=True, text=True, timeout=60, check=False)


def test_rules_pass_promtool_check(rules_file: Path) -> None:
    proc = _run_promtool("check", "rules", str(rules_file))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    count = sum(len(group["rules"]) for group in yaml.safe_load(rules_file.read_text())["groups"])
    assert count >= 8
    assert f"SUCCESS: {count} rules found" in proc.stdout


def _series(name: str, labels: dict[str, str]) -> str:
    assert name in _operator_series_names(), f"{name} is not a metric the operator exposes"
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _operator_series_names() -> set[str]:
    """Series names the operator's registry can expose (a labelled metric has no samples until used)."""
    suffixes = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}
    names = {"up"}
    for family in metrics.REGISTRY.collect():
        names.update(family.name + suffix for suffix in suffixes.get(family.type, ("",)))
    return names


Alert = tuple[dict[str, str], dict[str, str]]  # (labels, annotations) of one firing alert


def _case(inputs: list[dict[str, str]], eval_time: str, alert: str, expected: list[Alert]) -> dict[str, Any]:
    return {
        "interval": "1m",
        "input_series": inputs,
        "alert_rule_test": [
            {
                "eval_time": eval_time,
                "alertname": alert,
                "exp_alerts": [
                    {"exp_labels": labels, "exp_annotations": notes} for labels, notes in expected
                ],
            }
        ],
    }


def _score(value: str) -> dict[str, str]:
    labels = {"namespace": "shop", "policy": "chat", "dimension": "overall"}
    return {"series": _series("maintenance_operator_health_score", labels), "values": value}


def _remediation(outcome: P, values: str = "0+1x60") -> dict[str, str]:
    labels = {"namespace": "shop", "policy": "chat", "action": "RolloutRestart", "outcome": outcome.value}
    return {"series": _series("maintenance_operator_remediations_total", labels), "values": values}


def _alert_cases() -> list[tuple[str, dict[str, Any]]]:
    shop = {"namespace": "shop", "policy": "chat"}
    up = f'up{{job="{JOB}"}}'
    handler = {"series": _series("maintenance_operator_handler_errors_total", {"handler": "policy_timer"})}
    down: Alert = (
        {"severity": "critical"},
        {
            "summary": "maintenance-operator is not being scraped or is down",
            "description": f"No healthy scrape of job {JOB} for 10 minutes;"
            " no assessments or remediations run.",
        },
    )
    failing_handler: Alert = (
        {"severity": "warning", "handler": "policy_timer"},
        {
            "summary": "maintenance-operator handler policy_timer keeps failing",
            "description": "Handler policy_timer raised errors for 15 minutes (33.33m/s).",
        },
    )
    low: Alert = (
        {"severity": "warning", "dimension": "overall", **shop},
        {
            "summary": "Health of shop/chat is 5/10",
            "description": "Overall health score below 7 for 15 minutes. kubectl get hass -n shop",
        },
    )
    critical: Alert = (
        {"severity": "critical", "dimension": "overall", **shop},
        {
            "summary": "Health of shop/chat is 3/10",
            "description": "Overall health score below 4. kubectl get mrem -n shop",
        },
    )
    not_helping: Alert = (
        {"severity": "warning", "action": "RolloutRestart", **shop},
        {
            "summary": "Remediation RolloutRestart did not help shop/chat",
            "description": "A remediation failed, was rolled back or escalated in the last hour;"
            " a human should look.",
        },
    )
    cost: Alert = ({"severity": "info", **shop}, {"summary": "LLM spend of shop/chat above 20 USD/24h"})
    llm_spend = {"series": _series("maintenance_operator_llm_cost_usd_total", shop)}
    return [
        ("down", _case([{"series": up, "values": "0x30"}], "15m", "MaintenanceOperatorDown", [down])),
        ("absent", _case([], "15m", "MaintenanceOperatorDown", [down])),
        ("up", _case([{"series": up, "values": "1x30"}], "15m", "MaintenanceOperatorDown", [])),
        (
            "handler errors",
            _case(
                [{**handler, "values": "0+2x30"}],
                "20m",
                "MaintenanceOperatorHandlerErrors",
                [failing_handler],
            ),
        ),
        (
            "no new handler errors",
            _case([{**handler, "values": "5x30"}], "20m", "MaintenanceOperatorHandlerErrors", []),
        ),
        ("score low", _case([_score("5x30")], "20m", "MaintenanceHealthScoreLow", [low])),
        ("score low, not for long", _case([_score("5x30")], "10m", "MaintenanceHealthScoreLow", [])),
        ("score healthy", _case([_score("8x30")], "20m", "MaintenanceHealthScoreLow", [])),
        ("score critical", _case([_score("3x30")], "10m", "MaintenanceHealthScoreCritical", [critical])),
        *(
            (
                f"remediation {o.value}",
                _case([_remediation(o)], "30m", "MaintenanceRemediationsFailing", [not_helping]),
            )
            for o in (P.ROLLED_BACK, P.FAILED, P.ESCALATED)
        ),
        *(
            (f"remediation {o.value}", _case([_remediation(o)], "30m", "MaintenanceRemediationsFailing", []))
            for o in (P.SUCCEEDED, P.REJECTED, P.EXPIRED)
        ),
        ("llm cost", _case([{**llm_spend, "values": "0+1x60"}], "60m", "MaintenanceLLMCostHigh", [cost])),
        ("llm cost low", _case([{**llm_spend, "values": "0+0.01x60"}], "60m", "MaintenanceLLMCostHigh", [])),
    ]


@pytest.mark.parametrize(("case", "test"), _alert_cases(), ids=[c for c, _ in _alert_cases()])
def test_alert_fires_exactly_when_it_should(
    rules_file: Path, tmp_path: Path, case: str, test: dict[str, Any]
) -> None:
    tests = tmp_path / "tests.yaml"
    tests.write_text(
        yaml.safe_dump({"rule_files": [str(rules_file)], "evaluation_interval": "1m", "tests": [test]})
    )
    proc = _run_promtool("test", "rules", str(tests))
    assert proc.returncode == 0, f"{case}:\n{proc.stdout}{proc.stderr}"
    assert "SUCCESS" in proc.stdout


def test_a_wrong_expectation_fails(rules_file: Path, tmp_path: Path) -> None:
    """promtool really evaluates the rules: expecting silence from a firing alert is reported."""
    wrong = _case([_score("2x30")], "10m", "MaintenanceHealthScoreCritical", [])
    tests = tmp_path / "tests.yaml"
    tests.write_text(
        yaml.safe_dump({"rule_files": [str(rules_file)], "evaluation_interval": "1m", "tests": [wrong]})
    )
    proc = _run_promtool("test", "rules", str(tests))
    assert proc.returncode != 0
    assert "MaintenanceHealthScoreCritical" in proc.stdout + proc.stderr
