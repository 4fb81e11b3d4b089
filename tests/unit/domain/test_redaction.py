"""Redaction: table tests per rule, and property tests that generate secrets in many formats and places."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maintenance_operator.domain import redaction

R = redaction.REDACTED


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DB_PASSWORD=hunter2 next", f"DB_PASSWORD={R} next"),
        ("PGPASSWORD=abc123", f"PGPASSWORD={R}"),
        ("SLACK_TOKEN=xyz", f"SLACK_TOKEN={R}"),
        ("aws_secret_access_key = wJalrXUtnFEMI", f"aws_secret_access_key = {R}"),
        ('export STRIPE_KEY="abc"', f'export STRIPE_KEY="{R}"'),
        ('{"client_secret": "shh", "x": 1}', f'{{"client_secret": "{R}", "x": 1}}'),
        ("redis.pass=foo", f"redis.pass={R}"),
        ("apiKey: zzz", f"apiKey: {R}"),
        ("AccountKey=abc==;EndpointSuffix=core", f"AccountKey={R};EndpointSuffix=core"),
        ("MY_CREDENTIALS: a,b", f"MY_CREDENTIALS: {R},b"),
        ("the password is hunter2", f"the password is {R}"),
        ("our api key was AbC123", f"our api key was {R}"),
        ("Secret is set to 'x9'", f"Secret is set to '{R}'"),
        ("postgres://app:s3cret@db:5432/chat", f"postgres://{R}@db:5432/chat"),
        ("mongodb+srv://u:p@cluster0.example.net", f"mongodb+srv://{R}@cluster0.example.net"),
        ("Authorization: Bearer abc.def", f"Authorization: {R}"),
        ("curl -H 'Basic dXNlcjpwYXNz'", f"curl -H 'Basic {R}'"),
        ("mail oncall@example.com", f"mail {R}"),
        ("pass\u200bword=abc", f"password={R}"),
        ("\uff30\uff21\uff33\uff33\uff37\uff2f\uff32\uff24=abc", f"PASSWORD={R}"),
    ],
)
def test_named_and_prose_secrets(text: str, expected: str) -> None:
    assert redaction.redact(text) == expected


PROVIDER_TOKENS = [
    "sk-ant-api03-" + "a1B2" * 20,
    "sk-proj-" + "a1B2c3D4" * 4,
    "AKIAIOSFODNN7EXAMPLE",
    "ASIAY34FZKBOKMUTVV7A",
    "ghp_" + "a1B2" * 9,
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
    "glpat-" + "x1Y2z3" * 4,
    "xoxb-1234567890-abcdefghij",
    "xapp-1-A0123456789-abcdef",
    "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXX",
    "AIza" + "Sy" + "A1b2C3d4" * 4 + "z",
    "ya29.a0AfH6SMBx" + "y" * 20,
    "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "rk_test_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "whsec_" + "a" * 32,
    "SG." + "a" * 22 + "." + "b" * 43,
    "npm_" + "a1" * 18,
    "pypi-AgEIcHlwaS5vcmc" + "A" * 50,
    "hf_" + "abcdefghij" * 3 + "abcd",
    "dop_v1_" + "ab12" * 16,
    "shpat_" + "ab12" * 8,
    "SK" + "0123456789abcdef" * 2,
    "123456789:AA" + "b" * 33,
    "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYWRtaW4ifQ.c2lnbmF0dXJl",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----",
    "0123456789abcdef0123456789abcdef",
]


@pytest.mark.parametrize("token", PROVIDER_TOKENS)
def test_provider_token_formats(token: str) -> None:
    out = redaction.redact(f"leaked {token} in a log line")
    assert token not in out
    assert R in out
    assert out.startswith("leaked ")


@pytest.mark.parametrize(
    "text",
    [
        'sum(rate(http_requests_total{job="chat",code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
        "histogram_quantile(0.99, sum by (le) (rate(chat_latency_seconds_bucket[5m]))) > 0.5",
        "ghcr.io/acme/chat:1.2.3@sha256:" + "ab" * 32,
        "registry.example.com:5000/team/chat-api:v2.14.0-rc.1",
        "Scale from 3 to 5 replicas (policy bounds 1-10, max step 4)",
        "monkey=3 passed: 4 bypass=off",
        "queue depth 1200 > critical 1000 across 3 series",
        "revision 7 is 14 min old; rollback to 6",
    ],
)
def test_operational_text_is_unchanged(text: str) -> None:
    assert redaction.redact(text) == text


def test_idempotent_and_optional() -> None:
    once = redaction.redact("DB_PASSWORD=x postgres://a:b@h the token is abc")
    assert redaction.redact(once) == once
    assert redaction.redact_optional(None) is None


def test_linear_on_adversarial_runs() -> None:
    # bounded work on long keyword runs without an assignment (a log line an attacker controls)
    out = redaction.redact("token" * 20_000 + " " + "key_" * 20_000)
    assert out.startswith("token")


# ---------------------------------------------------------------- properties

_SECRET_CHARS = string.ascii_letters + string.digits
_secret_values = st.text(alphabet=_SECRET_CHARS, min_size=8, max_size=40).filter(
    lambda s: any(c.isdigit() for c in s) and any(c.isalpha() for c in s)
)
_prefixes = st.sampled_from(["", "DB_", "PG", "APP_", "slack_", "my.", "X-", "MYSQL_ROOT_", "redis-", "aws_"])
_keywords = st.sampled_from(
    ["PASSWORD", "password", "passwd", "pwd", "SECRET", "secret", "TOKEN", "Token", "API_KEY", "apikey",
     "ACCESS_KEY", "credential", "CREDENTIALS", "auth", "PRIVATE_KEY", "KEY"]
)  # fmt: skip
_suffixes = st.sampled_from(["", "_FILE_CONTENT", "_V2", "s", "_prod", "-old", ".value", "_B64"])
_assignments = st.sampled_from(
    ["{n}={v}", "{n}: {v}", '"{n}": "{v}"', "{n} = '{v}'", "--{n}={v}", "?{n}={v}&x=1"]
)
_prose = st.sampled_from(
    ["the password is {v}", "Password was {v}.", "our secret is now {v}", "the api key is {v}",
     "token: {v}", "credentials: {v}"]
)  # fmt: skip
_filler = st.sampled_from(
    ["", "queue depth 1200 > 1000", "rate(errors_total[5m])", "image ghcr.io/acme/chat:1.2.3", "replicas 3",
     "see runbook", "\n", "; ", "level=info"]
)  # fmt: skip


@st.composite
def _placed_secret(draw: st.DrawFn) -> tuple[str, str]:
    value = draw(_secret_values)
    how = draw(st.sampled_from(["env", "prose", "url", "token"]))
    if how == "env":
        name = draw(_prefixes) + draw(_keywords) + draw(_suffixes)
        snippet = draw(_assignments).format(n=name, v=value)
    elif how == "prose":
        snippet = draw(_prose).format(v=value)
    elif how == "url":
        scheme = draw(st.sampled_from(["postgres", "mysql", "redis", "amqp", "mongodb+srv", "https"]))
        user = draw(st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8))
        snippet = f"{scheme}://{user}:{value}@db.internal:5432/chat"
    else:
        value = draw(st.sampled_from(PROVIDER_TOKENS))
        snippet = value
    return value, f"{draw(_filler)} {snippet} {draw(_filler)}"


@settings(max_examples=400, deadline=None)
@given(_placed_secret())
def test_no_secret_survives(placed: tuple[str, str]) -> None:
    value, text = placed
    out = redaction.redact(text)
    assert value not in out
    assert redaction.redact(out) == out


_metric = st.from_regex(r"[a-z][a-z_]{2,20}", fullmatch=True).filter(
    lambda m: (
        not any(k in m for k in ("pass", "secret", "token", "key", "cred", "auth", "pwd", "dsn", "cookie"))
    )
)
_label = st.sampled_from(["job", "namespace", "pod", "code", "le", "deployment", "container"])
_plain_value = st.from_regex(r"[a-z0-9][a-z0-9.\-]{0,20}", fullmatch=True)


@st.composite
def _operational(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["promql", "image", "number", "sentence"]))
    if kind == "promql":
        fn = draw(st.sampled_from(["rate", "increase", "avg_over_time", "max_over_time"]))
        selector = f'{draw(_metric)}{{{draw(_label)}="{draw(_plain_value)}"}}'
        minutes = draw(st.integers(1, 60))
        return f"sum({fn}({selector}[{minutes}m])) > {draw(st.floats(0, 1e6, allow_nan=False)):g}"
    if kind == "image":
        repo = draw(st.sampled_from(["ghcr.io/acme", "docker.io/library", "registry.local:5000/team"]))
        tag = f"{draw(st.integers(0, 30))}.{draw(st.integers(0, 99))}.{draw(st.integers(0, 999))}"
        return f"{repo}/{draw(_metric)}:{tag}"
    if kind == "number":
        return f"{draw(st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False))!r}"
    return f"{draw(_metric)} {draw(st.integers(0, 10_000))} > critical {draw(st.integers(0, 10_000))}"


@settings(max_examples=400, deadline=None)
@given(_operational())
def test_operational_text_survives(text: str) -> None:
    assert redaction.redact(text) == text
