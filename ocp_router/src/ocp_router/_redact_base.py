"""What every detector of `redact` shares: the kinds of secret, most specific first, and a
detection's shape (start, end, the kind's priority).
"""

from __future__ import annotations

import re

__all__ = [
    "Hit",
    "KINDS",
    "MARKERS",
    "MARKER_OPEN",
    "PRIORITY",
    "cut_at_escape",
    "line_before",
]

# Most specific first: when detections overlap, the merged redaction takes the earliest kind.
KINDS: tuple[str, ...] = (
    "gcp_service_account",
    "private_key",
    "aws_access_key",
    "aws_secret_key",
    "github_token",
    "gitlab_token",
    "anthropic_key",
    "openrouter_key",
    "openai_key",
    "groq_key",
    "xai_key",
    "perplexity_key",
    "replicate_token",
    "slack_token",
    "slack_webhook",
    "stripe_key",
    "google_api_key",
    "google_oauth",
    "sendgrid_key",
    "huggingface_token",
    "npm_token",
    "pypi_token",
    "azure_key",
    "discord_token",
    "telegram_token",
    "vault_token",
    "databricks_token",
    "mailchimp_key",
    "shopify_token",
    "digitalocean_token",
    "newrelic_key",
    "service_token",
    "jwt",
    "basic_auth",
    "bearer_token",
    "connection_string_password",
    "password_assignment",
    "generic_secret_assignment",
    "high_entropy_string",
)
PRIORITY = {kind: i for i, kind in enumerate(KINDS)}
MARKER_OPEN = "[REDACTED:"  # how every marker begins: text holding none is not redacted yet
MARKERS = tuple(f"{MARKER_OPEN}{kind}]" for kind in KINDS)


#: A detection: (start, end, priority) in the scanned text; the lower the priority, the more
#: specific the kind (its index in KINDS).
Hit = tuple[int, int, int]


def line_before(text: str, pos: int, limit: int = 256) -> str:
    """The text before `pos` on its line, at most `limit` characters of it."""
    lo = max(0, pos - limit)
    newline = text.rfind("\n", lo, pos)
    return text[newline + 1 if newline >= 0 else lo : pos]


# An escaped line break or tab (`\n`, `\r`, `\t`); a backslash before it escapes the backslash.
_ESCAPE_RE = re.compile(r"(?<!\\)(?:\\\\)*\\[nrt]")
# What follows an escape that ends a line of config written as text: the literal's end, a
# list's comma, another escape, a [section], or the next line's name and its `=` or `:`.
_AFTER_ESCAPE_RE = re.compile(r"""$|["'`,;)\]}\\\[]|[A-Za-z_][\w.-]*[ \t]*[=:]""")


def cut_at_escape(text: str, s: int, v: str, in_literal: bool) -> str:
    """The value `v` (at `s` in `text`) up to an escaped line break ending its line: config
    written inside a string literal (`"password=X\\n",`, `"[db]\\npassword = X\\nhost = db"`).
    Inside a literal (`in_literal`) any such escape ends it; elsewhere only one that the end of
    the text, a quote, a comma or another line's name follows: a bare .env value keeps a
    backslash and a letter inside it (a password may hold them)."""
    if "\\" not in v:
        return v
    for m in _ESCAPE_RE.finditer(v):
        if in_literal or _AFTER_ESCAPE_RE.match(text, s + m.end()):
            return v[: m.end() - 2]
    return v
