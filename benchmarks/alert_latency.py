"""Fault visible in Prometheus → HealthAssessment started → Remediation Executing: through Alertmanager and
the receiver, and by the schedule alone.

A real Prometheus scrapes the Chat App simulator and evaluates the rules rendered from the sample policy's
indicators (domain/alerts.py) every EVALUATION_INTERVAL, a real Alertmanager routes them to the operator's
receiver over HTTPS with the bearer token, and the operator runs as a process against the local cluster
with the offline planner. For each trial a fresh policy (no history: the knowledge base would call a third
restart of one issue flapping) watches the Chat App and a memory leak fills its pods to their limit at once:
memory-usage is a critical issue whose RolloutRestart the sample policy approves by itself (autoApprove:
critical, risk up to Medium, confidence 8). "Visible" is the first instant the memory-usage query is past
its critical threshold in that Prometheus, "assessment" the first instant a new HealthAssessment exists,
"executing" the first instant a Remediation has started executing (phase Executing or later). Without the
receiver the same is measured with `schedule.healthCheck` = SCHEDULE (the default is 5m: it would wait
150 s on average).

Run: ``PYTHONPATH=operator .venv/bin/python -m benchmarks.alert_latency`` (installs Alertmanager with
apt-get when missing). Writes benchmarks/results/alert_latency.json.
"""

from __future__ import annotations

import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks import operator_rss
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import alerts as matching
from maintenance_operator.domain import promql
from maintenance_operator.handlers import alerts

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hack"))
import chatapp_stack as stack_lib  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "alert_latency.json"
NAMESPACE = "bench-alerts"
TOKEN = "bench-alert-token-not-secret"
TRIALS = 3
SCHEDULE = "30s"
EVALUATION_INTERVAL = "15s"  # Prometheus' rule evaluation interval (its default is 1m)
INDICATOR = "memory-usage"
LEAK_BYTES_PER_SECOND = 4_000_000_000  # from healthy to the memory limit within one scrape
EXECUTED = {"Executing", "Verifying", "RollingBack", "Succeeded", "RolledBack", "Failed"}
RECEIVER_SECONDS = 0.3  # alert fired → assessment created, measured at a 1 s evaluation interval (0.23 s)
DONE_WHEN_SLACK_SECONDS = 5.0  # "within one evaluation interval plus a few seconds"
PHASES = random.Random(16)


def _free_port() -> int:
    return int(stack_lib._free_port())


def _binary(*names: str, package: str) -> str:
    for name in names:
        if found := shutil.which(name):
            return found
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", package], check=False, capture_output=True, timeout=600
    )
    for name in names:
        if found := shutil.which(name):
            return found
    raise RuntimeError(f"none of {names} on PATH and apt-get could not install {package}")


def _wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} not ready within {timeout}s")


@contextmanager
def _process(args: list[str], *, ready: str, log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_http(ready)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _policy(namespace: str, health_check: str) -> dict[str, Any]:
    return stack_lib.demo_policy(
        namespace, schedule={"healthCheck": health_check, "performanceAnalysis": "1h"}
    )


def _rule_file(directory: Path, policy: dict[str, Any]) -> tuple[Path, str]:
    spec = api.MaintenancePolicySpec.model_validate(policy["spec"])
    namespace, name = policy["metadata"]["namespace"], policy["metadata"]["name"]
    pairs = [
        (i, promql.substitute(i.query, namespace=namespace, deployment=spec.target_ref.name))
        for i in spec.indicators
    ]
    path = directory / "rules.json"
    path.write_text(json.dumps(matching.indicator_rules(policy=name, namespace=namespace, indicators=pairs)))
    query = next(q for i, q in pairs if i.name == INDICATOR)
    critical = next(i.critical for i in spec.indicators if i.name == INDICATOR)
    return path, f"({query}) > {critical}"


def _visible(prometheus: str, breach: str) -> bool:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": breach})
    with urllib.request.urlopen(url, timeout=5) as response:
        return bool(json.load(response)["data"]["result"])


def _names(api_client: Any, namespace: str) -> set[str]:
    return {a["metadata"]["name"] for a in stack_lib.items(api_client, "healthassessments", namespace)}


def _settled(api_client: Any, namespace: str) -> bool:
    assessments = stack_lib.items(api_client, "healthassessments", namespace)
    return bool(assessments) and all(
        (a.get("status") or {}).get("phase") in {"Completed", "Inconclusive", "Failed"} for a in assessments
    )


def _executing(api_client: Any, namespace: str) -> bool:
    return any(
        (r.get("status") or {}).get("phase") in EXECUTED or (r.get("status") or {}).get("startedAt")
        for r in stack_lib.items(api_client, "remediations", namespace)
    )


def _finished(api_client: Any, namespace: str) -> bool:
    return all(
        (r.get("status") or {}).get("phase")
        in stack_lib.REMEDIATION_TERMINAL | {"AwaitingApproval", "Backlog", "Scheduled"}
        for r in stack_lib.items(api_client, "remediations", namespace)
    )


def _gone(api_client: Any, namespace: str) -> bool:
    return not any(
        stack_lib.items(api_client, plural, namespace)
        for plural in ("maintenancepolicies", "healthassessments", "remediations")
    )


def _fresh_policy(api_client: Any, namespace: str, policy: dict[str, Any]) -> None:
    """Replace the policy (its assessments and remediations go with it) and wait for its first checks."""
    objects = stack_lib.custom(api_client)
    for item in stack_lib.items(api_client, "maintenancepolicies", namespace):
        objects.delete_namespaced_custom_object(
            stack_lib.GROUP, stack_lib.VERSION, namespace, "maintenancepolicies", item["metadata"]["name"]
        )
    # the policy's analyses leave a dozen findings, each released by the operator: give them time
    stack_lib.wait_for(lambda: _gone(api_client, namespace), timeout=300, what="the old policy to go")
    stack_lib.create(api_client, "maintenancepolicies", namespace, policy)
    stack_lib.wait_for(lambda: _settled(api_client, namespace), timeout=120, what="the first assessments")


def _trial(
    stack: stack_lib.Stack,
    *,
    prometheus: str,
    breach: str,
    namespace: str,
    policy: dict[str, Any],
    receiver: bool,
) -> dict[str, float]:
    """Seconds from the breach being visible in Prometheus to a new HealthAssessment existing and to a
    Remediation executing."""
    api_client = stack.api()
    stack_lib.clear_faults(stack)
    stack_lib.wait_for(lambda: not _visible(prometheus, breach), timeout=180, what="the fault to clear")
    _fresh_policy(api_client, namespace, policy)
    time.sleep(2)
    if receiver:
        # one alert-triggered assessment per policy per cooldown slot: each trial starts in a fresh slot
        time.sleep(matching.COOLDOWN_SECONDS - time.time() % matching.COOLDOWN_SECONDS + 1)
    # at a random point of Prometheus' evaluation cycle (and of the schedule), not the same one every trial
    time.sleep(PHASES.uniform(0, _seconds(EVALUATION_INTERVAL)))
    before = _names(api_client, namespace)
    # memory of the pods running now fills to their limit; pods started later (the restart) do not leak
    stack_lib.inject(
        stack, {"type": "memory_leak", "namespace": namespace, "bytesPerSecond": LEAK_BYTES_PER_SECOND}
    )
    stack_lib.wait_for(lambda: _visible(prometheus, breach), timeout=120, interval=0.1, what="the breach")
    visible = time.monotonic()
    stack_lib.wait_for(
        lambda: _names(api_client, namespace) - before, timeout=600, interval=0.1, what="a new assessment"
    )
    assessment = time.monotonic()
    stack_lib.wait_for(
        lambda: _executing(api_client, namespace), timeout=600, interval=0.1, what="a remediation executing"
    )
    executing = time.monotonic()
    stack_lib.wait_for(lambda: _finished(api_client, namespace), timeout=300, what="the remediation to end")
    trial = {
        "assessment_s": round(assessment - visible, 2),
        "executing_s": round(executing - visible, 2),
        "assessment_to_executing_s": round(executing - assessment, 2),
    }
    print(namespace, trial, flush=True)
    return trial


def _run(stack: stack_lib.Stack, *, receiver: bool, work: Path) -> list[dict[str, float]]:
    api_client = stack.api()
    namespace = f"{NAMESPACE}-{'receiver' if receiver else 'schedule'}"
    stack_lib.deploy_chatapp(api_client, namespace)
    stack_lib.wait_for(lambda: stack_lib.rolled_out(api_client, namespace), timeout=120, what="rollout")
    policy = _policy(namespace, "1h" if receiver else SCHEDULE)
    rules, breach = _rule_file(work, policy)
    webhook_port, am_port, prom_port = _free_port(), _free_port(), _free_port()
    simulator = urllib.parse.urlsplit(stack.simulator_url).netloc
    (work / "alertmanager.yml").write_text(
        json.dumps(
            {
                "route": {
                    "receiver": "maintenance-operator",
                    "group_by": ["namespace", matching.POLICY_LABEL],
                    "group_wait": "0s",
                    "group_interval": "1s",
                    "repeat_interval": "1h",
                },
                "receivers": [
                    {
                        "name": "maintenance-operator",
                        "webhook_configs": [
                            {
                                "url": f"https://127.0.0.1:{webhook_port}/{alerts.ROUTE}",
                                "send_resolved": False,
                                "http_config": {
                                    "authorization": {"type": "Bearer", "credentials": TOKEN},
                                    # the loopback receiver's certificate is self-signed per run
                                    "tls_config": {"insecure_skip_verify": True},
                                },
                            }
                        ],
                    }
                ],
            }
        )
    )
    (work / "prometheus.yml").write_text(
        json.dumps(
            {
                "global": {
                    "scrape_interval": "1s",
                    "scrape_timeout": "1s",
                    "evaluation_interval": EVALUATION_INTERVAL,
                },
                "rule_files": [str(rules)],
                "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
                "scrape_configs": [
                    {
                        "job_name": "chatapp",
                        "honor_labels": True,
                        "static_configs": [{"targets": [simulator]}],
                    }
                ],
            }
        )
    )
    alertmanager = _binary("alertmanager", "prometheus-alertmanager", package="prometheus-alertmanager")
    prometheus_bin = _binary("prometheus", package="prometheus")
    prometheus = f"http://127.0.0.1:{prom_port}"
    env = {"MAINTENANCE_OPERATOR_WEBHOOK_PORT": str(webhook_port), "MAINTENANCE_OPERATOR_METRICS_PORT": "0"}
    if receiver:
        env[alerts.TOKEN_ENV] = TOKEN
    operator = stack_lib.OperatorProcess(
        stack, namespaces=[namespace], log_path=work / "operator.log", extra_env=env
    )
    with (
        _process(
            [
                alertmanager,
                f"--config.file={work / 'alertmanager.yml'}",
                f"--storage.path={work / 'am'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
            ],
            ready=f"http://127.0.0.1:{am_port}/-/ready",
            log=work / "alertmanager.log",
        ),
        _process(
            [
                prometheus_bin,
                f"--config.file={work / 'prometheus.yml'}",
                f"--storage.tsdb.path={work / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
                "--log.level=warn",
            ],
            ready=f"{prometheus}/-/ready",
            log=work / "prometheus.log",
        ),
    ):
        operator.start()
        try:
            return [
                _trial(
                    stack,
                    prometheus=prometheus,
                    breach=breach,
                    namespace=namespace,
                    policy=policy,
                    receiver=receiver,
                )
                for _ in range(TRIALS)
            ]
        finally:
            operator.stop()
            stack_lib.clear_faults(stack)
            stack_lib.delete_namespace(api_client, namespace)


def _summary(trials: list[dict[str, float]]) -> dict[str, Any]:
    return {
        "trials": trials,
        "assessment_median_s": statistics.median(t["assessment_s"] for t in trials),
        "executing_median_s": statistics.median(t["executing_s"] for t in trials),
        "executing_max_s": max(t["executing_s"] for t in trials),
        "assessment_to_executing_median_s": statistics.median(t["assessment_to_executing_s"] for t in trials),
    }


def _seconds(duration: str) -> float:
    return float(duration[:-1]) * {"s": 1, "m": 60, "h": 3600}[duration[-1]]


def main() -> None:
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    stack = operator_rss.cluster()
    stack.kubectl("apply", "-f", str(ROOT / "crds"))
    work = Path(tempfile.mkdtemp(prefix="bench-alerts-"))
    (work / "receiver").mkdir()
    (work / "schedule").mkdir()
    with_receiver = _summary(_run(stack, receiver=True, work=work / "receiver"))
    by_schedule = _summary(_run(stack, receiver=False, work=work / "schedule"))
    budget = _seconds(EVALUATION_INTERVAL) + DONE_WHEN_SLACK_SECONDS
    results = {
        "what": "seconds from a critical fault visible in Prometheus to a new HealthAssessment and to its "
        "auto-approved Remediation executing (offline planner, memory leak → RolloutRestart)",
        "trials": TRIALS,
        "alert_evaluation_interval": EVALUATION_INTERVAL,
        "health_check_schedule_without_receiver": SCHEDULE,
        "receiver": with_receiver,
        f"schedule_{SCHEDULE}": by_schedule,
        "executing_ratio_schedule_to_receiver": round(
            by_schedule["executing_median_s"] / max(with_receiver["executing_median_s"], 0.01), 1
        ),
        "done_when": f"every receiver trial executing within the evaluation interval + "
        f"{DONE_WHEN_SLACK_SECONDS:g} s ({budget:g} s)",
        "done_when_met": with_receiver["executing_max_s"] <= budget,
        # an alert fires at most one interval after the breach shows; then the receiver and the operator
        "worst_case_s": round(
            _seconds(EVALUATION_INTERVAL)
            + max(t["assessment_to_executing_s"] for t in with_receiver["trials"])
            + RECEIVER_SECONDS,
            1,
        ),
        "load_average_at_start": load,
        "load_average_at_end": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "logs": str(work),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
