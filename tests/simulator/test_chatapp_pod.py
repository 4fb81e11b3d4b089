"""The per-Pod Chat App process (hack/chatapp_pod.py): what happens to it drives the model's metrics."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest

import chatapp_pod
from chatapp_sim.model import PodInfo

MIB = 1024 * 1024


def make_app(
    tmp_path: Path, *, version: str = "1.0", llm_url: str = "http://127.0.0.1:9/none"
) -> chatapp_pod.ChatApp:
    pod = PodInfo(
        uid="uid-1",
        namespace="shop",
        name="chatapp-5d9c-abcde",
        deployment="chatapp",
        image=f"chatapp:{version}",
        memory_limit_bytes=128 * MIB,
        start_time=time.time() - 60,
    )
    return chatapp_pod.ChatApp(
        pod=pod, version=version, config_dir=tmp_path, config_map="chatapp-config", llm_url=llm_url
    )


def series(text: bytes, name: str) -> float:
    for line in text.decode().splitlines():
        if line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not exposed")


def run(app: chatapp_pod.ChatApp, seconds: float, messages_per_second: int) -> None:
    """Deliver traffic in 0.1 s steps and let the heartbeat integrate it."""
    end = time.time() + seconds
    while time.time() < end:
        app.receive(messages_per_second // 10)
        app.tick()
        time.sleep(0.1)


def test_config_values_are_validated_per_key() -> None:
    assert chatapp_pod.config_errors({"eventbus.maxQueue": "1000", "plugins.enabled": "true"}) == []
    errors = chatapp_pod.config_errors({"eventbus.maxQueue": "-1", "llm.timeoutSeconds": "x"})
    assert [e.split("=")[0] for e in errors] == ["eventbus.maxQueue", "llm.timeoutSeconds"]


def test_a_corrupt_value_fails_the_reload_and_keeps_the_previous_config(tmp_path: Path) -> None:
    (tmp_path / "eventbus.maxQueue").write_text("1000")
    app = make_app(tmp_path)
    app.reload_config()
    assert app.config == {"eventbus.maxQueue": "1000"}
    (tmp_path / "eventbus.maxQueue").write_text("-1")
    app.reload_config()
    assert app.config == {"eventbus.maxQueue": "1000"} and app.reload_failures == 1
    assert any(f.spec.type == "config_corruption" for f in app.model.faults())
    (tmp_path / "eventbus.maxQueue").write_text("1000")
    app.reload_config()
    assert not any(f.spec.type == "config_corruption" for f in app.model.faults())


def test_offered_load_is_the_traffic_that_arrives(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    run(app, 1.0, 200)
    # 1 s of 200 messages/s, averaged over the 10 s window
    assert 15 <= app.offered_load(time.time()) <= 25
    assert series(app.scrape(), "chatapp_requests_total") > 0


def test_version_1_1_is_a_bad_release(tmp_path: Path) -> None:
    good, bad = make_app(tmp_path), make_app(tmp_path, version="1.1")
    for app in (good, bad):
        run(app, 1.5, 100)
    ratio = {
        name: series(app.scrape(), "chatapp_request_errors_total")
        / max(series(app.scrape(), "chatapp_requests_total"), 1)
        for name, app in (("good", good), ("bad", bad))
    }
    assert ratio["bad"] > 0.1 > ratio["good"], ratio


def test_memory_is_the_process_resident_memory_and_a_leak_really_allocates(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    before = series(app.scrape(), "chatapp_memory_bytes")
    assert before == pytest.approx(chatapp_pod.resident_bytes(), rel=0.2)
    assert series(app.scrape(), "chatapp_memory_limit_bytes") == 128 * MIB
    app.leak.start(64 * MIB, ceiling=before + 24 * MIB)
    deadline = time.time() + 5
    while time.time() < deadline and chatapp_pod.resident_bytes() < before + 16 * MIB:
        time.sleep(0.1)
    assert series(app.scrape(), "chatapp_memory_bytes") >= before + 16 * MIB
    app.leak.chunks.clear()


def test_a_failing_llm_dependency_degrades_the_llm_metrics(tmp_path: Path) -> None:
    app = make_app(tmp_path, llm_url="http://127.0.0.1:9/v1/messages")  # nothing listens on port 9
    app.probe_llm()
    assert app.llm_ok is False
    assert any(f.spec.type == "llm_slowdown" for f in app.model.faults())


def test_the_llm_stub_answers(tmp_path: Path) -> None:
    from http.server import ThreadingHTTPServer
    from threading import Thread

    server = ThreadingHTTPServer(("127.0.0.1", 0), chatapp_pod._LlmHandler)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1/messages"
        assert chatapp_pod.call_llm(url, 2.0)
        with urllib.request.urlopen(url, timeout=2) as response:
            assert b"pong" in response.read()
    finally:
        server.shutdown()
