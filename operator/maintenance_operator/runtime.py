"""Process-wide collaborators shared by the handlers (kept in kopf's memo): the one place ports are built.

``Runtime`` satisfies ``reconcilers.ports.Ports``: it builds the target, its lock, the Prometheus querier and
the planner of a policy from the operator's settings and the Secrets the policy names. Secret values never
leave this module except inside the clients.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client

from maintenance_operator.adapters import (
    admission,
    crs,
    kube,
    llm,
    monitoring,
    notifications,
    prometheus_pool,
    workload,
)
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
    #: Every Prometheus query goes through this one bounded pool (built from the settings).
    queries: prometheus_pool.QueryPool = field(init=False)

    def __post_init__(self) -> None:
        self.queries = prometheus_pool.QueryPool(
            max_concurrent=self.config.prometheus_max_concurrent_queries,
            qps=self.config.prometheus_queries_per_second,
        )

    @classmethod
    def connect(cls, config: OperatorConfig) -> Runtime:
        """A runtime on a new API client (in-cluster or the kubeconfig)."""
        api_client = crs.new_api_client(pool_size=config.api_max_in_flight)
        return cls(config=config, api_client=api_client, resources=crs.CustomResources(api_client))

    def disconnect(self) -> None:
        """Close the API client (after aclose, at operator cleanup)."""
        self.api_client.close()  # type: ignore[no-untyped-call]

    def workload(self, *, namespace: str, name: str) -> workload.WorkloadReader:
        """What the configuration and security audits read about one Deployment."""
        return workload.WorkloadReader(self.api_client, namespace=namespace, name=name)

    async def apply_alert_rule(
        self,
        *,
        namespace: str,
        name: str,
        labels: dict[str, str],
        owner: dict[str, Any],
        spec: dict[str, Any],
    ) -> None:
        """Create or update a PrometheusRule (monitoring.RulesUnavailable when the cluster has none)."""
        await monitoring.apply_rule(
            self.api_client, namespace=namespace, name=name, labels=labels, owner=owner, spec=spec
        )

    async def remove_webhook_configurations(self, name: str) -> None:
        """Delete the admission webhook configurations kopf registered under ``name``."""
        await admission.remove_configurations(self.api_client, name)

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

    async def querier(self, *, namespace: str, spec: api.PrometheusSpec) -> prometheus_pool.AsyncPrometheus:
        """A Prometheus client with the policy's URL, timeout, bearer token and CA (from Secrets), on the
        shared pool of that endpoint; the CA stays in memory."""
        token = None
        pem = None
        if spec.bearer_token_secret_ref is not None:
            ref = spec.bearer_token_secret_ref
            token = await self.resources.read_secret(namespace, ref.name, ref.key)
        if spec.ca_secret_ref is not None:
            ref = spec.ca_secret_ref
            pem = await self.resources.read_secret(namespace, ref.name, ref.key)
        timeout = api.parse_duration(spec.timeout) if spec.timeout else self.config.prometheus_timeout_seconds
        return self.queries.querier(
            spec.url or self.config.prometheus_url, timeout=timeout, bearer_token=token, ca_pem=pem or None
        )

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

    async def aclose(self) -> None:
        """At operator cleanup: give pending notices a few seconds, then close the Prometheus pool."""
        if self.notifier is not None:
            await self.notifier.close()
        await self.queries.aclose()


def from_memo(memo: Any) -> Runtime:
    runtime = getattr(memo, "runtime", None)
    if not isinstance(runtime, Runtime):
        raise RuntimeError("operator runtime not initialised: the startup handler did not run")
    return runtime
