"""Operator settings: the peering identity never depends on /etc/passwd."""

from __future__ import annotations

import kopf
import pydantic
import pytest

from maintenance_operator.config import OperatorConfig, apply_kopf_settings, operator_identity


def test_pod_name_is_the_identity_in_a_pod() -> None:
    assert operator_identity({"POD_NAME": "mo-7d9f"}, uid=65532, hostname="h", pid=1) == "mo-7d9f"


def test_kopf_pod_id_wins() -> None:
    env = {"POD_ID": "explicit", "POD_NAME": "mo-7d9f"}
    assert operator_identity(env, uid=65532, hostname="h", pid=1) == "explicit"


def test_a_uid_without_passwd_entry_still_has_an_identity() -> None:
    assert operator_identity({}, uid=1000650000, hostname="node-a", pid=7) == "uid-1000650000@node-a/7"


def test_user_from_the_environment_out_of_cluster() -> None:
    assert (
        operator_identity({"USER": "sre", "POD_NAME": ""}, uid=0, hostname="laptop", pid=42)
        == "sre@laptop/42"
    )


def test_chart_settings_are_read() -> None:
    config = OperatorConfig.from_env(
        {
            "MAINTENANCE_OPERATOR_DEFAULT_DAILY_TOKEN_BUDGET": "5000",
            "MAINTENANCE_OPERATOR_WEBHOOK_CERT_FILE": "/certs/tls.crt",
            "MAINTENANCE_OPERATOR_NAMESPACES": "a, b",
        }
    )
    assert config.default_daily_token_budget == 5000
    assert config.webhook_cert_file == "/certs/tls.crt"
    assert config.namespaces == ["a", "b"]


def test_notification_settings_from_env() -> None:
    cfg = OperatorConfig.from_env(
        {
            "MAINTENANCE_OPERATOR_NOTIFY_FORMAT": "generic",
            "MAINTENANCE_OPERATOR_NOTIFY_EVENTS": "SLABreached, Report",
            "MAINTENANCE_OPERATOR_NOTIFY_MIN_SEVERITY": "high",
        }
    )
    assert (cfg.notify_format, cfg.notify_min_severity) == ("generic", "high")
    assert OperatorConfig.from_env({}).notify_events == ""


def test_unknown_notification_event_is_a_clear_startup_error() -> None:
    with pytest.raises(pydantic.ValidationError, match="unknown notification event 'SLABreach'"):
        OperatorConfig.from_env({"MAINTENANCE_OPERATOR_NOTIFY_EVENTS": "SLABreach"})


def test_the_process_environment_is_read_with_the_same_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAINTENANCE_OPERATOR_NAMESPACES", "shop, chat")
    monkeypatch.setenv("MAINTENANCE_OPERATOR_PROMETHEUS_MAX_CONCURRENT_QUERIES", "3")
    monkeypatch.setenv("MAINTENANCE_OPERATOR_APPROVAL_KEY", "not a setting of this model")
    config = OperatorConfig.from_env()
    assert config.namespaces == ["shop", "chat"]
    assert config.prometheus_max_concurrent_queries == 3
    # an explicit mapping is read alone: the process's variables do not leak in
    assert OperatorConfig.from_env({}).namespaces == []


def test_a_bad_value_is_a_clear_startup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAINTENANCE_OPERATOR_PROMETHEUS_MAX_CONCURRENT_QUERIES", "0")
    with pytest.raises(pydantic.ValidationError, match="prometheus_max_concurrent_queries"):
        OperatorConfig.from_env()


def test_kopf_handles_a_bounded_number_of_objects_at_once() -> None:
    import kopf

    from maintenance_operator.config import apply_kopf_settings

    settings = kopf.OperatorSettings()
    assert settings.queueing.worker_limit is None  # kopf's default: one worker per object, unbounded
    apply_kopf_settings(
        settings, OperatorConfig.from_env({"MAINTENANCE_OPERATOR_MAX_CONCURRENT_ASSESSMENTS": "8"})
    )
    assert settings.queueing.worker_limit == 32


def test_sharding_settings_and_no_peering_when_sharded() -> None:
    config = OperatorConfig.from_env(
        {
            "MAINTENANCE_OPERATOR_SHARDING_ENABLED": "true",
            "MAINTENANCE_OPERATOR_SHARDING_SHARDS": "6",
            "MAINTENANCE_OPERATOR_SHARDING_LEASE_DURATION_SECONDS": "20",
            "MAINTENANCE_OPERATOR_SHARDING_LEASE_PREFIX": "mo-shard",
            "MAINTENANCE_OPERATOR_PEERING": "maintenance-operator",
        }
    )
    assert (config.sharding_enabled, config.sharding_shards) == (True, 6)
    assert (config.sharding_lease_duration_seconds, config.sharding_lease_prefix) == (20, "mo-shard")
    settings = kopf.OperatorSettings()
    apply_kopf_settings(settings, config)
    assert settings.peering.standalone is True
    assert OperatorConfig.from_env({}).sharding_enabled is False
    with pytest.raises(pydantic.ValidationError):
        OperatorConfig.from_env({"MAINTENANCE_OPERATOR_SHARDING_SHARDS": "0"})


def test_events_name_the_operator_pod_that_posted_them() -> None:
    settings = kopf.OperatorSettings()
    apply_kopf_settings(settings, OperatorConfig.from_env({}))
    assert settings.posting.reporting_instance == "dev"  # kopf's default: no identity given
    apply_kopf_settings(settings, OperatorConfig.from_env({}), identity="mo-7d9f-x2")
    assert settings.posting.reporting_instance == "mo-7d9f-x2"
