"""Kubernetes client choice: RSS at idle and at 1,000 policies, CPU per reconcile, and the code each would
touch, for three ways to call the API server.

- ``threads``: the ``kubernetes`` client called through ``asyncio.to_thread`` (what the adapters do today);
- ``aiohttp``: plain aiohttp requests, the stack kopf itself uses for its watches and patches;
- ``kubernetes_asyncio``: the generated async client (measured only if it is installed).

A "reconcile" is the API traffic of one assessment write-back: GET the policy, GET the Deployment,
PATCH the policy status (merge patch). The API server is a loopback stub in its own process serving
canned bodies, so only client-side cost is measured (the stub's CPU is not counted); 8 reconciles run
at once. RSS is measured in a fresh process after one reconcile and a 2 s settle ("idle"), then after the
process LISTs 1,000 policies (the sample policy's spec with a running policy's status: 12 indicator states,
3 conditions, 20 outcomes) and keeps them, as a watch cache does ("1,000 policies").

Code size is counted, not ported: the lines of the operator's adapters that name the ``kubernetes`` client
(imports, API calls, the thread hop, raw-response reads, config loading), i.e. what each alternative would
have to touch (see ``client_surface``).

Run: ``PYTHONPATH=operator:. .venv/bin/python -m benchmarks.kube_clients``.
Writes benchmarks/results/kube_clients.json.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from tests.fixtures.prometheus import free_port

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results" / "kube_clients.json"
POLICIES = 1000
RECONCILES = 400
CONCURRENCY = 8

STUB = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
SPEC, COUNT = json.load(open(sys.argv[2])), int(sys.argv[3])
STATE = {"name": "x", "dimension": "core", "phase": "Successful", "breachingSince": None, "lastValue": 0.01}
OUTCOME = {"fingerprint": "chatapp/error-ratio", "category": "error-rate", "action": "RolloutRestart",
    "result": "Succeeded", "at": "2030-01-01T00:00:00Z", "remediation": "r", "confidence": 8.5, "planner": "Offline"}
COND = {"type": "Ready", "status": "True", "reason": "Accepted", "message": "policy accepted",
    "lastTransitionTime": "2030-01-01T00:00:00Z", "observedGeneration": 1}
LIST = json.dumps({"apiVersion": "maintenance.chatapp.io/v1alpha1", "kind": "MaintenancePolicyList",
    "metadata": {"resourceVersion": "1"}, "items": [
    {"apiVersion": "maintenance.chatapp.io/v1alpha1", "kind": "MaintenancePolicy",
     "metadata": {"name": "p%d" % i, "namespace": "ns", "resourceVersion": str(i), "uid": "u%d" % i, "generation": 1},
     "spec": SPEC, "status": {"phase": "Active", "overallScore": 9.5, "lastAssessment": "p%d-hc-1" % i,
        "indicatorStates": [dict(STATE, name="i%d" % j) for j in range(12)],
        "conditions": [dict(COND, type=t) for t in ("Ready", "HealthAlert", "Analyses")],
        "outcomes": [dict(OUTCOME, remediation="r%d" % k) for k in range(20)]}}
    for i in range(COUNT)]}).encode()
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
        path = self.path.split("?")[0]
        self._send(DEPLOY if "/deployments/" in path else LIST if path.endswith("/maintenancepolicies") else POLICY)
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
        async def list_policies():
            return await asyncio.to_thread(objs.list_namespaced_custom_object, G, V, NS, "maintenancepolicies")
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
        async def list_policies():
            async with session.get(f"/apis/{G}/{V}/namespaces/{NS}/maintenancepolicies") as r: return await r.json()
        close = session.close
    else:
        from kubernetes_asyncio import client
        cfg = client.Configuration(); cfg.host = url
        api = client.ApiClient(cfg); objs = client.CustomObjectsApi(api); apps = client.AppsV1Api(api)
        async def reconcile():
            await objs.get_namespaced_custom_object(G, V, NS, "maintenancepolicies", "p")
            await apps.read_namespaced_deployment("chatapp", NS)
            await objs.patch_namespaced_custom_object_status(G, V, NS, "maintenancepolicies", "p", STATUS)
        async def list_policies():
            return await objs.list_namespaced_custom_object(G, V, NS, "maintenancepolicies")
        close = api.close
    await reconcile()
    await asyncio.sleep(2)
    rss = lambda: int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024
    idle_rss = rss()
    gate = asyncio.Semaphore(concurrency)
    async def one():
        async with gate: await reconcile()
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one() for _ in range(reconciles)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    fleet = {p["metadata"]["name"]: p for p in (await list_policies())["items"]}
    assert len(fleet) == int(sys.argv[5]), len(fleet)
    await asyncio.sleep(2)
    fleet_rss = rss()
    if close: await close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"idle_rss_mb": round(idle_rss, 1), "rss_at_%s_policies_mb" % sys.argv[5]: round(fleet_rss, 1),
                      "peak_rss_mb": round(peak, 1),
                      "cpu_ms_per_reconcile": round(cpu / reconciles * 1000, 3),
                      "wall_ms_per_reconcile": round(wall / reconciles * 1000, 3)}))
asyncio.run(main())
"""  # noqa: E501


def measure(kind: str, url: str, *, runs: int = 3) -> dict[str, Any]:
    """The median of ``runs`` fresh processes for each number."""
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", CLIENT, kind, url, str(RECONCILES), str(CONCURRENCY), str(POLICIES)],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        ).stdout
        samples.append(json.loads(out))
    return {key: sorted(s[key] for s in samples)[len(samples) // 2] for key in samples[0]}


#: What in the adapters names the ``kubernetes`` client, by kind of line.
SURFACE = {
    "imports": re.compile(r"^\s*(from|import) kubernetes\b"),
    "api_calls": re.compile(
        r"\.(read|patch|create|list|delete|replace)_\w*(namespaced|cluster|custom_object|webhook|review)\w*\b"
    ),
    "thread_hops": re.compile(r"asyncio\.to_thread\("),
    "raw_reads": re.compile(r"_preload_content|response\.data"),
    "config_and_client": re.compile(
        r"\b(config\.load_|new_client_from_config|client\.(Configuration|ApiClient)\b)"
    ),
    "api_objects": re.compile(r"client\.[A-Z][A-Za-z0-9]+Api\("),
    "exceptions": re.compile(r"\bApiException\b"),
}


def client_surface() -> dict[str, Any]:
    """Lines that name the kubernetes client in the modules that import it, by kind and by module."""
    counts = dict.fromkeys(SURFACE, 0)
    modules: dict[str, int] = {}
    for path in sorted((REPO / "operator" / "maintenance_operator").rglob("*.py")):
        lines = path.read_text().splitlines()
        if not any(SURFACE["imports"].search(line) for line in lines):
            continue
        hit = 0
        for line in lines:
            kinds = [k for k, pattern in SURFACE.items() if pattern.search(line)]
            for k in kinds:
                counts[k] += 1
            hit += bool(kinds)
        if hit:
            modules[str(path.relative_to(REPO / "operator"))] = hit
    return {"lines_naming_the_client": sum(modules.values()), "by_kind": counts, "by_module": modules}


def sample_spec() -> dict[str, Any]:
    doc = yaml.safe_load((REPO / "crds" / "samples" / "chatapp-policy.yaml").read_text())
    spec: dict[str, Any] = doc["spec"]
    return spec


def main() -> None:
    port = free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(sample_spec(), f)
    stub = subprocess.Popen([sys.executable, "-c", STUB, str(port), f.name, str(POLICIES)])
    try:
        time.sleep(1.0)
        url = f"http://127.0.0.1:{port}"
        load = round(os.getloadavg()[0], 2)
        kinds = ["threads", "aiohttp"]
        if importlib.util.find_spec("kubernetes_asyncio") is not None:
            kinds.append("kubernetes_asyncio")
        results = {kind: measure(kind, url) for kind in kinds}
    finally:
        stub.terminate()
        stub.wait(timeout=10)
        os.unlink(f.name)
    payload = {
        "reconcile": "GET policy + GET Deployment + PATCH policy status, against a loopback stub",
        "reconciles": RECONCILES,
        "concurrency": CONCURRENCY,
        "runs": "median of 3 fresh processes",
        "policies": POLICIES,
        "python": sys.version.split()[0],
        "load_average_1m_at_start": load,
        "clients": results,
        "code": client_surface(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n")
    for kind, numbers in results.items():
        print(kind, numbers)


if __name__ == "__main__":
    main()
