"""The token shapes `redact` knows, one entry per provider's shape with its check
(`TOKEN_PATTERNS`; _redact_tokens.py finds them in a text, _redact_at_start.py at one place).

A token may not follow a letter or digit (it would be the tail of some other name or data),
unless its prefix is one no word ends in (_redact_glued.py). A
prefix no identifier holds may follow `_` too (GitHub's, glpat-, sk-ant-, sk-or-v1-, Slack's,
GOCSPX-, pypi-Ag, dop_v1_, shpat_, pscale_, rubygems_): a key glued to a name (key_ghp_...) is
still a key. So may a shorter prefix (hf_, npm_, gsk_, AIza, sk_live_, gldt-, pnu_, sgp_) whose
body looks random there (`glued`): the end of a snake_case name followed by words
(load_hf_QwenForCausalLM...) does not. Where a body holds `_` itself (r8_), `_` keeps it out.
OpenAI's sk- may follow `_` only with its key type (my_sk-proj-...).

A Sourcegraph token of the first format and an older New Relic license key are 40 bare hex
characters, a commit SHA's shape: only the word before tells them (_redact_phrases.py,
`named_hex_hits`).

Over 600 lines: the table is one list of 90 shapes, each with its provider's documented
format beside it; split by provider, a new shape's gate (_redact_scan.py) and index
(_redact_at_start.py) would have to be found across files.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass

from ocp_router._redact_jwt import JWT_RE
from ocp_router._redact_values import char_classes, is_filler, is_placeholder, wordy

__all__ = ["TOKEN_CHARS", "TOKEN_PATTERNS", "TokenPattern", "loose_regex", "random_body"]

_Check = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class TokenPattern:
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
    glued: _Check | None = None  # the regex lets `_` precede; then this check decides
    # A literal every match holds, for a regex not led by one (Telegram's digits): where it is
    # absent the pattern is not tried (a substring test runs at memory speed; a regex led by
    # a character class tries every position).
    needs: str = ""


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


def _gitlab(v: str) -> bool:
    """A glrt-/gldt-/… body that looks random, or has GitLab's own shape (Devise's
    friendly_token: 20 URL-safe base64 characters, l, I, O and 0 swapped for s, x, y and z)
    with all three character classes: one in 500 of GitLab's read as words to the word test."""
    body = v.split("-", 1)[1].split(".", 1)[0]
    if _mixed(v):
        return True
    return (
        len(body) == 20
        and not _NOT_FRIENDLY & set(body)
        and char_classes(body) >= 3
        and not is_placeholder(body)
    )


_NOT_FRIENDLY = frozenset("lIO0")


def _typed_key(v: str) -> bool:
    """After `_` (my_sk-proj-...), only a key that names its type: `sk-` ends many a name."""
    return v[3:].startswith(_KEY_TYPES) and _mixed(v)


def _has_digit(v: str) -> bool:
    return any(c.isdigit() for c in v) and not is_filler(v)


def random_body(v: str) -> bool:
    return char_classes(v) >= 2 and not is_filler(v) and not wordy(v)


def _telegram(v: str) -> bool:
    # the secret is URL-safe base64, `-` anywhere in it: not a prefix to cut (as `_mixed` does)
    return random_body(v.split(":", 1)[1])


def _after_prefix(v: str) -> bool:
    """The URL-safe body after a literal prefix that ends at the first `.` or `-` (hvs.,
    ya29., GOCSPX-): a `-` further on is part of the body."""
    cut = min(i for i in (v.find("."), v.find("-")) if i >= 0)
    return random_body(v[cut + 1 :])


def _varied_hex_head(v: str) -> bool:
    """The 32 hex characters a Mailchimp or Mailgun key starts with are no placeholder."""
    return not is_filler(v[:32]) and len(set(v[:32])) > 8


def _varied_hex_tail(v: str) -> bool:
    """The 64 hex characters an Airtable token ends in are no placeholder."""
    return not is_filler(v[-64:]) and len(set(v[-64:])) > 8


def _service_token(v: str) -> bool:
    return not is_filler(v) and (not v.startswith("key-") or len(set(v[4:])) > 8)


def _random_after(head: int, tail: int = 0) -> _Check:
    """The body between a fixed-length prefix (gsk_, api_org_) and a fixed-length suffix (a
    checksum, which would make "0000..." look random) looks random: for a prefix an ordinary
    name could start with, and a body of mixed-case letters the word test can judge."""
    return lambda v: random_body(v[head : len(v) - tail])


def _filled_after(head: int, tail: int = 0) -> _Check:
    """The body after a prefix no name starts with (NRAK-, dose) is no placeholder. Hex and
    upper-case bodies are not judged by the word test: "dadeeeeb" and "KISDENAD" read as words
    to it, and one key in a few hundred would be missed."""
    return lambda v: not is_filler(v[head : len(v) - tail])


def _mapbox_secret(v: str) -> bool:
    """The base64 JSON of sk.<JSON>.<signature> is no placeholder."""
    return not is_filler(v[3 : v.index(".", 3)])


def _after_last_dash(v: str) -> bool:
    """The secret part of tskey-<type>-<key id>-<secret> looks random."""
    return random_body(v.rsplit("-", 1)[1])


def _after_second_underscore(v: str) -> bool:
    """The body of pscale_tkn_<body>, pscale_pw_ and pscale_oauth_ looks random."""
    return random_body(v.split("_", 2)[2])


def _after_last_underscore(v: str) -> bool:
    """The hex after a Sourcegraph token's instance id (sgp_<id>_<hex>, sgp_local_<hex>)."""
    return not is_filler(v.rsplit("_", 1)[1])


def _newrelic_ingest(v: str) -> bool:
    """The hex part of a license key (<hex>NRAL) or a mobile app token (AA<hex>-NRMA)."""
    body = v[2:-5] if v.endswith("-NRMA") else v[:-8]
    return not is_filler(body) and len(set(body)) > 8


_PEM_LABEL = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_PEM_END = r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_NL = r"(?:(?:\\r)?\\n|\r?\n|[ \t])"
# Base64 lines and the headers of legacy encrypted PEM and PGP ("Proc-Type: 4,ENCRYPTED").
_PEM_BODY = r"(?:[A-Za-z0-9+/=\s:,.()@]|-(?!----)|\\[nr])"  # stops at the next -----

# After a routable GitLab token's .<version><crc>: no more data, though a word may be glued
# there (`.01.0k3m9x2notes`, a file's `.txt`); it is left out of the token.
_GLUED_WORD_OK = r"(?=[A-Z]?[a-z]*(?![\w-]))"

TOKEN_PATTERNS: tuple[TokenPattern, ...] = (
    TokenPattern(
        "private_key",
        re.compile(
            rf"{_PEM_LABEL}(?:{_PEM_BODY}{{0,20000}}?{_PEM_END}|(?:{_NL}+[A-Za-z0-9+/=]{{16,}})+)"
        ),
    ),
    TokenPattern(
        "aws_access_key",
        re.compile(r"A(?:KIA|SIA|BIA|CCA)(?<![A-Za-z0-9]....)[A-Z0-9]{16}(?![A-Za-z0-9])"),
        check=_not_filler,
    ),
    TokenPattern(
        "github_token",
        # GitHub App installation tokens are ghs_<app id>_<JWT> since April 2026 (~520 chars)
        re.compile(
            r"gh(?<![A-Za-z0-9]gh)[pousr]_"
            r"(?:\d+_[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}|[A-Za-z0-9]{36,251})(?![A-Za-z0-9])"
        ),
        check=_not_filler,
    ),
    TokenPattern(
        "github_token",
        re.compile(r"github_pat_(?<![A-Za-z0-9]github_pat_)[A-Za-z0-9_]{22,255}"),
        check=_not_filler,
    ),
    TokenPattern(
        "gitlab_token",
        # routable tokens (GitLab 17.x+) end in .<version><crc>
        re.compile(
            r"glpat-(?<![A-Za-z0-9-]glpat-)[A-Za-z0-9_-]{20,}"
            rf"(?:\.[0-9a-z]{{2}}\.?[0-9a-z]{{7}}{_GLUED_WORD_OK})?"
        ),
        check=_not_filler,
    ),
    TokenPattern(
        "gitlab_token",
        # GitLab's other token types; shorter prefixes, so the body must look random
        re.compile(
            r"gl(?<![A-Za-z0-9-]gl)(?:dt|rt|cbt|ptt|ft|ffct|imt|agent|oas|soat)-[A-Za-z0-9_-]{20,}"
            rf"(?:\.[0-9a-z]{{2}}\.?[0-9a-z]{{7}}{_GLUED_WORD_OK})?"
        ),
        check=_gitlab,
        glued=_mixed,
    ),
    TokenPattern(
        "anthropic_key",
        re.compile(r"sk-ant-(?<![A-Za-z0-9-]sk-ant-)[A-Za-z0-9_-]{20,}"),
        check=_not_filler,
    ),
    TokenPattern(
        "openrouter_key",
        re.compile(r"sk-or-v1-(?<![A-Za-z0-9-]sk-or-v1-)[0-9a-f]{64}(?![\w-])"),
        check=_filled_after(9),
    ),
    TokenPattern(
        # DeepSeek's keys (sk-<32 hex>) are here too: Alibaba DashScope's have the same shape
        "openai_key",
        re.compile(r"sk-(?<![A-Za-z0-9-]sk-)(?!ant-)[A-Za-z0-9_-]{20,}"),
        check=_mixed,
        glued=_typed_key,
    ),
    TokenPattern(
        "groq_key",
        re.compile(r"gsk_(?<![A-Za-z0-9]gsk_)[A-Za-z0-9]{52}(?![\w-])"),
        check=_random_after(4),
        rare=True,
        glued=_random_after(4),
    ),
    TokenPattern(
        "xai_key",
        re.compile(r"xai-(?<![\w-]xai-)[A-Za-z0-9_]{80}(?![\w-])"),
        check=_random_after(4),
        rare=True,
    ),
    TokenPattern(
        "perplexity_key",
        re.compile(r"pplx-(?<![\w-]pplx-)[A-Za-z0-9]{48}(?![\w-])"),
        check=_random_after(5),
        rare=True,
    ),
    TokenPattern(
        "replicate_token",
        re.compile(r"r8_(?<![A-Za-z0-9_]r8_)[A-Za-z0-9_-]{37}(?![\w-])"),
        check=_random_after(3),
        rare=True,
    ),
    TokenPattern(
        "slack_token",
        # xoxc- is a browser session's token, xoxd- its d cookie (URL-encoded base64)
        re.compile(
            r"x(?<![A-Za-z0-9-]x)(?:(?:ox[abposrec]|app)-[A-Za-z0-9-]{10,}|oxd-[\w%/+=-]{10,})"
        ),
        check=_has_digit,
    ),
    TokenPattern(
        "slack_webhook",
        re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<v>[A-Za-z0-9_/]{20,})"),
        group="v",
    ),
    TokenPattern(
        "stripe_key",
        re.compile(r"k_(?:live|test|prod)_(?<=(?<![A-Za-z0-9])[sr]k_...._)[A-Za-z0-9]{16,}"),
        check=_not_filler,
        back=1,
        glued=_after_second_underscore,
    ),
    TokenPattern(
        "stripe_key",
        re.compile(r"whsec_(?<![A-Za-z0-9_]whsec_)[A-Za-z0-9]{24,}"),
        check=_not_filler,
    ),
    TokenPattern(
        "google_api_key",
        re.compile(r"AIza(?<![A-Za-z0-9-]AIza)[0-9A-Za-z_-]{35}(?![\w-])"),
        check=_not_filler,
        glued=_random_after(4),
    ),
    # An OAuth client's secret (GOCSPX-) and a user's access token (ya29.): two regexes, each
    # led by its literal (an alternation of the two would be tried at every position).
    TokenPattern(
        "google_oauth",
        re.compile(r"GOCSPX-(?<![A-Za-z0-9-]GOCSPX-)[A-Za-z0-9_-]{28}(?![\w-])"),
        # no name starts with GOCSPX-: a body that reads as words is a secret's too
        check=_filled_after(7),
    ),
    TokenPattern(
        "google_oauth",
        re.compile(r"ya29\.(?<![\w.]ya29\.)[A-Za-z0-9_-]{30,}"),
        check=_after_prefix,
    ),
    TokenPattern(
        "sendgrid_key",
        re.compile(r"SG\.(?<![\w.-]SG\.)[\w-]{16,32}\.[\w-]{32,64}(?![\w-])"),
    ),
    TokenPattern(
        "huggingface_token",
        re.compile(r"hf_(?<![A-Za-z0-9]hf_)[A-Za-z0-9]{30,}(?![A-Za-z0-9_])"),
        check=_mixed,
        glued=_mixed,
    ),
    TokenPattern(
        "huggingface_token",  # organisation tokens (api_org_): retired in 2023, still in old code
        re.compile(r"api_org_(?<![A-Za-z0-9_]api_org_)[A-Za-z0-9]{34}(?![A-Za-z0-9_])"),
        check=_random_after(8),
        rare=True,
    ),
    TokenPattern(
        "npm_token",
        re.compile(r"npm_(?<![A-Za-z0-9]npm_)[A-Za-z0-9]{36}(?![A-Za-z0-9_])"),
        check=_not_filler,
        glued=_random_after(4),
    ),
    TokenPattern(
        "pypi_token",
        re.compile(r"pypi-Ag(?<![A-Za-z0-9-]pypi-Ag)[A-Za-z0-9_-]{50,}"),
        check=_not_filler,
    ),
    TokenPattern(
        "azure_key",
        re.compile(r"AccessKey=(?P<v>[A-Za-z0-9+/]{20,}={0,2})"),  # also SharedAccessKey=
        group="v",
        check=_not_filler,
    ),
    TokenPattern(
        "azure_key",
        re.compile(r"AccountKey=(?P<v>[A-Za-z0-9+/]{20,}={0,2})"),
        group="v",
        check=_not_filler,
    ),
    TokenPattern(
        "azure_key",
        re.compile(r"sig=(?<=[?&]sig=)(?P<v>[A-Za-z0-9%+/]{20,}(?:%3D|=){0,2})"),
        group="v",
        check=_not_filler,
    ),
    TokenPattern(
        "azure_key",
        re.compile(r"Q~(?<=(?<![\w~.-])[A-Za-z0-9_~.-]{3}\dQ~)[A-Za-z0-9_~.-]{31,34}(?![\w~.-])"),
        check=_not_filler,
        back=4,
    ),
    TokenPattern(
        "private_key",  # age (age-encryption.org) identities
        re.compile(r"AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}"),
        rare=True,
    ),
    TokenPattern(
        "telegram_token",
        # bot ids are user ids, 8 to 13 digits (Telegram documents them below 2**40): led by
        # the digits, not the literal, which a fixed-width lookbehind would need; it runs only
        # where ":AA" is (rare)
        re.compile(r"(?<![\w:])\d{8,13}:AA[A-Za-z0-9_-]{33}(?![\w-])"),
        check=_telegram,
        rare=True,
        needs=":AA",
    ),
    TokenPattern(
        "vault_token",
        re.compile(r"hv[sbr]\.(?<![\w.]hv[sbr]\.)[A-Za-z0-9_-]{24,}"),
        check=_after_prefix,
        rare=True,
    ),
    TokenPattern(
        "databricks_token",
        re.compile(r"dapi(?<![\w]dapi)[0-9a-f]{32}(?:-\d)?(?![\w])"),
        check=_not_filler,
        rare=True,
    ),
    TokenPattern(
        "databricks_token",  # a service principal's OAuth secret
        re.compile(r"dose(?<![\w]dose)[0-9a-f]{32}(?![\w])"),
        check=_filled_after(4),
        rare=True,
    ),
    TokenPattern(
        "mailchimp_key",
        re.compile(r"-us(?<=(?<![0-9a-f])[0-9a-f]{32}-us)\d{1,2}(?!\w)"),
        check=_varied_hex_head,
        back=32,
        rare=True,
    ),
    TokenPattern(
        "shopify_token",
        re.compile(r"shp(?:at|ca|pa|ss)_(?<![A-Za-z0-9]shp.._)[a-fA-F0-9]{32}(?![\w])"),
        check=_not_filler,
        rare=True,
    ),
    TokenPattern(
        "digitalocean_token",
        re.compile(r"do[por]_v1_(?<![A-Za-z0-9]do._v1_)[a-f0-9]{64}(?![\w])"),
        check=_not_filler,
        rare=True,
    ),
    TokenPattern(
        "newrelic_key",
        # user (NRAK), admin (NRAA), REST (NRRA), Insights insert/query (NRII/NRIQ), browser
        # (NRJS/NRBR) and synthetics private location (NRSP) keys, as New Relic's own scanner
        # (rusty-hog) knows them; Insights keys are 32 characters there, 25 in trufflehog's;
        # gitleaks takes NRAK- keys of either case
        re.compile(
            r"NR(?<![\w-]NR)(?:AK-[A-Za-z0-9]{27}|AA-[0-9a-f]{27}|RA-[0-9a-f]{42}"
            r"|I[IQ]-[\w-]{25,32}|(?:JS|BR)-[0-9a-f]{19}|SP-[a-z]{2}\d{2}[0-9a-f]{31})(?![\w-])"
        ),
        check=_filled_after(5),
        rare=True,
    ),
    TokenPattern(
        "newrelic_key",
        # ingest license keys: 36 hex characters (32 and FFFF), then NRAL; a region's keys
        # start eu01xx. Older keys are 40 bare hex characters, which a commit SHA is too.
        re.compile(
            r"NRAL(?<=(?<![\w-])(?:[0-9a-f]{32}|[a-z]{2}\d{2}xx[0-9a-f]{26})[0-9a-fA-F]{4}NRAL)"
            r"(?![\w-])"
        ),
        check=_newrelic_ingest,
        back=36,
        rare=True,
    ),
    TokenPattern(
        "newrelic_key",  # mobile app tokens
        re.compile(
            r"-NRMA(?<=(?<![\w-])(?:AA[0-9a-f]{40}|[a-z]{2}\d{2}xx[0-9a-f]{36})-NRMA)(?![\w-])"
        ),
        check=_newrelic_ingest,
        back=42,
        rare=True,
    ),
    # Pulumi, Atlassian, Grafana, Sentry, 1Password, LangSmith, Amazon Bedrock, Pinecone,
    # Heroku, Notion, PlanetScale, RubyGems, Fly.io, Sourcegraph: (check, pattern)
    *(
        TokenPattern("service_token", re.compile(rx), check=check, rare=True)
        for check, rx in (
            # Pulumi's tokens are hex by gitleaks' rule, lower-case alphanumerics by trufflehog's
            (_filled_after(4), r"pul-(?<![\w-]pul-)[a-z0-9]{40}(?![\w-])"),
            # ATATT3<body>=<8 hex checksum>
            (_random_after(6, 9), r"ATATT3(?<![\w-]ATATT3)[A-Za-z0-9_=-]{186}(?![\w=-])"),
            (_random_after(4), r"glc_(?<![A-Za-z0-9_]glc_)[A-Za-z0-9+/]{32,400}={0,3}(?![\w+/=-])"),
            (
                _random_after(5, 9),
                r"glsa_(?<![A-Za-z0-9_]glsa_)[A-Za-z0-9]{32}_[0-9a-fA-F]{8}(?![\w-])",
            ),
            (_filled_after(7), r"sntryu_(?<![A-Za-z0-9_]sntryu_)[0-9a-f]{64}(?![\w-])"),
            (
                _random_after(7, 44),
                r"sntrys_(?<![A-Za-z0-9_]sntrys_)eyJ[A-Za-z0-9+/]{10,400}={0,2}"
                r"_[A-Za-z0-9+/]{43}(?![\w+/=-])",
            ),
            (
                _random_after(4),
                r"ops_(?<![A-Za-z0-9_]ops_)eyJ[A-Za-z0-9+/]{250,}={0,3}(?![\w+/=-])",
            ),
            (
                _filled_after(8, 11),
                r"lsv2_(?<![A-Za-z0-9_]lsv2_)(?:pt|sk)_[0-9a-f]{32}_[0-9a-f]{10}(?![\w-])",
            ),
            (_random_after(4), r"ABSK(?<![\w+/-]ABSK)[A-Za-z0-9+/]{109,269}={0,2}(?![\w+/=-])"),
            # a short-lived Bedrock key: base64 of a presigned bedrock.amazonaws.com URL
            (
                _random_after(44),
                r"bedrock-api-key-(?<![\w-]bedrock-api-key-)YmVkcm9jay5hbWF6b25hd3MuY29t"
                r"[A-Za-z0-9+/]{20,}={0,2}(?![\w+/=-])",
            ),
            (
                _random_after(5),
                r"pcsk_(?<![A-Za-z0-9_]pcsk_)[A-Za-z0-9]{5,6}_[A-Za-z0-9]{63}(?![\w-])",
            ),
            (_random_after(7), r"HRKU-AA(?<![\w-]HRKU-AA)[A-Za-z0-9_-]{58}(?![\w-])"),
            (_random_after(4), r"ntn_(?<![A-Za-z0-9_]ntn_)\d{11}[A-Za-z0-9]{35}(?![\w-])"),
            # 1Password's account Secret Key: A3-<account id>-<26 characters in groups>
            (
                _random_after(3),
                r"A3-(?<![\w-]A3-)[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})"
                r"(?:-[A-Z0-9]{5}){3}(?![\w-])",
            ),
            # Grafana's legacy API keys: base64 of {"k":"<key>","n":"<name>","id":<org>}; no
            # dot follows (a JWT whose payload starts so is a jwt)
            (
                _random_after(8),
                r"eyJrIjoi(?<![\w+/-]eyJrIjoi)[A-Za-z0-9+/]{70,400}={0,3}(?![\w+/=-]|\.[\w-])",
            ),
            # PlanetScale; a body does not end in a sentence's full stop
            (
                _after_second_underscore,
                r"pscale_(?<![A-Za-z0-9]pscale_)(?:tkn|pw|oauth)_[\w=.-]{32,64}(?<!\.)(?![\w=-])",
            ),
            (_filled_after(9), r"rubygems_(?<![A-Za-z0-9]rubygems_)[0-9a-f]{48}(?![\w-])"),
            # Fly.io: an org token, and macaroons (after "FlyV1 ", several joined by commas)
            (_random_after(4), r"fo1_(?<![\w-]fo1_)[\w-]{43}(?![\w-])"),
            (
                _random_after(4),
                r"fm(?:1[ar]_(?<![\w+/-]fm1[ar]_)|2_(?<![\w+/-]fm2_))[A-Za-z0-9+/]{100,}={0,3}"
                r"(?:,fm(?:1[ar]|2)_[A-Za-z0-9+/]{20,}={0,3})*(?![\w+/=-])",
            ),
            # Sourcegraph's Cody Gateway, license and subscription tokens
            (_filled_after(4), r"s(?:gd|gs|lk)_(?<![A-Za-z0-9_]s.._)[0-9a-f]{64}(?![\w-])"),
        )
    ),
    # Tailscale, Docker Hub, Supabase, NVIDIA, Figma, Netlify, Mapbox (secret scope):
    # (check, pattern), as gitleaks' and trufflehog's rules know them
    *(
        TokenPattern("service_token", re.compile(rx), check=check, rare=True)
        for check, rx in (
            (
                _after_last_dash,
                r"tskey-(?<![\w-]tskey-)(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{8,24}"
                r"-[A-Za-z0-9]{20,64}(?![\w-])",
            ),
            (
                _random_after(9),
                r"dckr_(?:pat|oat)_(?<![A-Za-z0-9_]dckr_..._)[A-Za-z0-9_-]{27,32}(?![\w-])",
            ),
            (_filled_after(4), r"sbp_(?<![A-Za-z0-9_]sbp_)(?:oauth_)?[a-f0-9]{40}(?![\w-])"),
            (_random_after(10), r"sb_secret_(?<![A-Za-z0-9_]sb_secret_)[A-Za-z0-9_-]{20,}"),
            (_random_after(6), r"nvapi-(?<![\w-]nvapi-)[A-Za-z0-9_-]{64}(?![\w-])"),
            (_random_after(5), r"figd_(?<![A-Za-z0-9_]figd_)[A-Za-z0-9_-]{40}(?![\w-])"),
            (_random_after(4), r"nfp_(?<![A-Za-z0-9_]nfp_)[A-Za-z0-9]{36}(?![\w-])"),
            (
                _mapbox_secret,
                r"sk\.eyJ(?<![\w.-]sk\.eyJ)[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}(?![\w-])",
            ),
        )
    ),
    TokenPattern(
        # a Google OAuth refresh token (1//0 then ~100 URL-safe characters): not after a
        # path's or URL's characters (http://10.0.0.1//0...)
        "google_oauth",
        re.compile(r"1//0(?<![\w./:-]1//0)[A-Za-z0-9_-]{40,}"),
        check=_random_after(4),
        rare=True,
    ),
    TokenPattern(
        "discord_token",  # a webhook URL's token; the host and the webhook's id are kept
        re.compile(
            r"discord(?:app)?\.com/api(?:/v\d+)?/webhooks/\d{17,20}/(?P<v>[\w-]{60,80})(?![\w-])"
        ),
        group="v",
        check=random_body,
        rare=True,
    ),
    TokenPattern(
        # Terraform Cloud / Enterprise user, team and organization tokens:
        # <14 alphanumerics>.atlasv1.<60-70 URL-safe characters>
        "service_token",
        re.compile(
            r"\.atlasv1\.(?<=(?<![\w.-])[A-Za-z0-9]{14}\.atlasv1\.)[A-Za-z0-9_=-]{60,70}"
            r"(?![\w=-])"
        ),
        check=_random_after(23),
        back=14,
        rare=True,
    ),
    TokenPattern(
        # Airtable personal access tokens: pat<14-character id>.<64 hex>; not rare ("pat" is
        # in every path), its regex runs only on a text that passed the gates
        "service_token",
        re.compile(r"pat(?<![\w-]pat)[A-Za-z0-9]{14}\.[0-9a-f]{64}(?![\w-])"),
        check=_varied_hex_tail,
    ),
    TokenPattern(
        "service_token",  # Resend: re_<8 alphanumerics>_<24 alphanumerics>; "re_" is common
        re.compile(r"re_(?<![\w-]re_)[A-Za-z0-9]{8}_[A-Za-z0-9]{24}(?![\w-])"),
        check=_random_after(3),
    ),
    # crates.io, Square, Render, Vercel, JFrog: (check, pattern), as the providers and
    # gitleaks' rules document them
    *(
        TokenPattern("service_token", re.compile(rx), check=check, rare=True)
        for check, rx in (
            # crates.io API tokens (cio + 32) and trusted publishing tokens (cio_tp_ + 32)
            (_random_after(3), r"cio(?<![\w-]cio)(?:_tp_)?[A-Za-z0-9]{32}(?![\w-])"),
            # Square: access tokens (EAAA, 64 characters), legacy sq0atp-, OAuth sq0csp-
            (_random_after(4), r"EAAA(?<![\w-]EAAA)[A-Za-z0-9_-]{60}(?![\w-])"),
            (
                _random_after(7),
                r"sq0(?:atp-(?<![\w-]sq0atp-)[A-Za-z0-9_-]{22}|csp-(?<![\w-]sq0csp-)[A-Za-z0-9_-]{43})"
                r"(?![\w-])",
            ),
            (_random_after(4), r"rnd_(?<![\w-]rnd_)[A-Za-z0-9]{24,40}(?![\w-])"),
            # Vercel: personal (vcp_), integration (vci_), app access (vca_), app refresh
            # (vcr_) tokens and API keys (vck_)
            (_random_after(4), r"vc[pirak]_(?<![\w-]vc._)[A-Za-z0-9]{24,}(?![\w-])"),
            # JFrog: API keys (AKCp + 69) and reference tokens (base64 of "reftkn:...")
            (_random_after(4), r"AKCp(?<![\w-]AKCp)[A-Za-z0-9]{69}(?![\w-])"),
            (_random_after(8), r"cmVmdGtu(?<![\w+/-]cmVmdGtu)[A-Za-z0-9]{56}(?![\w+/=-])"),
        )
    ),
    TokenPattern(
        "service_token",  # Prefect API keys (gitleaks and trufflehog know pnu_ alone)
        re.compile(r"pnu_(?<![A-Za-z0-9]pnu_)[A-Za-z0-9]{36}(?![\w-])"),
        check=_random_after(4),
        rare=True,
        glued=_random_after(4),
    ),
    TokenPattern(
        # Sourcegraph: sgp_<instance id>_ (v3), sgp_ (v2); v1: `named_hex_hits`
        "service_token",
        re.compile(r"sgp_(?<![A-Za-z0-9]sgp_)(?:[0-9a-fA-F]{16}_|local_)?[0-9a-fA-F]{40}(?![\w-])"),
        check=_after_last_underscore,
        rare=True,
        glued=_random_after(4),
    ),
    TokenPattern(
        "service_token",  # Twilio API keys; not rare: "SK" is in every TASK and DISK
        re.compile(r"SK(?<![\w-]SK)[0-9a-f]{32}(?![\w-])"),
        check=_filled_after(2),
    ),
    TokenPattern(
        "service_token",  # ElevenLabs API keys; not rare: every task_ and disk_ holds sk_
        re.compile(r"sk_(?<![A-Za-z0-9_]sk_)[0-9a-f]{48}(?![\w-])"),
        check=_filled_after(3),
    ),
    TokenPattern(
        "service_token",  # Mailgun's keys since 2019: not rare, there is no literal to look for
        re.compile(r"-(?<=(?<![\w-])[0-9a-f]{32}-)[0-9a-f]{8}-[0-9a-f]{8}(?![\w-])"),
        check=_varied_hex_head,
        back=32,
    ),
    *(
        TokenPattern(
            "service_token", re.compile(rx + r"(?![\w-])"), check=_service_token, rare=True
        )
        for rx in (  # Linear, Postman, Doppler, Mailgun
            r"lin_api_[A-Za-z0-9]{40}",
            r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}",
            # a service token may name its config: dp.st.prd.<40-44 alphanumerics>
            r"dp\.(?:st\.[a-z0-9_-]{2,35}\.[A-Za-z0-9]{40,}"
            r"|(?:st|ct|sa|scim)\.[A-Za-z0-9_-]{40,}|(?:pt|said|audit)\.[A-Za-z0-9]{40,})",
            r"key-(?<![\w-]key-)[0-9a-f]{32}",
        )
    ),
    TokenPattern("jwt", JWT_RE),  # one documentation or a test shows is left: _redact_jwt.py
)

TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "_-")
# A regex's closing "no token character follows" lookaheads (`(?![A-Za-z0-9])`).
_NOT_FOLLOWED_RE = re.compile(r"\(\?!\[[^\]]*\]\)")


def loose_regex(p: TokenPattern) -> re.Pattern[str] | None:
    """`p`'s regex without its closing lookaheads (a word may be glued after a token), or
    None if it has none."""
    loose = _NOT_FOLLOWED_RE.sub("", p.regex.pattern)
    return re.compile(loose) if loose != p.regex.pattern else None
