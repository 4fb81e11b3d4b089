"""Alertmanager webhook receiver on the admission webhook server: a firing alert that matches a policy
starts a HealthAssessment now instead of at the next scheduled health check."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp.web
import kopf

from maintenance_operator import metrics
from maintenance_operator.adapters import crs
from maintenance_operator.api import stored
from maintenance_operator.api import v1alpha1 as api
from maintenance_operator.domain import alerts
from maintenance_operator.handlers import common, policy
from maintenance_operator.runtime import from_memo

log = logging.getLogger(__name__)
ROUTE = "alertmanager"  # POST https://<webhook service>:9443/alertmanager
TOKEN_ENV = "MAINTENANCE_OPERATOR_ALERTS_TOKEN"
ALERTS_ANNOTATION = f"{api.GROUP}/alerts"
MAX_BODY_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Reply:
    """HTTP status and JSON body for Alertmanager (which only looks at the status)."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)


def _policy_ref(item: Mapping[str, Any]) -> alerts.PolicyRef | None:
    spec, _error = common.parse(api.MaintenancePolicySpec, item.get("spec"))
    if spec is None:
        return None  # an invalid policy is reported in its own status, never assessed
    meta = item["metadata"]
    return alerts.PolicyRef(
        namespace=meta["namespace"], name=meta["name"], target=spec.target_ref.name, suspended=spec.suspend
    )


async def _trigger(
    resources: crs.CustomResources, *, item: Mapping[str, Any], match: alerts.Match, now: datetime
) -> dict[str, str]:
    ref = match.policy
    result = {"namespace": ref.namespace, "policy": ref.name}
    existing = await resources.list("HealthAssessment", ref.namespace, labels={crs.POLICY_LABEL: ref.name})
    phases = [stored.read(api.HealthAssessmentStatus, a).status.phase for a in existing]
    if alerts.in_flight(phases):
        return {**result, "outcome": "InFlight"}
    name = alerts.assessment_name(ref.name, now=now)
    created = await policy.create_assessment(
        resources,
        policy=item,
        target=ref.target,
        name=name,
        analysis=api.AnalysisKind.HEALTH_CHECK,
        trigger=api.Trigger.ON_DEMAND,
        annotations={ALERTS_ANNOTATION: ",".join(match.alertnames)[:1024]},
    )
    if created:
        log.info("alert %s started assessment %s/%s", ",".join(match.alertnames), ref.namespace, name)
    return {**result, "assessment": name, "outcome": "Created" if created else "Duplicate"}


async def receive(
    *,
    body: bytes,
    authorization: str | None,
    token: str,
    resources: crs.CustomResources | None,
    now: datetime,
) -> Reply:
    """Authenticate, parse and act on one notification: at most one new assessment per matched policy.

    401 without the bearer token, 400 for a body that is not an Alertmanager v4 notification, 503 while
    the operator is starting (`resources` None; Alertmanager retries). The token is never logged nor echoed.
    """
    if not alerts.authorized(authorization, token=token):
        metrics.ALERTS_RECEIVED.labels(outcome="Unauthorized").inc()
        return Reply(401, {"error": "a bearer token is required"})
    try:
        notification = alerts.parse(json.loads(body))
    except (ValueError, alerts.InvalidNotification) as exc:
        metrics.ALERTS_RECEIVED.labels(outcome="Invalid").inc()
        reason = str(exc) if isinstance(exc, alerts.InvalidNotification) else "the body is not JSON"
        return Reply(400, {"error": reason})
    if resources is None:
        metrics.ALERTS_RECEIVED.labels(outcome="NotReady").inc()
        return Reply(503, {"error": "the operator is starting"})
    items: dict[alerts.PolicyRef, Mapping[str, Any]] = {}
    for namespace in alerts.namespaces(notification):
        for item in await resources.list("MaintenancePolicy", namespace):
            ref = _policy_ref(item)
            if ref is not None:
                items[ref] = item
    results = [
        await _trigger(resources, item=items[m.policy], match=m, now=now)
        for m in alerts.match(notification, list(items))
    ]
    for result in results:
        metrics.ALERTS_RECEIVED.labels(outcome=result["outcome"]).inc()
    if not results:
        metrics.ALERTS_RECEIVED.labels(outcome="Unmatched").inc()
    return Reply(200, {"matched": results})


class AlertReceivingServer(kopf.WebhookServer):
    """kopf's admission webhook server that also answers Alertmanager at POST /alertmanager."""

    def __init__(self, *, memo: kopf.Memo, token: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._memo = memo
        self._token = token

    def __repr__(self) -> str:
        return f"AlertReceivingServer(port={self.port!r})"  # never the token

    async def _serve(  # type: ignore[override]  # kopf's is a staticmethod; this one needs the memo
        self, fn: Any, request: aiohttp.web.Request
    ) -> aiohttp.web.Response:
        if request.match_info.get("id") != ROUTE:
            return await kopf.WebhookServer._serve(fn, request)
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return aiohttp.web.json_response({"error": "body too large"}, status=413)
        runtime = getattr(self._memo, "runtime", None)
        try:
            reply = await receive(
                body=await request.read(),
                authorization=request.headers.get("Authorization"),
                token=self._token,
                resources=from_memo(self._memo).resources if runtime is not None else None,
                now=common.now(),
            )
        except Exception as exc:  # the API server failed us: Alertmanager retries a 5xx
            log.warning("alert notification not handled: %s", type(exc).__name__)
            metrics.ALERTS_RECEIVED.labels(outcome="Error").inc()
            return aiohttp.web.json_response({"error": "the notification could not be handled"}, status=503)
        return aiohttp.web.json_response(reply.body, status=reply.status)


def token_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The receiver's bearer token (empty: every notification is refused with 401)."""
    env = os.environ if environ is None else environ
    return env.get(TOKEN_ENV, "").strip()
