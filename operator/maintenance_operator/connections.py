"""Clients a policy needs, built from its spec and the Secrets it names: the Prometheus querier.

Shared by the assessment handler and the remediation executor; Secret values never leave this module
except inside the client.
"""

from __future__ import annotations

import tempfile

from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.runtime import Runtime


async def querier_for(runtime: Runtime, *, namespace: str, spec: api.PrometheusSpec) -> prom.HttpPrometheus:
    """A Prometheus client with the policy's URL, timeout, bearer token and CA (from Secrets)."""
    token = None
    ca_path = None
    if spec.bearer_token_secret_ref is not None:
        ref = spec.bearer_token_secret_ref
        token = await runtime.resources.read_secret(namespace, ref.name, ref.key)
    if spec.ca_secret_ref is not None:
        ref = spec.ca_secret_ref
        pem = await runtime.resources.read_secret(namespace, ref.name, ref.key)
        if pem:
            # requests wants a path; /tmp is the writable emptyDir of the operator Pod
            with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as handle:
                handle.write(pem)
                ca_path = handle.name
    return prom.HttpPrometheus(
        spec.url or runtime.config.prometheus_url,
        timeout=api.parse_duration(spec.timeout)
        if spec.timeout
        else runtime.config.prometheus_timeout_seconds,
        http=prom.session(bearer_token=token, ca_bundle=ca_path),
    )
