"""Kubernetes client choice: RSS at idle and CPU per reconcile for three ways to call the API server.

- ``threads``: the ``kubernetes`` client called through ``asyncio.to_thread`` (what the adapters do today);
- ``aiohttp``: plain aiohttp requests, the stack kopf itself uses for its watches and patches;
- ``kubernetes_asyncio``: the generated async client (measured only if it is installed).

A "reconcile" is the API traffic of one assessment write-back: GET the policy, GET the Deployment,
PATCH the policy status (merge patch). The API server is a loopback stub in its own process serving
canned bodies, so only client-side cost is measured (the stub's CPU is not counted); 8 reconciles run
at once. RSS is measured in a fresh process after one reconcile and a 2 s settle.

Run: ``PYTHONPATH=operator:. .venv/bin/python -m benchmarks.kube_clients``.
Writes benchmarks/results/kube_clients.json.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.fixtures.prometheus import free_port

RESULTS = Path(__file__).resolve().parent / "results" / "kube_clients.json"
RECONCILES = 400
CONCURRENCY = 8

STUB = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
POLICY = json.dumps({"apiVersion": "maintenance.chatapp.io/v1alpha1", "kind": "MaintenancePolicy",
    "metadata": {"name": "p", "namespace": "ns", "resourceVersion": "1"},
    "spec": {"targetRef": {"name": "chatapp"}, "indicators": [{"name": "i%d" % i, "query": "up"} for i in range(8)]},
    "status": {"conditions": [{"type": "Ready", "status": "True"}]}}).encode()
DEPLOY = json.dumps({"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "chatapp", "namespace": "ns", "resourceVersion": "1", "generation": 1},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "c"}}, "template": {"metadata": {"labels": {"app": "c"}},
    "spec": {"containers": [{"name": "c", "image": "chatapp:1.0"}]}}},
    "status": {"replicas": 2, "readyReplicas": 2}}).encode()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def _send(self, body):
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        self._send(DEPLOY if "/deployments/" in self.path else POLICY)
    def do_PATCH(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0))); self._send(POLICY)
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""  # noqa: E501

CLIENT = r"""
import asyncio, json, resource, sys, time
kind, url, reconciles, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
G, V, NS = "maintenance.chatapp.io", "v1alpha1", "ns"
STATUS = {"status": {"overallScore": 9.5, "conditions": [{"type": "HealthAlert", "status": "False"}]}}

async def main():
    if kind == "threads":
        from kubernetes import client
        cfg = client.Configuration(); cfg.host = url
        api = client.ApiClient(cfg); objs = client.CustomObjectsApi(api); apps = client.AppsV1Api(api)
        async def reconcile():
            await asyncio.to_thread(objs.get_namespaced_custom_object, G, V, NS, "maintenancepolicies", "p")
            await asyncio.to_thread(apps.read_namespaced_deployment, "chatapp", NS)
            await asyncio.to_thread(objs.patch_namespaced_custom_object_status, G, V, NS, "maintenancepolicies", "p", STATUS)
        close = None
    elif kind == "aiohttp":
        import aiohttp
        session = aiohttp.ClientSession(base_url=url, connector=aiohttp.TCPConnector(limit=concurrency))
        base = f"/apis/{G}/{V}/namespaces/{NS}/maintenancepolicies/p"
        async def reconcile():
            async with session.get(base) as r: await r.json()
            async with session.get(f"/apis/apps/v1/namespaces/{NS}/deployments/chatapp") as r: await r.json()
            async with session.patch(base + "/status", data=json.dumps(STATUS),
                                     headers={"Content-Type": "application/merge-patch+json"}) as r: await r.json()
        close = session.close
    else:
        from kubernetes_asyncio import client
        cfg = client.Configuration(); cfg.host = url
        api = client.ApiClient(cfg); objs = client.CustomObjectsApi(api); apps = client.AppsV1Api(api)
        async def reconcile():
            await objs.get_namespaced_custom_object(G, V, NS, "maintenancepolicies", "p")
            await apps.read_namespaced_deployment("chatapp", NS)
            await objs.patch_namespaced_custom_object_status(G, V, NS, "maintenancepolicies", "p", STATUS)
        close = api.close
    await reconcile()
    await asyncio.sleep(2)
    idle_rss = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024
    gate = asyncio.Semaphore(concurrency)
    async def one():
        async with gate: await reconcile()
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one() for _ in range(reconciles)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if close: await close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"idle_rss_mb": round(idle_rss, 1), "peak_rss_mb": round(peak, 1),
                      "cpu_ms_per_reconcile": round(cpu / reconciles * 1000, 3),
                      "wall_ms_per_reconcile": round(wall / reconciles * 1000, 3)}))
asyncio.run(main())
"""  # noqa: E501


def measure(kind: str, url: str, *, runs: int = 3) -> dict[str, Any]:
    """The median of ``runs`` fresh processes for each number."""
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", CLIENT, kind, url, str(RECONCILES), str(CONCURRENCY)],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        ).stdout
        samples.append(json.loads(out))
    return {key: sorted(s[key] for s in samples)[len(samples) // 2] for key in samples[0]}


def main() -> None:
    port = free_port()
    stub = subprocess.Popen([sys.executable, "-c", STUB, str(port)])
    try:
        time.sleep(1.0)
        url = f"http://127.0.0.1:{port}"
        kinds = ["threads", "aiohttp"]
        if importlib.util.find_spec("kubernetes_asyncio") is not None:
            kinds.append("kubernetes_asyncio")
        results = {kind: measure(kind, url) for kind in kinds}
    finally:
        stub.terminate()
        stub.wait(timeout=10)
    payload = {
        "reconcile": "GET policy + GET Deployment + PATCH policy status, against a loopback stub",
        "reconciles": RECONCILES,
        "concurrency": CONCURRENCY,
        "runs": "median of 3 fresh processes",
        "python": sys.version.split()[0],
        "clients": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n")
    for kind, numbers in results.items():
        print(kind, numbers)


if __name__ == "__main__":
    main()
