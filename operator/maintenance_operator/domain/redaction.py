"""One redaction for all text that leaves the operator: prompts, logs, status, Events, notifications.

Rules (each replaces the secret and keeps the name in front of it, so the text still reads):

- ``NAME=value``, ``NAME: value``, ``"NAME": "value"`` where NAME contains password, passwd, pwd, secret,
  token, credential(s), api key, access key, private key, auth or session id with any prefix or suffix
  (``DB_PASSWORD``, ``PGPASSWORD``, ``SLACK_TOKEN``, ``aws_secret_access_key``, ``AccountKey``), or is a bare
  ``key``/``pass``/``pw`` segment (``STRIPE_KEY``, ``redis.pass``) or upper case anywhere in it (``PGKEY``);
- credentials in connection strings and URLs (``postgres://user:pw@host``, ``mongodb+srv://u:p@h``);
- ``Bearer``/``Basic`` authorisation values;
- prose: "the password is hunter2", "token was abc", "secret: x";
- provider token formats: Anthropic, OpenAI, AWS access key ids, GitHub, GitLab, Slack tokens and webhooks,
  Google API keys and OAuth tokens, Stripe, SendGrid, npm, PyPI, Hugging Face, DigitalOcean, Shopify,
  Telegram bots, Twilio, JWTs, PEM private keys;
- e-mail addresses, long hex strings (not ``sha256:`` digests) and long mixed-case base64 runs.

Text that is plain ASCII and holds none of these (image names, PromQL, numbers, Kubernetes names) comes
back unchanged. Other text is first NFKC-normalised and stripped of invisible format characters, so a
zero-width space or full-width letters cannot hide a keyword. ``redact`` is idempotent.
"""

from __future__ import annotations

import re
import unicodedata

from maintenance_operator.api.v1alpha1 import Plan

REDACTED = "[REDACTED]"

_LONG_KEYWORDS = (
    r"passw(?:or)?d|passphrase|pwd|secret|token|credentials?|creds|api[_\-.]?key|apikey|access[_\-.]?key|"
    r"private[_\-.]?key|signing[_\-.]?key|encryption[_\-.]?key|master[_\-.]?key|account[_\-.]?key|"
    r"session[_\-.]?id|auth(?:orization)?|cookie|dsn"
)
_NAME_CHARS = r"[A-Za-z0-9_.\-]"
# the value: a quoted string, or a run up to white space, a quote or a separator
_VALUE = r"(?:\"[^\"\n]*\"|'[^'\n]*'|(?:(?:bearer|basic|token)\s+)?[^\s\"',;&]+)"
_ASSIGN = r"[\"']?\s*[:=]\s*"

_NOT_DONE = r"(?![\"']?\[REDACTED\])"

_NAMED: tuple[re.Pattern[str], ...] = (
    # any name containing a long keyword: DB_PASSWORD=, PGPASSWORD=, slackToken:, "client_secret": "x"
    re.compile(
        rf"(?i)((?<![A-Za-z0-9_.\-])(?={_NAME_CHARS}*?(?:{_LONG_KEYWORDS})){_NAME_CHARS}*+{_ASSIGN}){_NOT_DONE}"
        rf"({_VALUE})"
    ),
    # short keywords only as a whole segment: STRIPE_KEY=, redis.pass=, key: (not monkey=, passed=)
    re.compile(
        rf"(?i)((?<![A-Za-z0-9_.\-])(?=[_.\-]*(?:[A-Za-z0-9]+[_.\-]+)*(?:key|pass|pw|pin)s?(?![A-Za-z0-9]))"
        rf"{_NAME_CHARS}*+{_ASSIGN}){_NOT_DONE}({_VALUE})"
    ),
    # names with an upper-case short keyword anywhere: PGKEY=, SSHPASS=, MYSQL_PWD=, PGKEY_FILE=
    re.compile(
        rf"((?<![A-Za-z0-9_.\-])(?=[A-Za-z0-9_.\-]*?(?:KEY|PASS|PWD)){_NAME_CHARS}*+{_ASSIGN}){_NOT_DONE}({_VALUE})"
    ),
    # camelCase ...Key= (AccountKey=, SharedAccessKey=, apiKey=)
    re.compile(rf"((?<![A-Za-z0-9_.\-])[A-Za-z0-9]*[a-z0-9]Key{_ASSIGN}){_NOT_DONE}({_VALUE})"),
)

_PREFIXED: tuple[re.Pattern[str], ...] = (
    # credentials in a URL or connection string: scheme://user:password@host keeps scheme:// and @host
    re.compile(r"(?i)((?<![a-z0-9+.\-])[a-z][a-z0-9+.\-]*+://)(?!\[REDACTED\]@)[^\s/@:]*:[^\s/@]*(?=@)"),
    re.compile(r"(?i)(\bbearer\s+)(?!\[REDACTED\])[A-Za-z0-9._~+/\-]+=*"),
    re.compile(r"(?i)(\bbasic\s+)(?!\[REDACTED\])[A-Za-z0-9+/]{8,}=*"),
    # prose: "the password is hunter2", "api key was abc", "token: abc"
    re.compile(
        r"(?i)(\b(?:password|passphrase|passwd|secret|token|api[ _\-]?key|access[ _\-]?key|credentials?|pin)"
        r"\s+(?:is|was|=|:|of|equals|reads)\s+(?:set\s+to\s+|now\s+)?+[\"'`]?)(?!\[REDACTED\])[^\s\"'`,;]+"
    ),
)

_TOKENS: tuple[re.Pattern[str], ...] = (
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"),
    re.compile(r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_\-]+"),
    re.compile(r"https://discord(?:app)?\.com/api/webhooks/[0-9]+/[A-Za-z0-9_\-]+"),
    re.compile(r"sk-ant-[A-Za-z0-9_\-]{4,}"),
    re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}"),
    re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|A3T[A-Z0-9])[0-9A-Z]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}\b"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}"),
    re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}"),
    re.compile(r"\bxox[abposre]-[A-Za-z0-9\-]{10,}"),
    re.compile(r"\bxapp-[0-9]-[A-Za-z0-9\-]{10,}"),
    re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"),
    re.compile(r"\bya29\.[0-9A-Za-z_\-]{20,}"),
    re.compile(r"\b[srp]k_(?:live|test)_[0-9A-Za-z]{16,}"),
    re.compile(r"\bwhsec_[0-9A-Za-z]{24,}"),
    re.compile(r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}"),
    re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"),
    re.compile(r"\bpypi-[A-Za-z0-9_\-]{50,}"),
    re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"),
    re.compile(r"\bdo[pro]_v1_[a-f0-9]{64}\b"),
    re.compile(r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b"),
    re.compile(r"\b(?:SK|AC)[0-9a-fA-F]{32}\b"),
    re.compile(r"\b[0-9]{8,10}:AA[A-Za-z0-9_\-]{33}\b"),
    re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}(?:\.[A-Za-z0-9_\-]+)?"),
    re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]++@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"),
    # long hex (API keys, hashes of secrets); image digests (sha256:...) are identifiers, not secrets
    re.compile(r"(?<!sha256:)(?<!sha512:)\b(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{32,}\b"),
    # base64-ish runs: at least one digit, one upper and one lower case letter (identifiers rarely have all)
    re.compile(
        r"(?<![A-Za-z0-9+/_\-])(?=[A-Za-z0-9+/_\-]*[0-9])(?=[A-Za-z0-9+/_\-]*[A-Z])(?=[A-Za-z0-9+/_\-]*[a-z])"
        r"[A-Za-z0-9+/_\-]{40,}={0,2}"
    ),
)


def normalise(text: str) -> str:
    """NFKC-normalised text without invisible format characters (zero-width, bidi, tags)."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def _keep_quotes(match: re.Match[str]) -> str:
    value = match.group(2)
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match.group(1)}{quote}{REDACTED}{quote}"


def redact(text: str) -> str:
    """``text`` with every secret the module docstring lists replaced by ``[REDACTED]``.

    Guarantees: idempotent; plain ASCII text without secrets is returned unchanged.
    """
    if not text.isascii():
        text = normalise(text)
    for pattern in _NAMED:
        text = pattern.sub(_keep_quotes, text)
    for pattern in _PREFIXED:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    for pattern in _TOKENS:
        text = pattern.sub(REDACTED, text)
    return text


def redact_optional(text: str | None) -> str | None:
    """``redact`` for optional fields."""
    return None if text is None else redact(text)


def redact_plan(plan: Plan) -> Plan:
    """``plan`` with its free text (rationale, expected effect, rollback plan, escalation reasons) redacted.

    ConfigPatch values are left as they are: they are what would be written, checked by validation and fit.
    Fields stay within their schema lengths (a short secret can be shorter than the marker).
    """
    actions = [
        a.model_copy(
            update={"escalate": a.escalate.model_copy(update={"reason": redact(a.escalate.reason)[:1024]})}
        )
        if a.escalate is not None
        else a
        for a in plan.actions
    ]
    return plan.model_copy(
        update={
            "rationale": redact(plan.rationale)[:2000],
            "expected_effect": redact(plan.expected_effect)[:1000],
            "rollback_plan": redact(plan.rollback_plan)[:1000],
            "actions": actions,
        }
    )
