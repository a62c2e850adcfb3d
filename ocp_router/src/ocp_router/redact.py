"""Find secrets in text and replace them with markers.

Everything `OCPRouter` sends to a paid provider (Anthropic, OpenAI) goes through `redact` first,
and so does every text ocp-server's tools hand to an IDE agent, so a secret never leaves the
machine by accident. Each secret is replaced by ``[REDACTED:<kind>]``;
the result lists every redaction with its kind and its offsets in the original text.

What is detected (kind in brackets):

- PEM private keys, the whole BEGIN..END block: RSA, EC, DSA, OPENSSH, PGP, ENCRYPTED, PKCS#8,
  legacy encrypted headers included (``private_key``); a pasted block with no END line is
  redacted through its base64 lines. In a GCP service-account JSON (one that says
  ``service_account``), the ``private_key`` and ``private_key_id`` values
  (``gcp_service_account``).
- Tokens recognised by prefix and shape wherever they appear: AWS access key ids AKIA/ASIA/
  ABIA/ACCA (``aws_access_key``); GitHub ghp_/gho_/ghu_/ghs_/ghr_/github_pat_, ghs_<app_id>_<JWT>
  (``github_token``); GitLab glpat-/gldt-/glrt-/glptt-/... (``gitlab_token``); Anthropic sk-ant-
  (``anthropic_key``); OpenAI sk-/sk-proj-/sk-svcacct-/sk-admin- (``openai_key``); Groq gsk_
  (``groq_key``); xAI xai- (``xai_key``); Perplexity pplx- (``perplexity_key``); Replicate r8_
  (``replicate_token``); Slack xox[abposrecd]-/xapp- (``slack_token``) and webhook URLs
  (``slack_webhook``, host kept); Stripe secret and restricted keys sk_/rk_ of live/test/prod,
  whsec_ (``stripe_key``; publishable pk_ keys are public: the assignment and entropy rules leave
  them alone); Google AIza (``google_api_key``), GOCSPX- and ya29. (``google_oauth``); SendGrid SG.
  (``sendgrid_key``); Hugging Face hf_ and api_org_ (``huggingface_token``); npm_ (``npm_token``);
  pypi-Ag (``pypi_token``); Azure AccountKey=/SharedAccessKey=, SAS ``sig=`` and AAD client secrets
  (``azure_key``); Discord bot tokens (``discord_token``), Telegram bot tokens (``telegram_token``),
  Vault hvs./hvb. (``vault_token``), Databricks dapi and dose (``databricks_token``), Mailchimp
  ``...-us12`` (``mailchimp_key``), Shopify shpat_ (``shopify_token``), DigitalOcean dop_v1_
  (``digitalocean_token``), New Relic NRAK-/NRAA-/NRRA-/NRII-/NRIQ-/NRJS-/NRBR-/NRSP-, license keys
  ending NRAL and mobile tokens ending -NRMA (``newrelic_key``; a bare 40-hex license key of the old
  format is not told from a commit SHA), Linear lin_api_, Postman PMAK-, Doppler dp.st./dp.pt./...,
  Mailgun key-, Pulumi pul-, Atlassian ATATT3, Grafana glc_/glsa_, Sentry sntrys_/sntryu_, 1Password
  ops_, LangSmith lsv2_pt_/lsv2_sk_, Twilio SK<32 hex>, Amazon Bedrock ABSK/bedrock-api-key-,
  ElevenLabs sk_<48 hex>, Pinecone pcsk_, Heroku HRKU-AA, Notion ntn_ (``service_token``); age
  secret keys (``private_key``); JWTs, three base64url segments with the header starting ``eyJ``
  (``jwt``).
- HTTP credentials: ``Authorization: Bearer <token>`` / ``Authorization: Token <token>`` and
  random-looking bearer tokens elsewhere (``bearer_token``); ``Authorization: Basic ...`` and
  ``curl -u user:pass`` (``basic_auth``, the user is kept).
- Connection strings: ``postgres://user:s3cret@host`` keeps scheme, user and host and loses
  only the password (which may hold a raw ``#``, ``/`` or ``@``); so do ``?password=``/
  ``&token=`` URL parameters and ``;Password=`` ADO/ODBC fields
  (``connection_string_password``).
- AWS secret access keys: 40 base64 characters assigned to an ``aws_secret_access_key``-like
  name (``aws_secret_key``).
- Assignments in code and config: ``password = "..."``, ``PASSWORD: ...`` (YAML),
  ``"api_key": "..."`` (JSON), ``'token' => '...'``, ``password := "..."``, ``export
  SECRET_KEY=...``, .env ``DB_PASSWORD=...``, ``ENV X_TOKEN=...``, ``--password ...``/
  ``--password=...``, ``<password>...</password>``, escaped JSON in log lines, a name and its
  value side by side (``define('DB_PASSWORD', '...')``, ``os.environ.setdefault("X", "...")``,
  ``<add key="DbPassword" value="..."/>``, Kubernetes ``- name: DB_PASSWORD`` / ``value:``),
  setters (``setPassword("...")``), SQL ``WITH PASSWORD '...'``. Only the value is redacted;
  name, operator and quotes stay, so the model still understands the code. The name decides
  (split into snake/kebab/camel/dotted words; a trailing ``value``/``b64``/... is ignored;
  ``pass`` names a password after a qualifier: DB_PASS, ansible_become_pass, not first_pass):

  - last word password/passwd/pwd/pass/passphrase/pw: any literal of 3+ characters
    (``password_assignment``);
  - last word secret/token/apikey/credential(s)/creds, or key after api/secret/access/private/
    client/signing/session/... : a literal that looks like a credential, i.e. 8+ characters,
    no spaces, a digit, mostly alphanumeric, not made of words (``generic_secret_assignment``;
    lexers keep ``token = "IDENTIFIER"``);
  - any other name containing key/secret/token/password/passwd/pwd/credential (``cache_key``,
    ``password_hash``): only a high-entropy value, 16+ characters of mixed classes, mostly
    alphanumeric, not words, not a URL (``generic_secret_assignment``).

  So hashes, UUIDs, commit SHAs and base64 images are left alone unless assigned to such a name.
  "Made of words" needs both long vowel-bearing letter runs and common English letter pairs.
- Passwords without an assignment: prose ("the prod db password is ..."), ``IDENTIFIED BY
  '...'``, ``ConvertTo-SecureString "..."``, netrc ``password ...``, .pgpass lines, and
  commands that take one: ``mysql -p...``, ``sshpass -p``, ``docker/podman/helm login -p``,
  ``redis-cli -a``, ``mongo -p`` (``password_assignment``).
- High-entropy values under any name: 20+ characters with lower, upper and digits, not words,
  assigned (``"k": "0bK5..."``, ``signing: ZTzh...``, ``sessionid=6Wax...``), unless the name
  says it is random by nature (hash, digest, id, nonce, version...) (``high_entropy_string``).
- Repeats: a secret that was found, 8+ characters long (passwords only with a digit or symbol
  and no spaces), is redacted wherever else it occurs verbatim in the same text, e.g. a
  password from a pasted .env appearing again in a log line.

What is left alone, so that explanations of code are not damaged:

- Placeholders: empty strings, ``changeme``, ``<your-key>``, ``xxx``/``****``/``000...``,
  ``...``, values containing "your"/"example"/"placeholder"/"dummy"/"sample"/"redacted",
  ``..._here``, the name itself (``password = "password"``, ``"password1": "password1"``), filler
  words (``secret``, ``test``, ``none``, ``true``...), paths (``~/.ssh/id_ed25519``), and the
  name of a variable as a string (``api_key_env = "OPENAI_API_KEY"``).
- Templates and lookups: ``${API_KEY}``, ``$API_KEY``, ``%API_KEY%``, ``{{ secrets.TOKEN }}``,
  ``%(pw)s``, ``{password}`` (a literal that merely contains a brace pair, ``Xk{Gb}9$q!``, is
  not a template), f-strings with fields, ``os.environ['API_KEY']``, ``get_password()``,
  ``request.headers["Authorization"]``, ``settings.SECRET_KEY``, ``process.env.API_KEY!``,
  YAML tags (``!vault``, ``!secret name``).
- Where names are variables (code), a bare variable on the right: one made of words or
  naming a secret (``password = user_password``, ``pw = dbPass``), not random letters
  (``password = jpoKfCiSxxg`` is a literal). Where they are not (YAML, INI after a
  ``[section]``, .env and shell ``NAME=value``, ``docker -e``, logfmt, command-line flags, URL
  parameters), every value is a literal except a template or reference; a YAML-style
  ``name: value`` line is code when the line before opens or continues an object or a call.
- Declarations and comparisons with code: ``password: str``, ``token: str | None = None``,
  ``apiKey: string;``, ``if token == bos_token_id:``; keywords (None, null, true...).
- Prose: an unquoted YAML-style value with spaces (``password: The password part of the
  URL.``), a flag followed by a plain word (``use the --password option``).
- Tokens whose body is filler (``sk-xxxxxxxx...``, ``ghp_000...``).

Overlapping detections are merged into one redaction of the most specific kind (the first in
`KINDS`). Redaction is idempotent: a detection that overlaps an existing ``[REDACTED:kind]``
marker is ignored, and `redact` scans its own output again until nothing more is found (a
secret can hide behind another: a boundary check that saw a letter now sees a marker), so
``redact(redact(t).text)`` returns its input unchanged. Every regex is compiled once and starts
with a literal, so the engine skips to candidates; token patterns run only when a gate of
_redact_scan.py finds their literal (rarer shapes: when a prefix of theirs is in the text); the
assignment scan starts from keywords found in the lower-cased text. 100 KB of ordinary code
takes about 7 ms (bench/bench_secrets.py measures it).

Over 600 lines on purpose: the token patterns and the heuristics that judge a value
(placeholders, entropy, the names around it) are tuned together, and are read together.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import string
import threading
from bisect import bisect_right
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ocp_router import _redact_scan as _scan

__all__ = [
    "KINDS",
    "RedactingFilter",
    "Redaction",
    "RedactionResult",
    "SOURCE_DIGEST",
    "finds_secret",
    "marker",
    "redact",
]

#: This module's source and its scans' (_redact_scan.py) as this process imported them: the
#: rules it runs (the files may change later, by a checkout or an upgrade; the index says so).
_SOURCES = (Path(__file__), Path(_scan.__file__))
SOURCE_DIGEST = hashlib.blake2b(
    b"".join(map(Path.read_bytes, _SOURCES)), digest_size=12
).hexdigest()

# Most specific first: when detections overlap, the merged redaction takes the earliest kind.
KINDS: tuple[str, ...] = (
    "gcp_service_account",
    "private_key",
    "aws_access_key",
    "aws_secret_key",
    "github_token",
    "gitlab_token",
    "anthropic_key",
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
_PRIORITY = {kind: i for i, kind in enumerate(KINDS)}
_MARKERS = tuple(f"[REDACTED:{kind}]" for kind in KINDS)
_MARKER_RE = re.compile(r"\[REDACTED:[a-z0-9_]+\]")
_ECHO_MIN = 8  # secrets at least this long are also redacted wherever else they occur
_MAX_PASSES = 8


def marker(kind: str) -> str:
    """The text that replaces a secret of this kind."""
    return f"[REDACTED:{kind}]"


@dataclass(frozen=True, slots=True)
class Redaction:
    """One redacted secret: its kind and its [start, end) offsets in the original text."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class RedactionResult:
    """The redacted text and what was taken out of it, in order of position."""

    text: str
    redactions: tuple[Redaction, ...]

    @property
    def counts(self) -> dict[str, int]:
        """How many secrets of each kind were redacted."""
        return dict(sorted(Counter(r.kind for r in self.redactions).items()))


# A hit: (start, end, priority) in the scanned text.
_Hit = tuple[int, int, int]

# ---------------------------------------------------------------------------------------------
# Value heuristics
# ---------------------------------------------------------------------------------------------

_TEMPLATE_RE = re.compile(
    r"\$\{|\$\(|\{\{|\}\}|\{%|%\([A-Za-z_]\w*\)[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]|<%|#\{"
    r"|^\$[A-Za-z_{]|^%[A-Za-z_]\w*%$|\{[A-Za-z_0-9][\w.\[\]]*(?:![rsa])?(?::[^{}]{0,20})?\}|\{\}"
    r"|%[sd]\b"
)
# What a template leaves once its fields are taken out: a password that merely contains a brace
# pair ("Xk{Gb}9$q!") leaves random characters; "postgres://{user}:{pw}@{host}" leaves a URL.
_TEMPLATE_FIELD_RE = re.compile(r"\$?\{\{?[^{}]*\}\}?|%\([A-Za-z_]\w*\)\w|<%.*?%>|#\{[^}]*\}")
_PLACEHOLDER_SUBSTR_RE = re.compile(
    r"your|chang(?:e[_ -]?me|eit)|replace[_ -]?(?:me|with|this)|placeholder|example|dummy"
    r"|redacted|xxxx|\*\*\*|insert[_ -]|sample|(?:^|[\s_-])here$"
)
_PLACEHOLDER_WORDS = frozenset(
    """password passwd pass pwd secret token apikey key test testing none null nil undefined
    empty default todo tbd fixme foo bar baz foobar qux changeme changeit redacted placeholder
    value string str mypassword mysecret mytoken myapikey secretkey accesskey privatekey
    apitoken accesstoken authtoken sample dummy fake example hidden masked removed omitted
    notset unset required optional secretvalue tokenvalue true false yes no""".split()
)
_TYPE_WORDS = frozenset(
    """str string bytes bytearray int integer bool boolean float double number any unknown
    object none null nil undefined true false yes no on off secretstr secretbytes secret
    optional char void text varchar uuid self this required list dict map array""".split()
)
_SCHEME_RE = re.compile(r"[a-z][a-z0-9+.-]*:")
_PATH_RE = re.compile(r"(?:~|\.\.?)?/[\w.@+/-]*")
_UPPER_SNAKE_RE = re.compile(r"_*[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_IDENT_RE = re.compile(r"[A-Za-z_$@][\w$]*")
_DOTTED_RE = re.compile(r"[A-Za-z_$@][\w$]*(?:(?:\.|::|->|\?\.)[A-Za-z_$][\w$]*)+")
_SNAKE_RE = re.compile(r"_*[a-z][a-z0-9]*(?:_[a-z0-9]+)+_*")
_CAMEL_RE = re.compile(r"[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+")
_WORD_SEG_RE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_CODE_HINTS = frozenset("([{$`<>")
# A code expression on the right of an assignment: a name, attribute chain, call, subscript,
# optionally dereferenced (*p, &x, @ivar, $var) and non-null asserted (x!). Values are cut at
# quotes, so a call with a string argument arrives open: os.environ.get(
_CODE_EXPR_RE = re.compile(
    r"[*&@$]?[A-Za-z_][\w$]*(?:(?:\.|::|->|\?\.)[A-Za-z_$][\w$]*|\([^()]*\)|\[[^\[\]]*\])*"
    r"(?:\(|\[)?[!?]?[;,]?"
)
_CALL_PREFIX_RE = re.compile(r"[*&@$]?[A-Za-z_][\w$]*(?:(?:\.|::|->|\?\.)[A-Za-z_$][\w$]*)*[(\[]")
_REFERENCE_WORDS = ("pass", "pw", "secret", "token", "key", "cred", "auth")
# Values YAML, INI and dotenv give a meaning of their own.
_CONFIG_KEYWORDS = frozenset("~ null none nil true false yes no on off".split())


def _has_vowel(s: str) -> bool:
    return any(c in "aeiouyAEIOUY" for c in s)


def _wordish_fraction(v: str) -> float:
    """The share of characters in word-like runs (4+ letters with a vowel)."""
    n = sum(len(s) for s in _WORD_SEG_RE.findall(v) if len(s) >= 4 and _has_vowel(s))
    return n / len(v) if v else 1.0


# The 200 most frequent letter pairs in English prose and code (Django's docs and source).
# Random strings hit about 30% of them, words over 80%.
_COMMON_BIGRAMS = frozenset(
    """
    ab ac ad ag ai al am an ap ar as at au av ay ba be bj bl bu by ca ce ch ci ck cl co cr
    ct cu da dd de di dj dm do ds ea ec ed ee ef el em en eo ep eq er es et ev ew ex fa fe
    fi fo fr fu ge gi go gr gs gu ha he hi ho ht ia ib ic id ie if ig il im in io ir is it
    iv ja je ke la ld le lf li ll lo ls lt lu ly ma me mi mo mp ms na nc nd ne ng ni no ns
    nt ob oc od of og ok ol om on oo op or os ot ou ov ow pa pe pl po pp pr ps pt pu py qu
    ra rd re rg ri rl rm rn ro rr rs rt ru ry sa se sh si so sp ss st su ta te th ti to tp
    tr ts tt tu ty ue ul um un up ur us ut va ve vi wa we wh wi wo ws xt yo yp ys
    """.split()
)
_LETTERS_RE = re.compile(r"[a-z]+")


def _common_bigram_fraction(v: str) -> float:
    pairs = [w[i : i + 2] for w in _LETTERS_RE.findall(v.lower()) for i in range(len(w) - 1)]
    if len(pairs) < 3:
        return 0.0
    return sum(p in _COMMON_BIGRAMS for p in pairs) / len(pairs)


def _wordy(v: str) -> bool:
    """Made of words (user_profile_v2, types-pywin32) rather than random characters.

    Both tests must agree: long letter runs with vowels, and common English letter pairs.
    On random tokens of 20+ characters this is wrong about 1 in 1000; on identifiers, paths and
    names from real code, about 1 in 200.
    """
    return _wordish_fraction(v) >= 0.4 and _common_bigram_fraction(v) >= 0.6


_LOWER_RE = re.compile(r"[a-z]")
_UPPER_RE = re.compile(r"[A-Z]")
_DIGIT_RE = re.compile(r"[0-9]")


def _classes(v: str) -> int:
    """How many of lower-case letters, upper-case letters and digits `v` has."""
    return (
        (_LOWER_RE.search(v) is not None)
        + (_UPPER_RE.search(v) is not None)
        + (_DIGIT_RE.search(v) is not None)
    )


def _entropy(v: str) -> float:
    n = len(v)
    return -sum(c / n * math.log2(c / n) for c in Counter(v).values())


def _looks_random(v: str, min_len: int = 16) -> bool:
    """A machine-made credential rather than words, a path or a URL."""
    if len(v) < min_len or any(c.isspace() for c in v) or _SCHEME_RE.match(v):
        return False  # a URL or URN-like name ("tag:yaml.org,2002:str")
    if _classes(v) < 2 or _wordy(v):
        return False
    if sum(c.isalnum() for c in v) < 0.75 * len(v) or any(c in "([{" for c in v):
        return False  # punctuation-heavy or bracketed: a format string, a tag, code
    return _entropy(v) >= 3.0


#: Characters besides the repeated one that make "0000000000000001234567Aa" a value, not filler.
_FILLER_REST = 8


def _is_filler(v: str) -> bool:
    """A token body that is obviously not real: xxxx, 0000, ****, '...'."""
    core = "".join(c for c in v.lower() if c.isalnum())
    dominant = Counter(core).most_common(1)[0][1] if core else 0
    return (
        len(set(core)) <= 2
        # mostly one character, and what is left too short to be a secret by itself
        or (dominant >= 0.6 * len(core) and len(core) - dominant < _FILLER_REST)
        or "xxxx" in core
        or "..." in v
        or "\u2026" in v
        or "[REDACTED" in v
    )


def _symbol_heavy_random(v: str) -> bool:
    """Random characters with symbols: what a password manager makes ("D1@rY!Nm$C|r^")."""
    if len(v) < 8 or any(c.isspace() for c in v) or "://" in v:
        return False
    symbols = sum(not c.isalnum() for c in v)
    return symbols >= 2 and _classes(v) >= 2 and not _wordy(v)


def _is_template(v: str) -> bool:
    """A template or interpolation (${X}, {{ x }}, %(x)s, {name}), not a literal that happens
    to contain a brace pair."""
    if not _TEMPLATE_RE.search(v):
        return False
    rest = _TEMPLATE_FIELD_RE.sub("", v)
    return not (_symbol_heavy_random(rest) or _looks_random(rest, 10))


def _is_placeholder(v: str, name_words: tuple[str, ...] = ()) -> bool:
    """Empty, a template/lookup, an obvious placeholder, or text a marker contains."""
    s = v.strip()
    if len(s) < 3 or _is_filler(s):
        return True
    if _is_template(s):
        return True
    if (s[0] == "<" and s[-1] == ">") or (s[0] == "[" and s[-1] == "]"):
        return True
    low = s.lower()
    if _PLACEHOLDER_SUBSTR_RE.search(low):
        return True
    core = "".join(c for c in low if c.isalnum())
    if core in _PLACEHOLDER_WORDS or core in name_words:
        return True
    if name_words and core.rstrip("0123456789") in ("".join(name_words), name_words[-1]):
        return True  # "password1": "password1"
    if (
        name_words
        and len(name_words[-1]) >= 4
        and name_words[-1] in core
        and _IDENT_RE.fullmatch(s)
        and not any(c.isdigit() for c in s)
    ):
        return True  # CHALLENGE_PASSWORD: "challengePassword"
    if _PATH_RE.fullmatch(s) and not _looks_random(s):
        return True
    return len(s) <= 40 and any(s in m for m in _MARKERS)


def _is_reference(v: str, name_words: tuple[str, ...], code: bool = True) -> bool:
    """An unquoted right-hand side that names a value rather than being one.

    In code (`code`), a variable, attribute, call or lookup is a reference; a bare identifier
    counts as one when it is made of words or names a secret (user_password, dbPass), not when
    it is random letters (a password: jpoKfCiSxxg). In configuration (YAML, INI, .env, shell,
    command lines, URL parameters) every value is literal except a template or an environment
    reference ($DB_PASSWORD, ${X}, %X%, {{ x }}) and the format's own keywords (null, ~).
    """
    if _is_template(v) or v[0] in "*&!|" and not _symbol_heavy_random(v):
        return True  # YAML aliases, anchors and tags (*x, &x, !vault), block scalars (|, >)
    if v.lower() in _CONFIG_KEYWORDS or v.lower() in _TYPE_WORDS and code:
        return True
    if not code:
        return False
    if _looks_random(v, 12) or _symbol_heavy_random(v) and not _CODE_EXPR_RE.fullmatch(v):
        return False
    if _CALL_PREFIX_RE.match(v) or v[0] in "([{":
        return True  # a call, a subscript or a literal list/dict/tuple: code
    if v.isdigit():
        return False
    if not _CODE_EXPR_RE.fullmatch(v):
        return _wordy(v)  # ConvertTo-SecureString, a-b: an expression of names
    core = v.rstrip("!?;,")
    if not _IDENT_RE.fullmatch(core) or core[0] in "$@":
        return True  # an attribute, call, subscript, $var or @ivar
    low = core.lower()
    if any(w in low for w in _REFERENCE_WORDS):
        return True
    if name_words and any(len(w) > 2 and w in low for w in name_words):
        return True
    return len(core) < 8 or _wordy(core)


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------

_NAME_WORD_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_FILLER_WORDS = frozenset(
    "value val str string b64 base64 hex raw plain plaintext literal data bytes text".split()
)
_PASSWORD_HEADS = frozenset("password passwd pwd pass passphrase passcode pw pword".split())
_SECRET_HEADS = frozenset("secret token apikey credential credentials creds cred".split())
# A name ending in key is a credential's name with one of these before it (api_key,
# SECRET_KEY, session_key); other keys (cache_key, sort_key) only hold high-entropy secrets.
_KEY_QUALIFIERS = frozenset(
    """api secret access private auth client signing sign encryption encrypt master hmac jwt
    aes crypto cipher license subscription webhook consumer deploy storage shared root admin
    bot app application service account session cookie""".split()
)
_GENERIC_WORDS = frozenset({"key", "keys", "secrets", "tokens"})


# "pass" names a password after one of these (DB_PASS, ansible_become_pass, rootPass); alone
# it is as often a pass of something (first_pass, test_pass, render_pass).
_PASS_QUALIFIERS = frozenset(
    """db database user admin root mysql postgres pg redis smtp mail email ftp sftp ssh ldap
    api app auth login become sudo vault keystore store trust service account bind rabbitmq
    amqp mongo wifi proxy http basic client server master super default new old current
    confirm sa my web site git registry docker""".split()
)


def _head_class(word: str, before: str | None = None) -> str | None:
    if word == "pass" and before is not None and before not in _PASS_QUALIFIERS:
        return None
    if word in _PASSWORD_HEADS or word.endswith(("password", "passwd", "passphrase")):
        return "password"
    if word in _SECRET_HEADS or word.endswith(
        ("secret", "token", "apikey", "secretkey", "accesskey", "privatekey")
    ):
        return "secret"
    return None


@lru_cache(maxsize=4096)
def _name_words(name: str) -> tuple[str, ...]:
    words = [w.lower() for w in _NAME_WORD_RE.findall(name) if not w.isdigit()]
    while words and words[-1] in _FILLER_WORDS:
        words.pop()
    return tuple(words)


@lru_cache(maxsize=4096)
def _classify_name(name: str) -> str | None:
    """password or secret (by the last word), generic (a secret word elsewhere), or None."""
    words = _name_words(name)
    if not words:
        return None
    head = _head_class(words[-1], words[-2] if len(words) >= 2 else None)
    if head:
        return head
    if words[-1] == "key" and len(words) >= 2 and words[-2] in _KEY_QUALIFIERS:
        return "secret"
    if any(w in _GENERIC_WORDS or _head_class(w) for w in words):
        return "generic"
    return None


def _assignment_kind(
    name_class: str, v: str, quoted: bool, name_words: tuple[str, ...]
) -> str | None:
    """The kind for value `v` assigned to a name of this class, or None to leave it."""
    if _is_placeholder(v, name_words) or _PUBLISHABLE_RE.fullmatch(v):
        return None
    if quoted and _UPPER_SNAKE_RE.fullmatch(v) and name_class != "password":
        return None  # api_key_env = "OPENAI_API_KEY": the name of a variable
    if name_class == "password":
        if quoted and " " in v and v[0].isupper() and v.rstrip()[-1] in ".!?:":
            return None  # errors.password = "Use at least 12 characters.": a message
        return "password_assignment"
    v = v.removeprefix("django-insecure-")  # Django's generated keys say so
    if (name_class != "generic" and _credential_like(v)) or _looks_random(v):
        return "generic_secret_assignment"
    return None


_LONG_DIGITS_RE = re.compile(r"[0-9]{6}")
# Stripe's publishable keys ship in every checkout page: public by design, like a URL.
_PUBLISHABLE_RE = re.compile(r"pk_(?:live|test)_[A-Za-z0-9]{10,}")


def _credential_like(v: str) -> bool:
    """What an API key or token looks like: 8+ characters, no spaces, a digit, not just words
    (a run of six digits is no word: the letters beside it can read as English by chance)."""
    return (
        len(v) >= 8
        and not any(c.isspace() for c in v)
        and any(c.isdigit() for c in v)
        and sum(c.isalnum() for c in v) >= 0.6 * len(v)
        and (not _wordy(v) or _LONG_DIGITS_RE.search(v) is not None)
    )


# ---------------------------------------------------------------------------------------------
# Patterns
# ---------------------------------------------------------------------------------------------

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
    return not _is_filler(v)


#: OpenAI's key types (sk-proj-, sk-svcacct-, sk-admin-): a word before the random part, which
#: would count towards the word test.
_KEY_TYPES = ("proj-", "svcacct-", "admin-")


def _mixed(v: str) -> bool:
    body = v.split("-", 1)[1] if "-" in v else v
    if body.startswith(_KEY_TYPES):
        body = body.split("-", 1)[1]
    return _classes(body) >= 2 and not _is_filler(body) and not _wordy(body)


def _has_digit(v: str) -> bool:
    return any(c.isdigit() for c in v) and not _is_filler(v)


def _random_body(v: str) -> bool:
    return _classes(v) >= 2 and not _is_filler(v) and not _wordy(v)


_DISCORD_RE = re.compile(r"\.(?<=[A-Za-z0-9_-]{24}\.)[\w-]{6,7}\.[\w-]{27,40}(?![\w-])")
_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "_-")


def _discord_hits(text: str) -> Iterator[_Hit]:
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
            yield start, m.end(), _PRIORITY["discord_token"]


def _telegram(v: str) -> bool:
    # the secret is URL-safe base64, `-` anywhere in it: not a prefix to cut (as `_mixed` does)
    return _random_body(v.split(":", 1)[1])


def _after_prefix(v: str) -> bool:
    """The URL-safe body after a literal prefix that ends at the first `.` or `-` (hvs.,
    ya29., GOCSPX-): a `-` further on is part of the body."""
    cut = min(i for i in (v.find("."), v.find("-")) if i >= 0)
    return _random_body(v[cut + 1 :])


def _mailchimp(v: str) -> bool:
    return not _is_filler(v[:32]) and len(set(v[:32])) > 8


def _service_token(v: str) -> bool:
    return not _is_filler(v) and (not v.startswith("key-") or len(set(v[4:])) > 8)


def _random_after(head: int, tail: int = 0) -> _Check:
    """The body between a fixed-length prefix (gsk_, api_org_) and a fixed-length suffix (a
    checksum, which would make "0000..." look random) looks random: for a prefix an ordinary
    name could start with, and a body of mixed-case letters the word test can judge."""
    return lambda v: _random_body(v[head : len(v) - tail])


def _filled_after(head: int, tail: int = 0) -> _Check:
    """The body after a prefix no name starts with (NRAK-, dose) is no placeholder. Hex and
    upper-case bodies are not judged by the word test: "dadeeeeb" and "KISDENAD" read as words
    to it, and one key in a few hundred would be missed."""
    return lambda v: not _is_filler(v[head : len(v) - tail])


def _newrelic_ingest(v: str) -> bool:
    """The hex part of a license key (<hex>NRAL) or a mobile app token (AA<hex>-NRMA)."""
    body = v[2:-5] if v.endswith("-NRMA") else v[:-8]
    return not _is_filler(body) and len(set(body)) > 8


_PEM_LABEL = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_PEM_END = r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_NL = r"(?:(?:\\r)?\\n|\r?\n|[ \t])"
# Base64 lines and the headers of legacy encrypted PEM and PGP ("Proc-Type: 4,ENCRYPTED").
_PEM_BODY = r"(?:[A-Za-z0-9+/=\s:,.()@]|-(?!----)|\\[nr])"  # stops at the next -----

_TOKEN_PATTERNS: tuple[_Pattern, ...] = (
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
        "groq_key",
        re.compile(r"gsk_(?<![A-Za-z0-9_]gsk_)[A-Za-z0-9]{52}(?![\w-])"),
        check=_random_after(4),
        rare=True,
    ),
    _Pattern(
        "xai_key",
        re.compile(r"xai-(?<![\w-]xai-)[A-Za-z0-9_]{80}(?![\w-])"),
        check=_random_after(4),
        rare=True,
    ),
    _Pattern(
        "perplexity_key",
        re.compile(r"pplx-(?<![\w-]pplx-)[A-Za-z0-9]{48}(?![\w-])"),
        check=_random_after(5),
        rare=True,
    ),
    _Pattern(
        "replicate_token",
        re.compile(r"r8_(?<![A-Za-z0-9_]r8_)[A-Za-z0-9_-]{37}(?![\w-])"),
        check=_random_after(3),
        rare=True,
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
        re.compile(r"k_(?:live|test|prod)_(?<=(?<![A-Za-z0-9_])[sr]k_...._)[A-Za-z0-9]{16,}"),
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
        "huggingface_token",  # organisation tokens (api_org_): retired in 2023, still in old code
        re.compile(r"api_org_(?<![A-Za-z0-9_]api_org_)[A-Za-z0-9]{34}(?![A-Za-z0-9_])"),
        check=_random_after(8),
        rare=True,
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
        "databricks_token",  # a service principal's OAuth secret
        re.compile(r"dose(?<![\w]dose)[0-9a-f]{32}(?![\w])"),
        check=_filled_after(4),
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
    _Pattern(
        "newrelic_key",
        # user (NRAK), admin (NRAA), REST (NRRA), Insights insert/query (NRII/NRIQ), browser
        # (NRJS/NRBR) and synthetics private location (NRSP) keys, as New Relic's own scanner
        # (rusty-hog) knows them; Insights keys are 32 characters there, 25 in trufflehog's
        re.compile(
            r"NR(?<![\w-]NR)(?:AK-[A-Z0-9]{27}|AA-[0-9a-f]{27}|RA-[0-9a-f]{42}"
            r"|I[IQ]-[\w-]{25,32}|(?:JS|BR)-[0-9a-f]{19}|SP-[a-z]{2}\d{2}[0-9a-f]{31})(?![\w-])"
        ),
        check=_filled_after(5),
        rare=True,
    ),
    _Pattern(
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
    _Pattern(
        "newrelic_key",  # mobile app tokens
        re.compile(
            r"-NRMA(?<=(?<![\w-])(?:AA[0-9a-f]{40}|[a-z]{2}\d{2}xx[0-9a-f]{36})-NRMA)(?![\w-])"
        ),
        check=_newrelic_ingest,
        back=42,
        rare=True,
    ),
    # Pulumi, Atlassian, Grafana, Sentry, 1Password, LangSmith, Amazon Bedrock, Pinecone,
    # Heroku, Notion: (check of the body, pattern)
    *(
        _Pattern("service_token", re.compile(rx), check=check, rare=True)
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
        )
    ),
    _Pattern(
        "service_token",  # Twilio API keys; not rare: "SK" is in every TASK and DISK
        re.compile(r"SK(?<![\w-]SK)[0-9a-f]{32}(?![\w-])"),
        check=_filled_after(2),
    ),
    _Pattern(
        "service_token",  # ElevenLabs API keys; not rare: every task_ and disk_ holds sk_
        re.compile(r"sk_(?<![A-Za-z0-9_]sk_)[0-9a-f]{48}(?![\w-])"),
        check=_filled_after(3),
    ),
    *(
        _Pattern("service_token", re.compile(rx + r"(?![\w-])"), check=_service_token, rare=True)
        for rx in (  # Linear, Postman, Doppler, Mailgun
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

_AUTH_SCHEMES = frozenset({"bearer", "basic", "token", "digest", "negotiate", "ntlm"})
# These three run on the lower-cased text (same offsets); values are read from the original.
_BEARER_RE = re.compile(r"bearer(?<!\wbearer)[ \t]+(?P<v>[a-z0-9._~+/-]{8,}=*)(?![\w.~+/=-])")
_AUTH_HEADER_RE = re.compile(
    r"authorization(?<!\wauthorization)[\"']?\]?[ \t]*[:=][ \t]*[\"']?"
    r"(?:token[ \t]+)?(?P<v>[a-z0-9._~+/-]{8,}=*)(?![\w.~+/=-])"
)
_BASIC_RE = re.compile(r"basic(?<!\wbasic)[ \t]+(?P<v>[a-z0-9+/]{8,}={0,2})(?![\w+/=])")
_CURL_USER_RE = re.compile(
    r"(?<![\w-])(?:-u|--user)[ \t]+[\"']?[^\s:\"']+:(?P<v>'[^'\n]+'|\"[^\"\n]+\"|[^\s\"']+)"
)
# user:password@host: the password may hold any character but a space or a quote (a raw '#'
# or '/' included); it ends at the '@' that a host and a delimiter follow.
_CONN_RE = re.compile(
    r"://(?P<user>[^\s:/?#@'\"<>`]*):(?P<pw>[^\s'\"<>`]*?)@"
    r"(?=[\w\[][\w.\[\]%-]*(?::\d+)?(?:[/?#,;)\s'\"<>`]|$))"
)

# Assignments are found from their keyword outwards: the keyword search runs on the lower-cased
# text (str.find, as the alternation pass|pw|... would match), then the name is widened to its
# identifier and the rest of the assignment is matched in place.
_KEYWORDS = ("pass", "pw", "secret", "token", "key", "cred")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.$-")
_NAME_TAIL_RE = re.compile(r"[\w.$-]*")
_MAX_NAME = 96  # longer runs of name characters are data (base64, minified code), not names
_CUT_RE = re.compile(r"[,;)}\]]")
_PARAM_CUT_RE = re.compile(r"[,;)}\]&]")
_VALUE = r"""
    (?P<value>
        [bBrRuUfF]{0,2}"(?:[^"\\\n]|\\.){0,4096}"
      | [bBrRuUfF]{0,2}'(?:[^'\\\n]|\\.){0,4096}'
      | `[^`\n]{0,4096}`
      | \\"(?:[^"\\\n]|\\[^"\n]){0,4096}\\"
      | [^\s"'`]{1,1024}
    )"""
_ASSIGN_TAIL_RE = re.compile(
    rf"""
    (?P<rq>\\?["'`])?
    \]?
    (?:
        [ \t]*:[ \t]*[A-Za-z_][\w.\[\], |]*?[ \t]*(?P<aop>=)(?![=>~])[ \t]*
      | (?P<sp1>[ \t]*)(?P<op>:=|=>|===?|!==?|=|:)(?P<sp2>[ \t]*)
    )
    {_VALUE}
    """,
    re.X,
)
_CLI_TAIL_RE = re.compile(r"""[ \t]+(?P<value>"[^"\n]*"|'[^'\n]*'|[^\s"'`-][^\s"'`]*)""")
_XML_RE = re.compile(
    r"<(?P<name>[\w:.-]*?(?i:pass|pwd|secret|token|key|cred)[\w:.-]*)(?:\s[^<>]*)?>"
    r"(?P<value>[^<>\n]+)</(?P=name)>"
)
_GCP_RE = re.compile(r"\"private_key(?:_id)?\"\s*:\s*\"(?P<v>(?:[^\"\\]|\\.)+)\"")
_AWS_SECRET_VALUE_RE = re.compile(r"[A-Za-z0-9/+]{40}")

_ENV_PREFIXES = frozenset({"", "export", "set", "setx", "env", "arg", "local", "readonly"})
# Tokens after which NAME=value sets a variable of a command or a container (-e X=y), or one
# more field of a logfmt line (user=app password=...).
_ENV_FLAGS = frozenset({"-", "-e", "--env", "--build-arg", "--set", "--set-string", "-var"})
_INI_SECTION_RE = re.compile(r"(?m)^[ \t]*\[[\w .:\"'/-]+\][ \t]*$")
# Other shapes of "this name, that value".
_PAIR_TAIL_RE = re.compile(  # define('DB_PASSWORD', 'x'), setdefault("TOKEN", "x")
    r"""(?P<rq>["'])[ \t]*,[ \t]*(?P<value>"(?:[^"\\\n]|\\.){1,1024}"|'(?:[^'\\\n]|\\.){1,1024}')"""
)
_ATTR_TAIL_RE = re.compile(  # <add key="DbPassword" value="x" />
    r"""(?P<rq>["'])[ \t]+value[ \t]*=[ \t]*(?P<value>"[^"\n]{0,1024}"|'[^'\n]{0,1024}')"""
)
_K8S_TAIL_RE = re.compile(  # - name: DB_PASSWORD \n  value: x
    r"[ \t]*\r?\n[ \t]*(?:-[ \t]*)?value[ \t]*:[ \t]*(?P<value>[^\n]{1,1024})"
)
_CALL_TAIL_RE = re.compile(  # setPassword("x"), .password('x')
    r"""\([ \t]*(?P<value>"(?:[^"\\\n]|\\.){1,1024}"|'(?:[^'\\\n]|\\.){1,1024}')[ \t]*[),]"""
)
_SQL_TAIL_RE = re.compile(r"""[ \t]+(?P<value>'[^'\n]{1,512}'|"[^"\n]{1,512}")""")  # PASSWORD 'x'
_SQL_BEFORE_RE = re.compile(r"(?i)\b(?:with|encrypted|unencrypted|set)[ \t]+$")
_SETTERS = frozenset("set with use put update change reset".split())
_URL_PARAM_CUT_RE = re.compile(r"[&#\s\"'<>`]")
_ADO_CUT_RE = re.compile(r"[;\"'\s]")


def _paren_depth(prefix: str) -> int:
    return prefix.count("(") - prefix.count(")")


def _env_context(prefix: str) -> bool:
    """NAME=value here sets a variable (shell, .env, docker -e, logfmt), not a keyword argument."""
    if _paren_depth(prefix) > 0:
        return False
    tokens = prefix.split()
    if not tokens:
        return True
    last = re.sub(r"^[a-z]{0,2}[\"'`]", "", tokens[-1].lower())  # f"export X=...
    return last in _ENV_PREFIXES or last in _ENV_FLAGS or ("=" in last and "==" not in last)


def _code_before(text: str, line_start: int) -> bool:
    """The line before opens or continues code (an object literal, a call's arguments)."""
    prev = text[max(0, line_start - 512) : max(0, line_start - 1)].rstrip()
    return prev.endswith(("{", ",", "(", "[", ";", "=>"))


def _in_ini(text: str, pos: int) -> bool:
    """An INI section header ([database]) comes earlier: `key = value` lines are literal."""
    return _INI_SECTION_RE.search(text, max(0, pos - 4096), pos) is not None


def _plain_word(v: str) -> bool:
    """An ordinary word (Passwort, required), not a chosen password."""
    return v.isalpha() and (len(v) < 6 or (v.islower() or v.istitle()) and _wordy(v))


def _line_prefix(text: str, pos: int, limit: int = 256) -> str:
    """The text before `pos` on its line, at most `limit` characters of it."""
    lo = max(0, pos - limit)
    newline = text.rfind("\n", lo, pos)
    return text[newline + 1 if newline >= 0 else lo : pos]


def _quoted_span(raw: str, start: int) -> tuple[int, int, bool] | None:
    """(inner start, inner end, is an f-string) when `raw` is a quoted literal."""
    if raw.startswith('\\"'):
        return start + 2, start + len(raw) - 2, False
    i = 0
    while i < len(raw) and raw[i] in "bBrRuUfF":
        i += 1
    if i < len(raw) and raw[i] in "\"'`" and len(raw) >= i + 2 and raw[-1] == raw[i]:
        return start + i + 1, start + len(raw) - 1, "f" in raw[:i].lower()
    return None


def _assignment_hits(text: str, lowered: str) -> Iterator[_Hit]:
    name_end = -1
    for k_start, k_end in _scan.keyword_spans(lowered, _KEYWORDS):
        if k_start < name_end:
            continue  # a second keyword in the same name (secret_key)
        start = k_start
        floor = max(0, start - _MAX_NAME)
        while start > floor and text[start - 1] in _NAME_CHARS:
            start -= 1
        tail = _NAME_TAIL_RE.match(text, k_end)
        name_end = tail.end() if tail else k_end
        if name_end - start >= _MAX_NAME or (
            start == floor and start and text[start - 1] in _NAME_CHARS
        ):
            continue
        name = text[start:name_end]
        name_class = _classify_name(name)
        if name_class is None:
            continue
        m = _ASSIGN_TAIL_RE.match(text, name_end)
        if m is not None:
            hit = _assignment_value(text, m, start, name, name_class)
        elif name.startswith("-"):
            hit = _cli_value(text, name_end, name, name_class)
        else:
            hit = _other_value(text, start, name_end, name, name_class)
        if hit is not None:
            yield hit


def _other_value(text: str, start: int, name_end: int, name: str, name_class: str) -> _Hit | None:
    """A value paired with a secret's name without an assignment operator."""
    before = text[start - 1] if start else "\n"
    words = _name_words(name)
    m: re.Match[str] | None = None
    if before in "\"'":
        m = _PAIR_TAIL_RE.match(text, name_end) or _ATTR_TAIL_RE.match(text, name_end)
        if m is not None and m.group("rq") != before:
            m = None
    elif text.startswith("(", name_end):
        if len(words) == 1 or words[-2] in _SETTERS:
            m = _CALL_TAIL_RE.match(text, name_end)
    elif text.startswith(("\n", "\r\n"), name_end) or text.startswith((" \n", "\t\n"), name_end):
        if re.search(r"name[ \t]*:[ \t]*$", _line_prefix(text, start)):
            m = _K8S_TAIL_RE.match(text, name_end)
            if m is not None:
                return _config_value(text, m.start("value"), m.group("value"), words, name_class)
        return None
    elif name.lower() == "password" and _SQL_BEFORE_RE.search(_line_prefix(text, start)):
        m = _SQL_TAIL_RE.match(text, name_end)
    if m is None:
        return None
    raw = m.group("value")
    s, e = m.start("value") + 1, m.end("value") - 1
    v = raw[1:-1]
    if name_class == "password" and (_plain_word(v) or any(c.isspace() for c in v)):
        return None
    if _UPPER_SNAKE_RE.fullmatch(v) or _names_a_secret(v):
        return None  # ("DB_PASSWORD", "STRIPE_KEY"): a list of names
    kind = _assignment_kind(name_class, v, True, words)
    return None if kind is None else (s, e, _PRIORITY[kind])


def _config_value(
    text: str, vs: int, rest: str, words: tuple[str, ...], name_class: str
) -> _Hit | None:
    """A YAML-style value (the rest of the line): literal unless a template or keyword."""
    hash_at = re.search(r"\s#", rest)
    v = (rest[: hash_at.start()] if hash_at else rest).rstrip()
    q = _quoted_span(v, vs) if v[:1] in "\"'" else None
    if q is not None:
        s, e, _ = q
        v = text[s:e]
    elif not v or any(c.isspace() for c in v) or _is_reference(v, words, code=False):
        return None
    else:
        s, e = vs, vs + len(v)
    kind = _assignment_kind(name_class, v, q is not None, words)
    return None if kind is None else (s, e, _PRIORITY[kind])


def _assignment_value(
    text: str, m: re.Match[str], start: int, name: str, name_class: str
) -> _Hit | None:
    words = _name_words(name)
    raw = m.group("value")
    vs = m.start("value")
    q = _quoted_span(raw, vs)
    before = text[start - 1] if start else "\n"
    param = before in "?&;"
    if q is not None:
        s, e, fstring = q
        v = text[s:e]
        if fstring and "{" in v:
            return None
        if v.endswith(("-", "_")) and text[e + 1 : e + 4].lstrip().startswith("+"):
            return None  # "sk-ant-api03-" + body: a prefix a value is built from
        quoted = True
    else:
        quoted = False
        op = m.group("op") or "="
        lq = before if before in "\"'`" else ""
        line_prefix = _line_prefix(text, start - len(lq))
        prefix = line_prefix.strip()
        spaced = bool(m.group("sp1") or m.group("sp2") or m.group("aop"))
        s = vs
        if op in ("==", "===", "=>") and not spaced and _env_context(line_prefix):
            # PASSWORD==x9... / PASSWORD=>x9...: a value that starts with '=' or '>'
            s, raw, op = m.start("op") + 1, op[1:] + raw, "="
        if op in ("==", "===", "!=", "!=="):
            return None  # token == bos_token_id: a comparison with code
        code = True  # is the right-hand side code (where names are variables)?
        if param:
            code = False
            stop = (_URL_PARAM_CUT_RE if before in "?&" else _ADO_CUT_RE).search(raw)
            v = raw[: stop.start()] if stop else raw
        elif op == ":" and prefix in ("", "-") and not m.group("aop"):
            rest = text[vs : vs + 1024].split("\n", 1)[0]
            hash_at = re.search(r"\s#", rest)
            v = (rest[: hash_at.start()] if hash_at else rest).rstrip()
            if v.endswith((",", ";", "{", "(")) and not _symbol_heavy_random(v):
                return None  # an object literal or a declaration in code, not YAML
            if any(c.isspace() for c in v):
                return None  # "password: The password part of the URL." is prose
            code = _code_before(text, start - len(line_prefix))
        elif (
            op == "="
            and not spaced
            and not raw.endswith((",", ")"))
            and (name.startswith("-") or _env_context(line_prefix[: len(line_prefix) - len(lq)]))
        ):
            code = False  # .env, shell, docker -e, logfmt, --password=: no variables here
            v = raw
            if v.endswith(";") and text[s + len(raw) : s + len(raw) + 1] == " ":
                v = v.rstrip(";")  # PASSWORD=hunter2; echo done
        elif op == "=" and spaced and prefix == "" and _in_ini(text, start):
            code = False
            v = raw
        else:
            if _is_template(raw):
                return None  # f"SECRET_KEY={TOKEN}": a field of a format string
            stop = _CUT_RE.search(raw)
            v = raw[: stop.start()] if stop else raw
            if op == ":" and not param:
                # "X-Api-Key: value" inside a quoted header string; otherwise code or prose
                if not (lq and text[s + len(v) : s + len(v) + 1] == lq and not m.group("rq")):
                    return None
        if not v or "[REDACTED:" in v:
            return None
        if code and re.split(r"\W+", v, maxsplit=1)[0].lower() in _TYPE_WORDS:
            return None  # password: str | None
        if _is_reference(v, words, code):
            return None
        e = s + len(v)
    if (
        _AWS_SECRET_VALUE_RE.fullmatch(v)
        and "secret" in words
        and ("aws" in words or "access" in words)
        and not _is_filler(v)
    ):
        return s, e, _PRIORITY["aws_secret_key"]
    kind = _assignment_kind(name_class, v, quoted, words)
    if kind is None:
        return None
    return s, e, _PRIORITY["connection_string_password" if param else kind]


def _cli_value(text: str, name_end: int, name: str, name_class: str) -> _Hit | None:
    """``--password value``: a flag followed by its value."""
    m = _CLI_TAIL_RE.match(text, name_end)
    if m is None:
        return None
    words = _name_words(name)
    raw = m.group("value")
    s = m.start("value")
    if raw[0] in "\"'":
        s, v = s + 1, raw[1:-1]
    else:
        v = raw
        if _is_reference(v, words, code=False) or _plain_word(v):
            return None  # "use --password option": prose, not a value
    kind = _assignment_kind(name_class, v, raw[0] in "\"'", words)
    return None if kind is None else (s, s + len(v), _PRIORITY[kind])


def _xml_hits(text: str) -> Iterator[_Hit]:
    for m in _XML_RE.finditer(text):
        name_class = _classify_name(m.group("name"))
        if name_class is None:
            continue
        raw = m.group("value")
        v = raw.strip()
        s = m.start("value") + (len(raw) - len(raw.lstrip()))
        kind = _assignment_kind(name_class, v, True, _name_words(m.group("name")))
        if kind is not None:
            yield s, s + len(v), _PRIORITY[kind]


def _auth_hits(text: str, lowered: str) -> Iterator[_Hit]:
    if "bearer" in lowered:
        for m in _BEARER_RE.finditer(lowered):
            s, e = m.span("v")
            v = text[s:e]
            if v.lower() in _AUTH_SCHEMES or _is_placeholder(v):
                continue
            in_header = "auth" in _line_prefix(lowered, m.start())
            if _looks_random(v) or (in_header and not _wordy(v) and not v.isalpha()):
                yield s, e, _PRIORITY["bearer_token"]
    if "authoriz" in lowered:
        for m in _AUTH_HEADER_RE.finditer(lowered):
            s, e = m.span("v")
            v = text[s:e]
            if v.lower() in _AUTH_SCHEMES or _is_placeholder(v) or _is_reference(v, ()):
                continue
            if _looks_random(v, 12):
                yield s, e, _PRIORITY["bearer_token"]
    if "basic" in lowered:
        for m in _BASIC_RE.finditer(lowered):
            s, e = m.span("v")
            v = text[s:e]
            if "auth" not in _line_prefix(lowered, m.start()) or _is_placeholder(v):
                continue
            if not _wordy(v):
                yield s, e, _PRIORITY["basic_auth"]
    if "curl" in lowered:
        for m in _CURL_USER_RE.finditer(text):
            if "curl" not in _line_prefix(lowered, m.start()):
                continue
            s, e = m.span("v")
            if text[s] in "'\"":
                s, e = s + 1, e - 1
            v = text[s:e]
            if not _is_placeholder(v) and not v.startswith("$"):
                yield s, e, _PRIORITY["basic_auth"]


# ---- passwords without an assignment: prose, commands, SQL, line formats ----------------------

# On the lower-cased text. "the prod db password is X", "password for staging: X".
_PROSE_RE = re.compile(
    r"p(?:assword|asswd|assphrase|asscode|w)(?:[ \t]+(?:for|of|on|to|at)[ \t]+"
    r"[\w.@:/-]{1,64}){0,2}[ \t]+(?P<op>is|was|will be|should be|=|:|->)[ \t]+[\"'`]?"
    r"(?P<v>[^\s\"'`]{3,256})"
)
_SQL_IDENTIFIED_RE = re.compile(
    r"identified[ \t]+by[ \t]+(?:password[ \t]+)?(?P<v>'[^'\n]+'|\"[^\"\n]+\")"
)
_SECURESTRING_RE = re.compile(
    r"convertto-securestring[ \t]+(?:-string[ \t]+)?(?P<v>'[^'\n]+'|\"[^\"\n]+\")"
)
_NETRC_RE = re.compile(
    r"(?m)^[ \t]*(?:(?:machine|default|login)\b[^\n]*?[ \t])?password[ \t]+(?P<v>\S+)[ \t]*"
    r"(?:$|[ \t](?=machine|login|account|macdef|default))"
)
_PGPASS_HINT_RE = re.compile(r":(?:\d{1,5}|\*):[^\s:]+:[^\s:]+:")
_PGPASS_RE = re.compile(
    r"(?m)^[^\s:#][^\s:]*:(?:\d{1,5}|\*):[^\s:]+:[^\s:]+:(?P<v>(?:[^\s:\\]|\\.)+)[ \t]*\r?$"
)
# Commands that take a password as a flag's value.
_COMMAND_RE = re.compile(
    r"(?P<cmd>mysql\w*|mariadb\w*|sshpass|docker|podman|nerdctl|helm|oc|cf|redis-cli|mongo\w*)"
    r"(?![\w-])"
)
_FLAG_VALUE = r"(?P<v>'[^'\n]+'|\"[^\"\n]+\"|[^\s'\"-][^\s'\"]*)"
_COMMAND_FLAGS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("mysql", re.compile(r"[ \t]-p" + _FLAG_VALUE.replace("[^\\s'\"-]", "[^\\s'\"]"))),
    ("mariadb", re.compile(r"[ \t]-p" + _FLAG_VALUE.replace("[^\\s'\"-]", "[^\\s'\"]"))),
    ("sshpass", re.compile(r"[ \t]-p[ \t]*" + _FLAG_VALUE)),
    ("redis-cli", re.compile(r"[ \t]-a[ \t]+" + _FLAG_VALUE)),
    ("mongo", re.compile(r"[ \t]-p[ \t]+" + _FLAG_VALUE)),
    ("login", re.compile(r"[ \t]-p[ \t]+" + _FLAG_VALUE)),  # docker/podman/helm/oc/cf login
)


_FLAG_RE = re.compile(r"-(?<=[ \t]-)[pa]")  # " -p", "\t-a"... from the dash (one scan, not four)


def _command_words(lowered: str) -> Iterator[re.Match[str]]:
    """The command names on lines that pass -p or -a (few lines do)."""
    starts = {lowered.rfind("\n", 0, f.start()) + 1 for f in _FLAG_RE.finditer(lowered)}
    for start in sorted(starts):
        end = lowered.find("\n", start)
        yield from _COMMAND_RE.finditer(lowered, start, end if end >= 0 else len(lowered))


def _names_a_secret(v: str) -> bool:
    """An identifier or attribute chain naming a secret (user.password, STRIPE_KEY)."""
    return _CODE_EXPR_RE.fullmatch(v) is not None and any(w in v.lower() for w in _REFERENCE_WORDS)


def _literal_password(v: str, *, code: bool = False) -> bool:
    """A value that is a password someone chose, not a word, a template or a reference."""
    if _is_placeholder(v, ("password",)) or _plain_word(v):
        return False
    if v[0] == "$" or _is_reference(v, ("password",), code=code):
        return False
    return True


def _unquoted(text: str, s: int, e: int) -> tuple[int, int]:
    if e - s >= 2 and text[s] in "'\"" and text[e - 1] == text[s]:
        return s + 1, e - 1
    return s, e


def _phrase_hits(text: str, lowered: str) -> Iterator[_Hit]:
    prio = _PRIORITY["password_assignment"]
    if "pass" in lowered or "pw" in lowered:
        for m in _PROSE_RE.finditer(lowered):
            if m.start() and (lowered[m.start() - 1].isalnum() or lowered[m.start() - 1] in "_-"):
                continue  # inside a longer name (bypass is, pw_hash:)
            s, e = m.span("v")
            v = text[s:e]
            after = text[e : e + 2]
            if v[-1] in ".,;:)" and (not after.strip() or after[1:2].isupper()):
                v = v.rstrip(".,;:)")  # the end of a sentence
                e = s + len(v)
            if not v or _names_a_secret(v):
                continue  # "password is user.password": code, or a sentence about one
            if _plain_word(v.rstrip(".,;:)!?")):
                continue  # "(required if password is set)"
            if _literal_password(v, code=m.group("op") in ("=", ":", "->")):
                yield s, e, prio
    if "identified" in lowered:
        for m in _SQL_IDENTIFIED_RE.finditer(lowered):
            s, e = _unquoted(text, *m.span("v"))
            if not _is_placeholder(text[s:e], ("password",)):
                yield s, e, prio
    if "convertto-securestring" in lowered:
        for m in _SECURESTRING_RE.finditer(lowered):
            s, e = _unquoted(text, *m.span("v"))
            if not _is_placeholder(text[s:e], ("password",)):
                yield s, e, prio
    if "machine " in lowered and "password" in lowered:
        for m in _NETRC_RE.finditer(lowered):
            s, e = m.span("v")
            if _literal_password(text[s:e]):
                yield s, e, prio
    if _PGPASS_HINT_RE.search(text):
        for m in _PGPASS_RE.finditer(text):
            s, e = m.span("v")
            if _literal_password(text[s:e]):
                yield s, e, prio
    for m in _command_words(lowered):
        if m.start() and (lowered[m.start() - 1].isalnum() or lowered[m.start() - 1] in "_./-"):
            continue
        end = text.find("\n", m.end())
        line = lowered[m.end() : end if end >= 0 else len(text)]
        cmd = m.group("cmd")
        for family, flag_re in _COMMAND_FLAGS:
            if not cmd.startswith(family) and not (family == "login" and " login" in line):
                continue
            if family == "login" and cmd not in ("docker", "podman", "nerdctl", "helm", "oc", "cf"):
                continue
            for f in flag_re.finditer(line):
                s, e = _unquoted(text, m.end() + f.start("v"), m.end() + f.end("v"))
                if _literal_password(text[s:e]):
                    yield s, e, prio
            break


# ---- high-entropy values under any name -----------------------------------------------------

# A machine-made secret assigned to a name that says nothing ("k": "0bK50BApl3...", signing:
# ZTzhzJTAh...): 20+ characters with lower, upper and digits, no words, high entropy.
_RUN = r"[ \t]*[\"'`]?(?P<v>[A-Za-z0-9+/_~-]{20,512}+={0,2})"
_RUN_RES = (re.compile(":" + _RUN), re.compile("=" + _RUN))  # [:=]: see merged_matches
_NEUTRAL_OP_RE = re.compile(
    r"(?P<name>[A-Za-z_][\w.-]{0,63})[\"']?\]?[ \t]*(?<![=!<>])(?::=|=>|=|:)[ \t]*$"
)
# Names of values that are random by nature and not secret.
_NEUTRAL_SKIP = frozenset(
    """sha sha1 sha256 sha384 sha512 md5 hash hashes digest checksum integrity etag fingerprint
    uuid guid id ids commit revision rev version oid nonce data image img src href url uri path
    file name example sample test fixture expected hint icon svg font base64 encoded payload
    cursor ref label title message msg text content body alt pattern regex style bytes
    signature sig n e x y kid x5t x5c modulus exponent public""".split()
)


def _high_entropy(v: str) -> bool:
    if v.islower() or v.isupper() or _DIGIT_RE.search(v) is None or v.startswith("//"):
        return False  # most long runs in code: snake_case, paths, CONSTANT_NAMES, ://hosts
    if len(v) < 20 or _classes(v) < 3 or _is_filler(v) or _PUBLISHABLE_RE.fullmatch(v):
        return False
    upper = sum(c.isupper() for c in v)
    lower = sum(c.islower() for c in v)
    if min(upper, lower) < 2 or _wordy(v):
        return False
    return _entropy(v) >= min(4.0, math.log2(len(v)) - 0.5)


def _neutral_hits(text: str) -> Iterator[_Hit]:
    prio = _PRIORITY["high_entropy_string"]
    for m in _scan.merged_matches(*_RUN_RES, text):
        v = m.group("v")
        if not _high_entropy(v):
            continue
        s, e = m.span("v")
        q = text[s - 1] if s and text[s - 1] in "\"'`" else ""
        if q and text[e : e + 1] != q:
            continue
        a = _NEUTRAL_OP_RE.search(text, max(0, s - len(q) - 96), s - len(q))
        if a is None:
            continue
        words = _NAME_WORD_RE.findall(a.group("name"))
        if any(w.lower() in _NEUTRAL_SKIP for w in words):
            continue
        yield s, e, prio


def _connection_hits(text: str) -> Iterator[_Hit]:
    for m in _CONN_RE.finditer(text):
        pw = m.group("pw")
        if not pw or _is_connection_placeholder(pw):
            continue
        yield m.start("pw"), m.end("pw"), _PRIORITY["connection_string_password"]


def _is_connection_placeholder(pw: str) -> bool:
    if "[REDACTED" in pw or _TEMPLATE_RE.search(pw) or (pw[0] == "<" and pw[-1] == ">"):
        return True
    if pw.lower() in _PLACEHOLDER_WORDS:
        return True  # postgres://user:pass@host in documentation
    return _is_filler(pw) and len(pw) > 2 or bool(_PLACEHOLDER_SUBSTR_RE.search(pw.lower()))


def _gcp_hits(text: str) -> Iterator[_Hit]:
    for m in _GCP_RE.finditer(text):
        if not _is_filler(m.group("v")):
            yield m.start("v"), m.end("v"), _PRIORITY["gcp_service_account"]


def _pattern_hits(text: str) -> Iterator[_Hit]:
    if not _scan.may_hold_token(text):
        return
    rare = _scan.may_hold_rare_token(text)
    for p in _TOKEN_PATTERNS:
        if p.rare and not rare:
            continue
        prio = _PRIORITY[p.kind]
        for m in p.regex.finditer(text):
            start, end = m.span(p.group)
            if p.check is None or p.check(text[start - p.back : end]):
                yield start - p.back, end, prio


def _hits(text: str) -> Iterator[_Hit]:
    """Every detector's hits in `text`, markers or not."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters lower-case to two (İ): keep offsets
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    yield from _pattern_hits(text)
    if "." in text:
        yield from _discord_hits(text)
    if '"private_key' in text and "service_account" in text:
        yield from _gcp_hits(text)
    yield from _assignment_hits(text, lowered)
    if "</" in text:
        yield from _xml_hits(text)
    yield from _auth_hits(text, lowered)
    if "://" in text and "@" in text:
        yield from _connection_hits(text)
    yield from _phrase_hits(text, lowered)
    yield from _neutral_hits(text)


def _marker_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _MARKER_RE.finditer(text)] if "[REDACTED:" in text else []


def _detect(text: str) -> list[_Hit]:
    """Every secret in `text` (unmerged), ignoring anything overlapping a marker."""
    hits = list(_hits(text))
    if not hits:
        return hits
    markers = _marker_spans(text)
    if markers:
        hits = _outside(hits, markers)
    hits.extend(_echo_hits(text, hits))
    return _outside(hits, markers) if markers else hits


def _outside(hits: list[_Hit], spans: list[tuple[int, int]]) -> list[_Hit]:
    """The hits that overlap none of these sorted, disjoint spans."""
    starts = [s for s, _ in spans]
    kept = []
    for hit in hits:
        i = bisect_right(starts, hit[1] - 1) - 1  # the last span starting before the hit ends
        if i < 0 or spans[i][1] <= hit[0]:
            kept.append(hit)
    return kept


def _echo_hits(text: str, hits: list[_Hit]) -> Iterator[_Hit]:
    """Other verbatim occurrences of secrets already found."""
    seen: dict[str, int] = {}
    for s, e, prio in hits:
        if e - s >= _ECHO_MIN:
            secret = text[s:e]
            if prio >= _PRIORITY["connection_string_password"] and not _distinctive(secret):
                continue  # a word-like password: too likely to be ordinary text elsewhere
            seen[secret] = min(prio, seen.get(secret, prio))
    for secret, prio in seen.items():
        i = text.find(secret)
        while i >= 0:
            yield i, i + len(secret), prio
            i = text.find(secret, i + 1)


def _distinctive(v: str) -> bool:
    """Unlikely to occur by chance in ordinary text: no spaces, and a digit or a symbol."""
    return not any(c.isspace() for c in v) and any(
        c.isdigit() or not (c.isalpha() or c == "_") for c in v
    )


def _merge(hits: list[_Hit]) -> list[_Hit]:
    merged: list[_Hit] = []
    for s, e, prio in sorted(hits):
        if merged and s < merged[-1][1]:
            ps, pe, pp = merged[-1]
            merged[-1] = (ps, max(pe, e), min(pp, prio))
        else:
            merged.append((s, e, prio))
    return merged


def _render(text: str, spans: list[_Hit]) -> tuple[str, list[tuple[int, int, int]]]:
    """The redacted text and its copied segments: (start in output, end in output, start)."""
    out: list[str] = []
    segments: list[tuple[int, int, int]] = []
    pos = 0
    length = 0
    for s, e, prio in spans:
        if s > pos:
            out.append(text[pos:s])
            segments.append((length, length + s - pos, pos))
            length += s - pos
        m = _MARKERS[prio]
        out.append(m)
        length += len(m)
        pos = e
    if pos < len(text):
        out.append(text[pos:])
        segments.append((length, length + len(text) - pos, pos))
    return "".join(out), segments


class _Recent:
    """The results for texts redacted lately, up to a number of characters in all. The same
    chunk of code is handed out by many searches, and its redaction depends on its text
    alone; the lock keeps it sound when redactions run in worker threads."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self._results: OrderedDict[str, RedactionResult] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, text: str) -> RedactionResult | None:
        with self._lock:
            result = self._results.get(text)
            if result is not None:
                self._results.move_to_end(text)
            return result

    def put(self, text: str, result: RedactionResult) -> None:
        size = len(text) + (len(result.text) if result.redactions else 0)
        if size > self.max_chars // 64:  # a large one-off (a pasted log) would evict the rest
            return
        with self._lock:
            if text in self._results:
                return
            self._results[text] = result
            self._chars += size
            while self._chars > self.max_chars:
                old, dropped = self._results.popitem(last=False)
                self._chars -= len(old) + (len(dropped.text) if dropped.redactions else 0)

    def clear(self) -> None:
        with self._lock:
            self._results.clear()
            self._chars = 0


# About 8 MB of text: a few thousand chunks, the working set of a session's searches.
_RECENT = _Recent(max_chars=8_000_000)


def redact(text: str, known: Mapping[str, str] | None = None) -> RedactionResult:
    """Replace every secret in `text` by ``[REDACTED:<kind>]`` (see the module docstring).

    `known` maps secrets already found elsewhere (in another message of the same request) to
    their kind: each verbatim occurrence in `text` is redacted too."""
    if known:
        return _redact(text, known)
    result = _RECENT.get(text)
    if result is None:
        result = _redact(text, None)
        _RECENT.put(text, result)
    return result


def finds_secret(text: str) -> bool:
    """`redact(text)` would hide something. Not cached: for a caller that checks every text
    once (the index), whose texts would only evict the ones searches hand out again. Stops at
    the first hit outside a marker: `_detect` keeps those (repeats only add to them)."""
    markers = _marker_spans(text)
    return any(not markers or _outside([hit], markers) for hit in _hits(text))


def _redact(text: str, known: Mapping[str, str] | None) -> RedactionResult:
    hits = _detect(text)
    if known:
        for value, kind in known.items():
            i = text.find(value)
            while i >= 0:
                hits.append((i, i + len(value), _PRIORITY[kind]))
                i = text.find(value, i + 1)
    if not hits:
        return RedactionResult(text, ())
    spans = _merge(hits)
    out, segments = _render(text, spans)
    for _ in range(_MAX_PASSES):
        # A secret can hide next to another (a lookbehind saw a letter where a marker is now):
        # scan the output again until it is stable, mapping new finds back to the original.
        extra = _detect(out)
        if not extra:
            break
        starts = [seg[0] for seg in segments]
        mapped: list[_Hit] = []
        for s, e, prio in extra:
            i = bisect_right(starts, s) - 1
            if i >= 0 and e <= segments[i][1]:
                shift = segments[i][2] - segments[i][0]
                mapped.append((s + shift, e + shift, prio))
        if not mapped:
            break
        spans = _merge(spans + mapped)
        out, segments = _render(text, spans)
    return RedactionResult(out, tuple(Redaction(KINDS[p], s, e) for s, e, p in spans))


class RedactingFilter(logging.Filter):
    """Redacts every log record's message, traceback and stack: install it on a handler, and
    a secret that reaches a log line (a library's debug output, an error quoting its input)
    is hidden there too."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        result = redact(message)
        if result.redactions:
            record.msg, record.args = result.text, None
        # A formatter appends `exc_text` as it finds it (formatting the exception only when
        # there is none yet) and `stack_info` as it is: both are set here, redacted.
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text).text
        if record.stack_info:
            record.stack_info = redact(record.stack_info).text
        return True
