"""Find secrets in text bound for a paid model provider and replace them with markers.

Everything OCP sends to a paid provider (Anthropic, OpenAI) goes through `redact` first, so a
secret never leaves the machine by accident. Each secret is replaced by ``[REDACTED:<kind>]``;
the result keeps the offsets (into the original text) and kind of every redaction.

What is detected (the kind is in brackets):

- PEM private keys, the whole BEGIN..END block: RSA, EC, DSA, OPENSSH, PGP, ENCRYPTED, PKCS#8
  (``private_key``); a block with no END line is redacted through its base64 lines. The
  ``"private_key"``/``"private_key_id"`` fields of a GCP service-account JSON
  (``gcp_service_account``).
- Provider tokens recognised by their prefix and shape, wherever they appear: AWS access key ids
  AKIA/ASIA/ABIA/ACCA (``aws_access_key``), AWS secret access keys assigned to an
  ``aws_secret_access_key``-like name (``aws_secret_key``), GitHub ghp_/gho_/ghu_/ghs_/ghr_/
  github_pat_ (``github_token``), GitLab glpat- (``gitlab_token``), Anthropic sk-ant-
  (``anthropic_key``), OpenAI sk-/sk-proj- (``openai_key``), Slack xox?-/xapp- (``slack_token``)
  and webhook URLs (``slack_webhook``, the host is kept), Stripe sk_live_/rk_live_/sk_test_/
  whsec_ (``stripe_key``), Google AIza (``google_api_key``), SendGrid (``sendgrid_key``),
  Hugging Face hf_ (``huggingface_token``), npm_ (``npm_token``), pypi-Ag (``pypi_token``),
  Azure storage AccountKey/SharedAccessKey, SAS ``sig=`` and AAD client secrets (``azure_key``),
  JWTs: three base64url segments, the header starting ``eyJ`` (``jwt``).
- HTTP credentials: ``Authorization: Bearer <token>`` and other bearer tokens that look random
  (``bearer_token``); ``Authorization: Basic ...`` and ``curl -u user:pass`` (``basic_auth``,
  the user is kept).
- Connection strings with credentials: ``postgres://user:pass@host`` keeps the scheme, user and
  host and redacts only the password; ``?password=``/``&token=`` URL parameters and
  ``;Password=`` ADO/ODBC fields likewise (``connection_string_password``).
- Assignments in code and config: ``password = "..."``, ``PASSWORD: ...`` (YAML),
  ``"api_key": "..."`` (JSON), ``'token' => '...'``, ``export SECRET_KEY=...``, .env
  ``DB_PASSWORD=...``, ``--password ...`` flags, ``<password>...</password>``. Only the value
  is redacted: the name, operator and quotes stay, so the model still understands the code.
  The name decides: when its last word (snake, kebab, camel or dotted words; trailing words
  like ``value``/``b64`` ignored) is password/passwd/pwd/pass/passphrase/pw, any literal of 3+
  characters is a ``password_assignment``; when it is secret/credential(s)/api key/access key/
  private key/client secret/... or token, a literal of 8+ characters without spaces (for token,
  one that is not just words: lexers have ``token = "IDENTIFIER"``) is a
  ``generic_secret_assignment``; when the name merely contains key/secret/token/password/
  passwd/pwd/credential (``cache_key``, ``password_hash``), only a high-entropy value (16+
  characters, mixed character classes, not made of words) is redacted
  (``generic_secret_assignment``). So hashes, UUIDs, commit SHAs and base64 images are left
  alone unless assigned to such a name.
- Repeats: a detected secret of 8+ characters is redacted wherever else it occurs verbatim in the
  same text (a password from a .env pasted again in a log line).

What is not redacted (so explanations of code are not damaged):

- Placeholders: empty strings, ``changeme``, ``<your-key>``, ``xxx``/``****``, ``...``, values
  containing "your"/"example"/"placeholder"/"dummy"/"redacted", ``..._here``, the name itself
  (``password = "password"``), common filler words (``secret``, ``test``, ``none``...).
- Templates and lookups: ``${API_KEY}``, ``$API_KEY``, ``{{ secrets.TOKEN }}``, ``%(pw)s``,
  ``{password}``, f-strings with fields, ``os.environ['API_KEY']``, ``get_password()``,
  ``request.headers["Authorization"]``, ``settings.SECRET_KEY``, and bare variable names
  (snake_case, camelCase, UPPER_SNAKE, or containing pass/key/token/secret) on the right of a
  code assignment (``password = user_password``). In .env/shell lines (``NAME=value`` at the
  start of a line, no spaces) a bare word is a literal and is redacted.
- Type annotations and declarations: ``password: str``, ``token: Optional[str] = None``,
  ``apiKey: string;``, and keywords (None, null, true, ...). Paths (``./key.pem``).
- Prefix tokens whose body is filler (``sk-xxxxxxxx...``, ``ghp_000...``).

Overlapping detections are merged into one redaction (the most specific kind wins, in the order
of `KINDS`). Redaction is idempotent: text already containing ``[REDACTED:kind]`` markers is
not changed again (a detection that overlaps a marker is ignored), and `redact` iterates until
its own output contains nothing more to redact, so ``redact(redact(t).text).text`` equals
``redact(t).text``. All regexes are compiled once and most only run when a cheap substring
test says they can match; 100 KB of ordinary code takes a few milliseconds.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["KINDS", "Redaction", "RedactionResult", "marker", "redact"]

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
    "slack_token",
    "slack_webhook",
    "stripe_key",
    "google_api_key",
    "sendgrid_key",
    "huggingface_token",
    "npm_token",
    "pypi_token",
    "azure_key",
    "jwt",
    "basic_auth",
    "bearer_token",
    "connection_string_password",
    "password_assignment",
    "generic_secret_assignment",
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
    r"\$\{|\$\(|\{\{|\}\}|\{%|%\(|<%|#\{|^\$[A-Za-z_{]|^%[A-Za-z_]\w*%$|\{[\w.]*\}|%[sd]\b"
)
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


def _has_vowel(s: str) -> bool:
    return any(c in "aeiouyAEIOUY" for c in s)


def _wordish_fraction(v: str) -> float:
    """The share of characters in word-like runs (4+ letters with a vowel)."""
    n = sum(len(s) for s in _WORD_SEG_RE.findall(v) if len(s) >= 4 and _has_vowel(s))
    return n / len(v) if v else 1.0


def _classes(v: str) -> int:
    return any(c.islower() for c in v) + any(c.isupper() for c in v) + any(c.isdigit() for c in v)


def _entropy(v: str) -> float:
    n = len(v)
    return -sum(c / n * math.log2(c / n) for c in Counter(v).values())


def _looks_random(v: str, min_len: int = 16) -> bool:
    """A machine-made credential rather than words, a path or a URL."""
    if len(v) < min_len or any(c.isspace() for c in v) or _SCHEME_RE.match(v):
        return False  # a URL or URN-like name ("tag:yaml.org,2002:str")
    if _classes(v) < 2 or _wordish_fraction(v) >= 0.3:
        return False
    if sum(c.isalnum() for c in v) < 0.75 * len(v):
        return False  # punctuation-heavy: a format string, a tag, a path
    return _entropy(v) >= 3.0


def _is_filler(v: str) -> bool:
    """A token body that is obviously not real: xxxx, 0000, ****, '...'."""
    core = "".join(c for c in v.lower() if c.isalnum())
    return len(set(core)) <= 2 or "xxxx" in core or "..." in v or "\u2026" in v or "[REDACTED" in v


def _is_placeholder(v: str, name_words: tuple[str, ...] = ()) -> bool:
    """Empty, a template/lookup, an obvious placeholder, or text a marker contains."""
    s = v.strip()
    if len(s) < 3 or _is_filler(s):
        return True
    if _TEMPLATE_RE.search(s):
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
    if _PATH_RE.fullmatch(s) and s.count("/") >= 1 and not _looks_random(s):
        return True
    return len(s) <= 40 and any(s in m for m in _MARKERS)


def _is_code_reference(v: str, name_words: tuple[str, ...], bare_names: bool = True) -> bool:
    """An unquoted right-hand side that is code: a call, lookup, attribute or variable.

    With `bare_names` false (.env and shell lines, URL parameters) a bare word is a literal.
    """
    if any(c in _CODE_HINTS for c in v) or v[0] in "*&!|@:=%+-" or v.lower() in _TYPE_WORDS:
        return True
    v = v.rstrip("!?")  # TypeScript's non-null assertion: process.env.API_KEY!
    if not v:
        return True
    if _DOTTED_RE.fullmatch(v):
        return True
    if not bare_names or not _IDENT_RE.fullmatch(v) or v.isdigit():
        return False
    if _looks_random(v):
        return False
    low = v.lower()
    if any(w in low for w in ("pass", "pw", "secret", "token", "key", "cred", "auth")):
        return True
    if name_words and any(len(w) > 2 and w in low for w in name_words):
        return True
    return bool(_SNAKE_RE.fullmatch(v) or _CAMEL_RE.fullmatch(v) or _UPPER_SNAKE_RE.fullmatch(v))


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------

_NAME_WORD_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_FILLER_WORDS = frozenset(
    "value val str string b64 base64 hex raw plain plaintext literal data bytes text".split()
)
_PASSWORD_HEADS = frozenset("password passwd pwd pass passphrase passcode pw pword".split())
_TOKEN_HEADS = frozenset("token".split())
_SECRET_HEADS = frozenset("secret apikey credential credentials creds cred".split())
# api_key, secret_key...: any literal; session_key, app_key...: one that is not just words.
_KEY_QUALIFIERS = frozenset(
    """api secret access private auth client signing sign encryption encrypt master hmac jwt
    aes crypto cipher license subscription webhook consumer deploy storage shared root admin
    bot""".split()
)
_WEAK_KEY_QUALIFIERS = frozenset(
    "app application service account session cookie user server public".split()
)
_GENERIC_WORDS = frozenset({"key", "keys", "secrets", "tokens"})


def _head_class(word: str) -> str | None:
    if word in _PASSWORD_HEADS or word.endswith(("password", "passwd", "passphrase")):
        return "password"
    if word in _TOKEN_HEADS or word.endswith("token"):
        return "token"
    if word in _SECRET_HEADS or word.endswith(
        ("secret", "apikey", "secretkey", "accesskey", "privatekey")
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
    """password / token / secret (by the last word), generic (contains one), or None."""
    words = _name_words(name)
    if not words:
        return None
    head = _head_class(words[-1])
    if head:
        return head
    if words[-1] == "key" and len(words) >= 2 and words[-2] in _KEY_QUALIFIERS:
        return "secret"
    if words[-1] == "key" and len(words) >= 2 and words[-2] in _WEAK_KEY_QUALIFIERS:
        return "token"
    if any(w in _GENERIC_WORDS or _head_class(w) for w in words):
        return "generic"
    return None


def _assignment_kind(
    name_class: str, v: str, quoted: bool, name_words: tuple[str, ...]
) -> str | None:
    """The kind for value `v` assigned to a name of this class, or None to leave it."""
    if _is_placeholder(v, name_words):
        return None
    if quoted and _UPPER_SNAKE_RE.fullmatch(v) and name_class != "password":
        return None  # api_key_env = "OPENAI_API_KEY": the name of a variable
    if name_class == "password":
        return "password_assignment"
    if (name_class != "generic" and _credential_like(v)) or _looks_random(v):
        return "generic_secret_assignment"
    return None


def _credential_like(v: str) -> bool:
    """What an API key or token looks like: 8+ characters, no spaces, a digit, not just words."""
    return (
        len(v) >= 8
        and not any(c.isspace() for c in v)
        and any(c.isdigit() for c in v)
        and sum(c.isalnum() for c in v) >= 0.6 * len(v)
        and (_wordish_fraction(v) < 0.5 or _classes(v) == 3)
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


def _not_filler(v: str) -> bool:
    return not _is_filler(v)


def _mixed(v: str) -> bool:
    body = v.split("-", 1)[1] if "-" in v else v
    return _classes(body) >= 2 and not _is_filler(body) and _wordish_fraction(body) < 0.5


def _has_digit(v: str) -> bool:
    return any(c.isdigit() for c in v) and not _is_filler(v)


_PEM_LABEL = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_PEM_END = r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_NL = r"(?:(?:\\r)?\\n|\r?\n|[ \t])"
# Base64 lines and the headers of legacy encrypted PEM and PGP ("Proc-Type: 4,ENCRYPTED").
_PEM_BODY = r"(?:[A-Za-z0-9+/=\s:,.()@-]|\\[nr])"

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
        re.compile(r"gh(?<![A-Za-z0-9_]gh)[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])"),
        check=_not_filler,
    ),
    _Pattern(
        "github_token",
        re.compile(r"github_pat_(?<![A-Za-z0-9_]github_pat_)[A-Za-z0-9_]{22,255}"),
        check=_not_filler,
    ),
    _Pattern(
        "gitlab_token",
        re.compile(r"glpat-(?<![\w-]glpat-)[A-Za-z0-9_-]{20,}"),
        check=_not_filler,
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
        re.compile(r"x(?<![\w-]x)(?:ox[abposre]|app)-[A-Za-z0-9-]{10,}"),
        check=_has_digit,
    ),
    _Pattern(
        "slack_webhook",
        re.compile(r"hooks\.slack\.com/(?:services|workflows)/(?P<v>[A-Za-z0-9_/]{20,})"),
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
_CURL_USER_RE = re.compile(r"(?<![\w-])(?:-u|--user)[ \t]+[\"']?[^\s:\"']+:(?P<v>[^\s\"']+)")
_CONN_RE = re.compile(r"://(?P<ui>[^\s/?#'\"<>`]+)@(?=[\w\[])")

# Assignments are found from their keyword outwards: the keyword search runs on the lower-cased
# text (a plain alternation, fast), then the name is widened to its identifier and the rest of
# the assignment is matched in place.
_KW_RE = re.compile(r"pass|pwd|secret|token|key|cred")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.$-")
_NAME_TAIL_RE = re.compile(r"[\w.$-]*")
_VALUE = r"""
    (?P<value>
        [bBrRuUfF]{0,2}"(?:[^"\\\n]|\\.)*"
      | [bBrRuUfF]{0,2}'(?:[^'\\\n]|\\.)*'
      | `[^`\n]*`
      | \\"(?:[^"\\\n]|\\[^"\n])*\\"
      | [^\s"'`]+
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
_KEYWORD_HINTS = ("pass", "pwd", "secret", "token", "key", "cred")


def _line_prefix(text: str, pos: int) -> str:
    return text[text.rfind("\n", 0, pos) + 1 : pos]


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
    last_start = -1
    for k in _KW_RE.finditer(lowered):
        start = k.start()
        while start > 0 and text[start - 1] in _NAME_CHARS:
            start -= 1
        if start == last_start:
            continue  # a second keyword in the same name (secret_key)
        last_start = start
        name_end = _NAME_TAIL_RE.match(text, k.end()).end()  # type: ignore[union-attr]
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
            hit = None
        if hit is not None:
            yield hit


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
        quoted = True
    else:
        quoted = False
        op = m.group("op") or "="
        if op in ("==", "===", "!=", "!=="):
            return None  # token == bos_token_id: a comparison with code
        lq = before if before in "\"'`" else ""
        prefix = _line_prefix(text, start - len(lq)).strip()
        spaced = bool(m.group("sp1") or m.group("sp2") or m.group("aop"))
        env_style = op == "=" and not spaced and prefix.lower() in _ENV_PREFIXES
        if env_style and raw.endswith((",", ")")):
            env_style = False  # a keyword argument on its own line: password=pw,
        yaml_style = op == ":" and prefix in ("", "-")
        s = vs
        if yaml_style:
            line_end = text.find("\n", vs)
            rest = text[vs : len(text) if line_end < 0 else line_end]
            hash_at = re.search(r"\s#", rest)
            v = (rest[: hash_at.start()] if hash_at else rest).rstrip()
            if v.endswith((",", ";", "{", "(")):
                return None  # an object literal or a declaration in code, not YAML
            if any(c.isspace() for c in v):
                return None  # "password: The password part of the URL." is prose
        elif env_style:
            v = raw.rstrip(";")  # PASSWORD=hunter2; echo done
        else:
            cut = len(raw)
            for i, c in enumerate(raw):
                if c in ",;)}]&>":
                    cut = i
                    break
            v = raw[:cut]
            if op == ":" and not param:
                # "X-Api-Key: value" inside a quoted header string; otherwise code or prose
                if not (lq and text[s + len(v) : s + len(v) + 1] == lq and not m.group("rq")):
                    return None
        if not v or "[REDACTED:" in v:
            return None
        if re.split(r"\W+", v, maxsplit=1)[0].lower() in _TYPE_WORDS:
            return None  # password: str | None
        if _is_code_reference(v, words, bare_names=not (env_style or param)):
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
        if _is_code_reference(v, words) or v.isalpha():
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
            if _looks_random(v) or (in_header and _wordish_fraction(v) < 0.5 and not v.isalpha()):
                yield s, e, _PRIORITY["bearer_token"]
    if "authoriz" in lowered:
        for m in _AUTH_HEADER_RE.finditer(lowered):
            s, e = m.span("v")
            v = text[s:e]
            if v.lower() in _AUTH_SCHEMES or _is_placeholder(v) or _is_code_reference(v, ()):
                continue
            if _looks_random(v, 12):
                yield s, e, _PRIORITY["bearer_token"]
    if "basic" in lowered:
        for m in _BASIC_RE.finditer(lowered):
            s, e = m.span("v")
            v = text[s:e]
            if "auth" not in _line_prefix(lowered, m.start()) or _is_placeholder(v):
                continue
            if _wordish_fraction(v) < 0.5:
                yield s, e, _PRIORITY["basic_auth"]
    if "curl" in lowered:
        for m in _CURL_USER_RE.finditer(text):
            if "curl" not in _line_prefix(lowered, m.start()):
                continue
            v = m.group("v")
            if not _is_placeholder(v) and not v.startswith("$"):
                yield m.start("v"), m.end("v"), _PRIORITY["basic_auth"]


def _connection_hits(text: str) -> Iterator[_Hit]:
    for m in _CONN_RE.finditer(text):
        ui = m.group("ui")
        colon = ui.find(":")
        if colon < 0:
            continue
        pw = ui[colon + 1 :]
        if not pw or _is_connection_placeholder(pw):
            continue
        s = m.start("ui") + colon + 1
        yield s, s + len(pw), _PRIORITY["connection_string_password"]


def _is_connection_placeholder(pw: str) -> bool:
    if "[REDACTED" in pw or _TEMPLATE_RE.search(pw) or (pw[0] == "<" and pw[-1] == ">"):
        return True
    return _is_filler(pw) and len(pw) > 2 or bool(_PLACEHOLDER_SUBSTR_RE.search(pw.lower()))


def _gcp_hits(text: str) -> Iterator[_Hit]:
    for m in _GCP_RE.finditer(text):
        if not _is_filler(m.group("v")):
            yield m.start("v"), m.end("v"), _PRIORITY["gcp_service_account"]


def _pattern_hits(text: str) -> Iterator[_Hit]:
    for p in _TOKEN_PATTERNS:
        prio = _PRIORITY[p.kind]
        for m in p.regex.finditer(text):
            start, end = m.span(p.group)
            if p.check is None or p.check(text[start - p.back : end]):
                yield start - p.back, end, prio


def _detect(text: str) -> list[_Hit]:
    """Every secret in `text` (unmerged), ignoring anything overlapping a marker."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters lower-case to two (İ): keep offsets
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    hits: list[_Hit] = list(_pattern_hits(text))
    if '"private_key' in text and "service_account" in text:
        hits.extend(_gcp_hits(text))
    if any(k in lowered for k in _KEYWORD_HINTS):
        hits.extend(_assignment_hits(text, lowered))
        if "</" in text:
            hits.extend(_xml_hits(text))
    hits.extend(_auth_hits(text, lowered))
    if "://" in text and "@" in text:
        hits.extend(_connection_hits(text))
    if not hits:
        return hits
    hits.extend(_echo_hits(text, hits))
    if "[REDACTED:" in text:
        found = list(_MARKER_RE.finditer(text))
        if found:
            starts = [m.start() for m in found]
            ends = [m.end() for m in found]
            hits = [h for h in hits if not _overlaps_any(h, starts, ends)]
    return hits


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


def _overlaps_any(hit: _Hit, starts: list[int], ends: list[int]) -> bool:
    """Whether the hit overlaps one of these sorted, disjoint spans."""
    i = bisect_right(starts, hit[1] - 1) - 1
    return i >= 0 and ends[i] > hit[0]


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


def redact(text: str) -> RedactionResult:
    """Replace every secret in `text` by ``[REDACTED:<kind>]`` (see the module docstring)."""
    hits = _detect(text)
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
