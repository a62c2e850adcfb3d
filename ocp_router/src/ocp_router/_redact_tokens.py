"""Secrets `redact` recognises by their own shape wherever they stand: provider tokens by
prefix (`TOKEN_PATTERNS`; _redact_scan.py's gates let a text that holds none skip them),
Discord bot tokens, PEM and age private keys, and a GCP service account's private key.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ocp_router import _redact_scan as _scan
from ocp_router._redact_base import PRIORITY, Hit
from ocp_router._redact_values import char_classes, is_filler, wordy

__all__ = [
    "TOKEN_PATTERNS",
    "discord_hits",
    "gcp_hits",
    "pattern_hits",
]

_Check = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class _Pattern:
    """A token recognised by its shape.

    Every regex starts with a literal, so the regex engine skips to candidates quickly (a
    leading lookbehind or character class would make it try every position); boundaries are
    lookbehinds placed after that literal. `back` characters before the match belong to the
    token too (the literal is not its first character).
    """

    kind: str
    regex: re.Pattern[str]
    group: int | str = 0
    check: _Check | None = None
    back: int = 0
    rare: bool = False  # only tried when _redact_scan.may_hold_rare_token says so


def _not_filler(v: str) -> bool:
    return not is_filler(v)


#: OpenAI's key types (sk-proj-, sk-svcacct-, sk-admin-): a word before the random part, which
#: would count towards the word test.
_KEY_TYPES = ("proj-", "svcacct-", "admin-")


def _mixed(v: str) -> bool:
    body = v.split("-", 1)[1] if "-" in v else v
    if body.startswith(_KEY_TYPES):
        body = body.split("-", 1)[1]
    return char_classes(body) >= 2 and not is_filler(body) and not wordy(body)


def _has_digit(v: str) -> bool:
    return any(c.isdigit() for c in v) and not is_filler(v)


def _random_body(v: str) -> bool:
    return char_classes(v) >= 2 and not is_filler(v) and not wordy(v)


_DISCORD_RE = re.compile(r"\.(?<=[A-Za-z0-9_-]{24}\.)[\w-]{6,7}\.[\w-]{27,40}(?![\w-])")
_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "_-")


def discord_hits(text: str) -> Iterator[Hit]:
    """Discord bot tokens: base64 user id (24-28 characters, M/N/O first) . time . HMAC,
    found from the first dot (a leading letter class would be tried at every position)."""
    for m in _DISCORD_RE.finditer(text):
        start = m.start()
        floor = max(0, start - 28)
        while start > floor and text[start - 1] in _TOKEN_CHARS:
            start -= 1
        head = text[start : m.start()]
        if start and text[start - 1] in _TOKEN_CHARS or head[:1] not in ("M", "N", "O"):
            continue
        if len(head) >= 24 and _random_body(head) and _random_body(m.group()[1:]):
            yield start, m.end(), PRIORITY["discord_token"]


def _telegram(v: str) -> bool:
    # the secret is URL-safe base64, `-` anywhere in it: not a prefix to cut (as `_mixed` does)
    return _random_body(v.split(":", 1)[1])


def _after_prefix(v: str) -> bool:
    """The URL-safe body after a literal prefix that ends at the first `.` or `-` (hvs.,
    ya29., GOCSPX-): a `-` further on is part of the body."""
    cut = min(i for i in (v.find("."), v.find("-")) if i >= 0)
    return _random_body(v[cut + 1 :])


def _mailchimp(v: str) -> bool:
    return not is_filler(v[:32]) and len(set(v[:32])) > 8


def _service_token(v: str) -> bool:
    return not is_filler(v) and (not v.startswith("key-") or len(set(v[4:])) > 8)


_PEM_LABEL = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_PEM_END = r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_NL = r"(?:(?:\\r)?\\n|\r?\n|[ \t])"
# Base64 lines and the headers of legacy encrypted PEM and PGP ("Proc-Type: 4,ENCRYPTED").
_PEM_BODY = r"(?:[A-Za-z0-9+/=\s:,.()@]|-(?!----)|\\[nr])"  # stops at the next -----

TOKEN_PATTERNS: tuple[_Pattern, ...] = (
    _Pattern(
        "private_key",
        re.compile(
            rf"{_PEM_LABEL}(?:{_PEM_BODY}{{0,20000}}?{_PEM_END}|(?:{_NL}+[A-Za-z0-9+/=]{{16,}})+)"
        ),
    ),
    _Pattern(
        "aws_access_key",
        re.compile(r"A(?:KIA|SIA|BIA|CCA)(?<![A-Za-z0-9]....)[A-Z0-9]{16}(?![A-Za-z0-9])"),
        check=_not_filler,
    ),
    _Pattern(
        "github_token",
        # GitHub App installation tokens are ghs_<app id>_<JWT> since April 2026 (~520 chars)
        re.compile(
            r"gh(?<![A-Za-z0-9_]gh)[pousr]_"
            r"(?:\d+_[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}|[A-Za-z0-9]{36,251})(?![A-Za-z0-9_])"
        ),
        check=_not_filler,
    ),
    _Pattern(
        "github_token",
        re.compile(r"github_pat_(?<![A-Za-z0-9_]github_pat_)[A-Za-z0-9_]{22,255}"),
        check=_not_filler,
    ),
    _Pattern(
        "gitlab_token",
        # routable tokens (GitLab 17.x+) end in .<version><crc>
        re.compile(
            r"glpat-(?<![\w-]glpat-)[A-Za-z0-9_-]{20,}(?:\.[0-9a-z]{2}\.?[0-9a-z]{7}(?![\w-]))?"
        ),
        check=_not_filler,
    ),
    _Pattern(
        "gitlab_token",
        # GitLab's other token types; shorter prefixes, so the body must look random
        re.compile(
            r"gl(?<![\w-]gl)(?:dt|rt|cbt|ptt|ft|ffct|imt|agent|oas|soat)-[A-Za-z0-9_-]{20,}"
            r"(?:\.[0-9a-z]{2}\.?[0-9a-z]{7}(?![\w-]))?"
        ),
        check=_mixed,
    ),
    _Pattern(
        "anthropic_key",
        re.compile(r"sk-ant-(?<![\w-]sk-ant-)[A-Za-z0-9_-]{20,}"),
        check=_not_filler,
    ),
    _Pattern(
        "openai_key",
        re.compile(r"sk-(?<![\w-]sk-)(?!ant-)[A-Za-z0-9_-]{20,}"),
        check=_mixed,
    ),
    _Pattern(
        "slack_token",
        # xoxc- is a browser session's token, xoxd- its d cookie (URL-encoded base64)
        re.compile(r"x(?<![\w-]x)(?:(?:ox[abposrec]|app)-[A-Za-z0-9-]{10,}|oxd-[\w%/+=-]{10,})"),
        check=_has_digit,
    ),
    _Pattern(
        "slack_webhook",
        re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<v>[A-Za-z0-9_/]{20,})"),
        group="v",
    ),
    _Pattern(
        "stripe_key",
        re.compile(r"k_(?:live|test)_(?<=(?<![A-Za-z0-9_])[sr]k_...._)[A-Za-z0-9]{16,}"),
        check=_not_filler,
        back=1,
    ),
    _Pattern(
        "stripe_key",
        re.compile(r"whsec_(?<![A-Za-z0-9_]whsec_)[A-Za-z0-9]{24,}"),
        check=_not_filler,
    ),
    _Pattern(
        "google_api_key",
        re.compile(r"AIza(?<![\w-]AIza)[0-9A-Za-z_-]{35}(?![\w-])"),
        check=_not_filler,
    ),
    _Pattern(
        "google_oauth",
        # an OAuth client's secret (GOCSPX-) and a user's access token (ya29.)
        re.compile(
            r"GOCSPX-(?<![\w-]GOCSPX-)[A-Za-z0-9_-]{28}(?![\w-])"
            r"|ya29\.(?<![\w.]ya29\.)[A-Za-z0-9_-]{30,}"
        ),
        check=_after_prefix,
    ),
    _Pattern(
        "sendgrid_key",
        re.compile(r"SG\.(?<![\w.-]SG\.)[\w-]{16,32}\.[\w-]{32,64}(?![\w-])"),
    ),
    _Pattern(
        "huggingface_token",
        re.compile(r"hf_(?<![A-Za-z0-9_]hf_)[A-Za-z0-9]{30,}(?![A-Za-z0-9_])"),
        check=_mixed,
    ),
    _Pattern(
        "npm_token",
        re.compile(r"npm_(?<![A-Za-z0-9_]npm_)[A-Za-z0-9]{36}(?![A-Za-z0-9_])"),
        check=_not_filler,
    ),
    _Pattern(
        "pypi_token",
        re.compile(r"pypi-Ag(?<![\w-]pypi-Ag)[A-Za-z0-9_-]{50,}"),
        check=_not_filler,
    ),
    _Pattern(
        "azure_key",
        re.compile(r"AccessKey=(?P<v>[A-Za-z0-9+/]{20,}={0,2})"),  # also SharedAccessKey=
        group="v",
        check=_not_filler,
    ),
    _Pattern(
        "azure_key",
        re.compile(r"AccountKey=(?P<v>[A-Za-z0-9+/]{20,}={0,2})"),
        group="v",
        check=_not_filler,
    ),
    _Pattern(
        "azure_key",
        re.compile(r"sig=(?<=[?&]sig=)(?P<v>[A-Za-z0-9%+/]{20,}(?:%3D|=){0,2})"),
        group="v",
        check=_not_filler,
    ),
    _Pattern(
        "azure_key",
        re.compile(r"Q~(?<=(?<![\w~.-])[A-Za-z0-9_~.-]{3}\dQ~)[A-Za-z0-9_~.-]{31,34}(?![\w~.-])"),
        check=_not_filler,
        back=4,
    ),
    _Pattern(
        "private_key",  # age (age-encryption.org) identities
        re.compile(r"AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}"),
        rare=True,
    ),
    _Pattern(
        "telegram_token",
        # bot ids are user ids, 8 to 13 digits (Telegram documents them below 2**40): led by
        # the digits, not the literal, which a fixed-width lookbehind would need; it runs only
        # where ":AA" is (rare)
        re.compile(r"(?<![\w:])\d{8,13}:AA[A-Za-z0-9_-]{33}(?![\w-])"),
        check=_telegram,
        rare=True,
    ),
    _Pattern(
        "vault_token",
        re.compile(r"hv[sbr]\.(?<![\w.]hv[sbr]\.)[A-Za-z0-9_-]{24,}"),
        check=_after_prefix,
        rare=True,
    ),
    _Pattern(
        "databricks_token",
        re.compile(r"dapi(?<![\w]dapi)[0-9a-f]{32}(?:-\d)?(?![\w])"),
        check=_not_filler,
        rare=True,
    ),
    _Pattern(
        "mailchimp_key",
        re.compile(r"-us(?<=(?<![0-9a-f])[0-9a-f]{32}-us)\d{1,2}(?!\w)"),
        check=_mailchimp,
        back=32,
        rare=True,
    ),
    _Pattern(
        "shopify_token",
        re.compile(r"shp(?:at|ca|pa|ss)_(?<![\w]shp.._)[a-fA-F0-9]{32}(?![\w])"),
        check=_not_filler,
        rare=True,
    ),
    _Pattern(
        "digitalocean_token",
        re.compile(r"do[por]_v1_(?<![\w]do._v1_)[a-f0-9]{64}(?![\w])"),
        check=_not_filler,
        rare=True,
    ),
    *(
        _Pattern("service_token", re.compile(rx + r"(?![\w-])"), check=_service_token, rare=True)
        for rx in (  # New Relic, Linear, Postman, Doppler, Mailgun
            r"NRAK-[A-Z0-9]{27}",
            r"lin_api_[A-Za-z0-9]{40}",
            r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}",
            # a service token may name its config: dp.st.prd.<40-44 alphanumerics>
            r"dp\.(?:st\.[a-z0-9_-]{2,35}\.[A-Za-z0-9]{40,}"
            r"|(?:st|ct|sa|scim)\.[A-Za-z0-9_-]{40,}|(?:pt|said|audit)\.[A-Za-z0-9]{40,})",
            r"key-(?<![\w-]key-)[0-9a-f]{32}",
        )
    ),
    _Pattern(
        "jwt",
        re.compile(
            r"eyJ(?<![\w-]eyJ)[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}(?![\w-])"
        ),
    ),
)


_GCP_RE = re.compile(r"\"private_key(?:_id)?\"\s*:\s*\"(?P<v>(?:[^\"\\]|\\.)+)\"")


def gcp_hits(text: str) -> Iterator[Hit]:
    for m in _GCP_RE.finditer(text):
        if not is_filler(m.group("v")):
            yield m.start("v"), m.end("v"), PRIORITY["gcp_service_account"]


def pattern_hits(text: str) -> Iterator[Hit]:
    if not _scan.may_hold_token(text):
        return
    rare = _scan.may_hold_rare_token(text)
    for p in TOKEN_PATTERNS:
        if p.rare and not rare:
            continue
        prio = PRIORITY[p.kind]
        for m in p.regex.finditer(text):
            start, end = m.span(p.group)
            if p.check is None or p.check(text[start - p.back : end]):
                yield start - p.back, end, prio
