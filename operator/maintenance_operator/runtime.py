"""Process-wide collaborators shared by the handlers (kept in kopf's memo): the one place ports are built.

``Runtime`` satisfies ``reconcilers.ports.Ports``: it builds the target, its lock, the Prometheus querier and
the planner of a policy from the operator's settings and the Secrets the policy names. Secret values never
leave this module except inside the clients.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client

from maintenance_operator.adapters import crs, kube, llm, notifications
from maintenance_operator.adapters import prometheus as prom
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.config import OperatorConfig
from maintenance_operator.domain import budget, notification


@dataclass
class Runtime:
    """What every handler needs: settings, API clients, the approval signing key, and port factories."""

    config: OperatorConfig
    api_client: client.ApiClient
    resources: crs.CustomResources
    approval_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    #: The one webhook notifier (approvals, escalations, SLA notices, outcomes, health alerts, reports);
    #: built on first use from the Secret named by the settings, None when no webhook is configured.
    notifier: notifications.WebhookNotifier | None = None
    notifier_resolved: bool = False
    #: CA bundle file per distinct PEM: written once, reused by every querier (not one file per query).
    ca_files: dict[str, str] = field(default_factory=dict)
    #: Objects built once per process on first use (e.g. the report webhook notifier).
    caches: dict[str, Any] = field(default_factory=dict)

    def target(self, *, namespace: str, name: str) -> kube.TargetDeployment:
        return kube.TargetDeployment(self.api_client, namespace=namespace, name=name)

    def lock(self, *, namespace: str, deployment: str, holder: str) -> kube.TargetLease:
        return kube.TargetLease(
            self.api_client,
            namespace=namespace,
            deployment=deployment,
            holder=holder,
            duration_seconds=self.config.lease_seconds,
        )

    async def querier(self, *, namespace: str, spec: api.PrometheusSpec) -> prom.HttpPrometheus:
        """A Prometheus client with the policy's URL, timeout, bearer token and CA (from Secrets)."""
        token = None
        ca_path = None
        if spec.bearer_token_secret_ref is not None:
            ref = spec.bearer_token_secret_ref
            token = await self.resources.read_secret(namespace, ref.name, ref.key)
        if spec.ca_secret_ref is not None:
            ref = spec.ca_secret_ref
            pem = await self.resources.read_secret(namespace, ref.name, ref.key)
            if pem:
                ca_path = self._ca_file(pem)
        timeout = api.parse_duration(spec.timeout) if spec.timeout else self.config.prometheus_timeout_seconds
        return prom.HttpPrometheus(
            spec.url or self.config.prometheus_url,
            timeout=timeout,
            http=prom.session(bearer_token=token, ca_bundle=ca_path),
        )

    def _ca_file(self, pem: str) -> str:
        """A file holding ``pem`` (requests wants a path; /tmp is the Pod's writable emptyDir)."""
        digest = hashlib.sha256(pem.encode()).hexdigest()
        path = self.ca_files.get(digest)
        if path is None or not os.path.exists(path):
            with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as handle:
                handle.write(pem)
            path = self.ca_files[digest] = handle.name
        return path

    async def api_key(self, *, namespace: str, spec: api.LLMSpec) -> str | None:
        """The Anthropic key from the policy's Secret, else from the operator's environment; never logged."""
        if spec.mode is not api.LLMMode.AUTO:
            return None
        if spec.secret_ref is not None:
            return await self.resources.read_secret(namespace, spec.secret_ref.name, spec.secret_ref.key)
        return os.environ.get(self.config.anthropic_api_key_env) or None

    async def planner(
        self, *, namespace: str, policy: api.MaintenancePolicySpec, budget_state: budget.BudgetState
    ) -> llm.Planner:
        return llm.select_planner(
            policy.llm,
            api_key=await self.api_key(namespace=namespace, spec=policy.llm),
            budget_state=budget_state,
            default_daily_tokens=self.config.default_daily_token_budget,
            default_model=self.config.default_model,
        )

    async def webhook(self) -> notifications.WebhookNotifier | None:
        """The webhook notifier when a webhook Secret is configured; the Secret is read once per process and
        its URL stays inside the notifier (never logged)."""
        if not self.notifier_resolved:
            ref = self.config.notify_webhook_secret
            url = None
            if ref:
                namespace, name, key = ([*ref.split("/"), "", "", ""])[:3]
                url = await self.resources.read_secret(namespace, name, key or "url")
            if url and self.notifier is None:
                self.notifier = notifications.WebhookNotifier(
                    url=url,
                    fmt=notification.PayloadFormat(self.config.notify_format),
                    rule=notification.parse_filter(
                        types=self.config.notify_events.split(","),
                        min_severity=self.config.notify_min_severity,
                    ),
                )
            self.notifier_resolved = True
        return self.notifier

    async def notify(self, event: notification.Event) -> None:
        notifier = await self.webhook()
        if notifier is not None:
            notifier.notify(event)


def from_memo(memo: Any) -> Runtime:
    runtime = getattr(memo, "runtime", None)
    if not isinstance(runtime, Runtime):
        raise RuntimeError("operator runtime not initialised: the startup handler did not run")
    return runtime
