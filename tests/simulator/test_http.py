"""The real HTTP server with static pod/config sources: /metrics parsing and the fault API."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

import chatapp_simulator as sim
from chatapp_sim.model import COUNTERS, GAUGES, HISTOGRAMS, ConfigRef, PodInfo

from .simhelpers import T0, pod

CM = ("default", "chatapp-config")


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def pods() -> sim.StaticPodSource:
    return sim.StaticPodSource([pod("chatapp-abc-1"), pod("chatapp-abc-2")])


@pytest.fixture
def configs() -> sim.MemoryConfigSource:
    return sim.MemoryConfigSource({CM: {"config.yaml": "plugins: []\n"}})


@pytest.fixture
def server(
    pods: sim.StaticPodSource, configs: sim.MemoryConfigSource, clock: FakeClock
) -> Iterator[sim.Running]:
    running = sim.start(sim.Simulator(pods, configs, seed=1, clock=clock), port=0, interval=0.02)
    yield running
    running.shutdown()


def call(
    running: sim.Running, method: str, path: str, body: object = None, raw: bytes | None = None
) -> tuple[int, bytes]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(running.url + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def call_json(
    running: sim.Running, method: str, path: str, body: object = None
) -> tuple[int, dict[str, object]]:
    status, payload = call(running, method, path, body)
    parsed = json.loads(payload)
    assert isinstance(parsed, dict)
    return status, parsed


def as_list(payload: object) -> list[dict[str, object]]:
    assert isinstance(payload, list)
    return payload


def scrape(running: sim.Running) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    status, body = call(running, "GET", "/metrics")
    assert status == 200
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    matches = [v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls]
    assert len(matches) == 1, (name, labels, len(matches))
    return matches[0]


def advance(running: sim.Running, clock: FakeClock, seconds: int) -> None:
    """Move simulated time one second at a time, refreshing like the poller would."""
    for _ in range(seconds):
        clock.now += 1
        running.server.simulator.refresh()


def test_metrics_exposes_every_family_with_pod_labels(server: sim.Running, clock: FakeClock) -> None:
    advance(server, clock, 30)
    samples = scrape(server)
    names = {n for n, _ in samples}
    expected = set(COUNTERS) | set(GAUGES)
    expected |= {f"{h}_{suffix}" for h in HISTOGRAMS for suffix in ("bucket", "sum", "count")}
    assert expected <= names
    for (_, labels), _v in samples.items():
        assert {"namespace", "pod", "deployment"} <= {k for k, _ in labels}
    assert value(samples, "chatapp_build_info", pod="chatapp-abc-1", image="chatapp:1.0") == 1
    assert value(samples, "chatapp_requests_total", pod="chatapp-abc-1", deployment="chatapp") > 1000
    inf = value(samples, "chatapp_message_latency_seconds_bucket", pod="chatapp-abc-2", le="+Inf")
    assert inf == value(samples, "chatapp_message_latency_seconds_count", pod="chatapp-abc-2")


def test_healthz(server: sim.Running) -> None:
    status, payload = call_json(server, "GET", "/healthz")
    assert status == 200 and payload["status"] == "ok"


def test_fault_lifecycle(server: sim.Running, clock: FakeClock, pods: sim.StaticPodSource) -> None:
    status, created = call_json(server, "POST", "/faults", {"type": "memory_leak", "bytesPerSecond": 3145728})
    assert status == 201 and created["type"] == "memory_leak" and created["active"] is True
    assert created["affectedPods"] == ["chatapp-abc-1", "chatapp-abc-2"]
    leak_id = str(created["id"])
    advance(server, clock, 60)
    memory = value(scrape(server), "chatapp_memory_bytes", pod="chatapp-abc-1")
    assert memory > 300 * 1024 * 1024

    status, listed = call_json(server, "GET", "/faults")
    faults = listed["faults"]
    assert status == 200 and isinstance(faults, list) and [f["id"] for f in faults] == [leak_id]
    status, one = call_json(server, "GET", f"/faults/{leak_id}")
    assert status == 200 and one["spec"] == created["spec"]

    pods.pods = [pod("chatapp-def-1")]  # a restart: old pods gone, new pod fresh
    advance(server, clock, 5)
    samples = scrape(server)
    assert value(samples, "chatapp_memory_bytes", pod="chatapp-def-1") < 200 * 1024 * 1024
    assert not [k for k in samples if ("pod", "chatapp-abc-1") in k[1]]
    assert call_json(server, "GET", f"/faults/{leak_id}")[1]["active"] is False

    status, removed = call_json(server, "DELETE", f"/faults/{leak_id}")
    assert status == 200 and removed["id"] == leak_id
    assert call_json(server, "DELETE", f"/faults/{leak_id}")[0] == 404
    assert call_json(server, "GET", f"/faults/{leak_id}")[0] == 404


def test_config_corruption_patches_configmap_and_delete_restores(
    server: sim.Running, clock: FakeClock, configs: sim.MemoryConfigSource
) -> None:
    body = {
        "type": "config_corruption",
        "namespace": "default",
        "configMap": "chatapp-config",
        "key": "config.yaml",
        "badValue": "{{broken",
        "deployment": "chatapp",
    }
    status, created = call_json(server, "POST", "/faults", body)
    assert status == 201 and created["previousValue"] == "plugins: []\n" and created["active"] is True
    assert configs.config_maps[CM]["config.yaml"] == "{{broken"
    advance(server, clock, 30)
    failures = value(scrape(server), "chatapp_config_reload_failures_total", pod="chatapp-abc-1")
    assert failures > 0

    configs.write(ConfigRef("default", "chatapp-config", "config.yaml"), "plugins: [fixed]\n")  # operator fix
    advance(server, clock, 30)
    assert value(scrape(server), "chatapp_config_reload_failures_total", pod="chatapp-abc-1") == failures
    status, listed = call_json(server, "GET", "/faults")
    faults = listed["faults"]
    assert isinstance(faults, list) and faults[0]["active"] is False

    status, removed = call_json(server, "DELETE", f"/faults/{created['id']}")
    assert removed["restored"] is False  # someone already fixed it: leave their value alone
    assert configs.config_maps[CM]["config.yaml"] == "plugins: [fixed]\n"

    status, created = call_json(server, "POST", "/faults", body)
    status, cleared = call_json(server, "DELETE", "/faults")
    assert status == 200 and [f["restored"] for f in as_list(cleared["removed"])] == [True]
    assert configs.config_maps[CM]["config.yaml"] == "plugins: [fixed]\n"


def test_config_corruption_of_missing_configmap_is_404(server: sim.Running) -> None:
    status, payload = call_json(server, "POST", "/faults", {"type": "config_corruption", "configMap": "nope"})
    assert status == 404 and "not found" in str(payload["error"])
    assert call_json(server, "GET", "/faults")[1]["faults"] == []


@pytest.mark.parametrize(
    ("raw", "status"),
    [(b"{not json", 400), (b'{"type": "meteor_strike"}', 400), (b'{"type": "memory_leak", "x": 1}', 400)],
)
def test_bad_post_bodies(server: sim.Running, raw: bytes, status: int) -> None:
    code, payload = call(server, "POST", "/faults", raw=raw)
    assert code == status and b"error" in payload


def test_unknown_paths_are_404(server: sim.Running) -> None:
    assert call(server, "GET", "/nope")[0] == 404
    assert call(server, "POST", "/metrics", {})[0] == 404
    assert call(server, "DELETE", "/metrics")[0] == 404


def test_bad_release_and_clear_all(server: sim.Running, clock: FakeClock, pods: sim.StaticPodSource) -> None:
    pods.pods = [pod("chatapp-new-1", image="chatapp:1.1")]
    status, created = call_json(server, "POST", "/faults", {"type": "bad_release"})
    assert status == 201 and created["active"] is True
    advance(server, clock, 60)
    samples = scrape(server)
    errors = value(samples, "chatapp_request_errors_total", pod="chatapp-new-1")
    requests = value(samples, "chatapp_requests_total", pod="chatapp-new-1")
    assert 0.25 < errors / requests < 0.35
    status, cleared = call_json(server, "DELETE", "/faults")
    assert status == 200 and len(as_list(cleared["removed"])) == 1
    assert call_json(server, "GET", "/faults")[1]["faults"] == []


def test_pod_source_errors_keep_last_known_pods(clock: FakeClock) -> None:
    class Flaky:
        def __init__(self) -> None:
            self.fail = False

        def list_pods(self) -> list[PodInfo]:
            if self.fail:
                raise ConnectionError("apiserver down")
            return [pod("chatapp-abc-1")]

    source = Flaky()
    simulator = sim.Simulator(source, sim.MemoryConfigSource(), clock=clock)
    simulator.refresh()
    source.fail = True
    clock.now += 5
    simulator.refresh()
    assert [p.name for p in simulator.pods] == ["chatapp-abc-1"]
    assert b'pod="chatapp-abc-1"' in simulator.on_scrape()


def test_script_runs_standalone() -> None:
    script = Path(__file__).resolve().parents[2] / "hack" / "chatapp_simulator.py"
    result = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "--kubeconfig" in result.stdout
