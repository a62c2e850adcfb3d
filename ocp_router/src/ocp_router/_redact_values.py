"""How `redact` judges a value assigned to a name: placeholders, templates and references
(left alone), machine-made randomness and words, and the kind a name's class makes of it
(which names hold passwords or secrets: _redact_name_class.py).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import string
from collections import Counter
from urllib.parse import unquote

from ocp_router._redact_base import MARKER_OPEN, MARKERS
from ocp_router._redact_encoded import documented_value, encoded_prose
from ocp_router._redact_memo import remembered
from ocp_router._redact_name_class import classify_name, documented_name
from ocp_router._redact_rule_strings import validation_rules
from ocp_router._redact_sequences import in_runs, sequential
from ocp_router._redact_type_names import secret_type_name
from ocp_router._redact_words import common_bigram_fraction, wordy

__all__ = [
    "TYPE_WORDS",
    "UPPER_SNAKE_RE",
    "assignment_kind",
    "char_classes",
    "chosen_password",
    "common_bigram_fraction",
    "dollar_reference",
    "high_entropy",
    "is_connection_placeholder",
    "is_filler",
    "is_placeholder",
    "is_reference",
    "is_template",
    "literal_password",
    "looks_random",
    "machine_made",
    "names_a_secret",
    "plain_word",
    "short_random",
    "spaced_random",
    "symbol_heavy_random",
    "wordy",
]

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
    notset unset required optional secretvalue tokenvalue true false yes no pw""".split()
)
# Passwords documentation writes as examples (their letters and digits): bash.org's, and xkcd's
# passphrase (its Tr0ub4dor&3 reads as a password a person chose, and is taken as one).
_EXAMPLE_PASSWORDS = frozenset({"hunter2", "correcthorsebatterystaple"})
# A filler word spelled in leet (P4$$word, p@ssw0rd, s3cret) reads as the word.
_LEET = str.maketrans("013457@$", "oieastas")
# A filler word with a word saying it is made up or wrong: badpass, wrongpassword, supersecret.
_MADE_UP_RE = re.compile(
    r"(?:bad|wrong|invalid|incorrect|fake|test|super|top|new|old)"
    r"(?:pass|password|passwd|pwd|secret|token|key)|wrong|invalid|incorrect|nogood|bad"
)
# Words that make a value of lower-case words name what it stands for ('hono-password-a',
# 'callback-pass', 'sk-ant-test'): a value made up for a test or a doc, not one issued or chosen.
_TELLING_WORDS = frozenset(
    """password passwd pass pwd pw secret token key apikey cred creds credential credentials
    test testing fake dummy demo mock sample example invalid wrong bad placeholder""".split()
)
_PIECE_SPLIT_RE = re.compile(r"[-_. ]")
_BASE64_RE = re.compile(r"[A-Za-z0-9+/]{8,}={0,2}")
TYPE_WORDS = frozenset(
    """str string bytes bytearray int integer bool boolean float double number any unknown
    object none null nil undefined true false yes no on off secretstr secretbytes secret
    optional char void text varchar uuid self this required list dict map array""".split()
)
_SCHEME_RE = re.compile(r"[a-z][a-z0-9+.-]*:")
_PATH_RE = re.compile(r"(?:~|\.\.?)?/[\w.@+/-]*")
UPPER_SNAKE_RE = re.compile(r"_*[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_IDENT_RE = re.compile(r"[A-Za-z_$@][\w$]*")
_DOTTED_RE = re.compile(r"[A-Za-z_$@][\w$]*(?:(?:\.|::|->|\?\.)[A-Za-z_$][\w$]*)+")
_SNAKE_RE = re.compile(r"_*[a-z][a-z0-9]*(?:_[a-z0-9]+)+_*")
_CAMEL_RE = re.compile(r"[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+")
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
# A digit, and inside the value a symbol no expression of names holds there.
_CHOSEN_PASSWORD_RE = re.compile(r"^(?=.*\d).+[!#%^~@]")
_CONFIG_KEYWORDS = frozenset("~ null none nil true false yes no on off".split())  # YAML's, INI's
_STATE_WORDS = frozenset("disabled enabled required optional undefined inherit generated".split())
_LOWER_RE = re.compile(r"[a-z]")
_UPPER_RE = re.compile(r"[A-Z]")
_DIGIT_RE = re.compile(r"[0-9]")


def char_classes(v: str) -> int:
    """How many of lower-case letters, upper-case letters and digits `v` has."""
    return (
        (_LOWER_RE.search(v) is not None)
        + (_UPPER_RE.search(v) is not None)
        + (_DIGIT_RE.search(v) is not None)
    )


def _entropy(v: str) -> float:
    n = len(v)
    return -sum(c / n * math.log2(c / n) for c in Counter(v).values())


@remembered
def looks_random(v: str, min_len: int = 16) -> bool:
    """A machine-made credential rather than words, a path or a URL."""
    if len(v) < min_len or any(c.isspace() for c in v) or _SCHEME_RE.match(v):
        return False  # a URL or URN-like name ("tag:yaml.org,2002:str")
    if char_classes(v) < 2 or wordy(v):
        return False
    if sum(c.isalnum() for c in v) < 0.75 * len(v) or any(c in "([{" for c in v):
        return False  # punctuation-heavy or bracketed: a format string, a tag, code
    return _entropy(v) >= 3.0


#: Characters besides the repeated one that make "0000000000000001234567Aa" a value, not filler.
_FILLER_REST = 8


@remembered
def is_filler(v: str) -> bool:
    """A token body that is obviously not real: xxxx, 0000, ****, '...'."""
    core = "".join(c for c in v.lower() if c.isalnum())
    dominant = Counter(core).most_common(1)[0][1] if core else 0
    return (
        len(set(core)) <= 2
        # mostly one character, and what is left too short to be a secret by itself
        or (dominant >= 0.6 * len(core) and len(core) - dominant < _FILLER_REST)
        or ("xxxx" in core and not _masked_tail(v))
        or sequential(core)
        or v.endswith("EXAMPLE")  # AWS's documented AKIAIOSFODNN7EXAMPLE (gitleaks allows it)
        or "..." in v
        or "\u2026" in v
        or "[REDACTED" in v
    )


#: Random characters before a mask that keep it a secret: a token with its last few masked
#: (`gho_16C7e42F292c6912E7710c838347Ae178B4axxxx`) still gives most of itself away.
_MASKED_TAIL_MIN = 20
_MASK_RE = re.compile(r"[xX]{4}")


def _masked_tail(v: str) -> bool:
    """`v` is 20+ random letters and digits of both cases, then a mask of x's."""
    mask = _MASK_RE.search(v)
    head = v[: mask.start()] if mask else ""
    head = head.rsplit("_", 1)[-1].rsplit("-", 1)[-1]  # the body after a gho_, sk-… prefix
    return len(head) >= _MASKED_TAIL_MIN and char_classes(head) == 3 and not wordy(head)


@remembered
def symbol_heavy_random(v: str) -> bool:
    """Random characters with symbols: what a password manager makes ("D1@rY!Nm$C|r^")."""
    if len(v) < 8 or any(c.isspace() for c in v) or "://" in v:
        return False
    symbols = sum(not c.isalnum() for c in v)
    return symbols >= 2 and char_classes(v) >= 2 and not wordy(v)


@remembered
def is_template(v: str) -> bool:
    """A template or interpolation (${X}, {{ x }}, %(x)s, {name}), not a literal that happens
    to contain a brace pair."""
    if not _TEMPLATE_RE.search(v):
        return False
    rest = _TEMPLATE_FIELD_RE.sub("", v)
    return not (symbol_heavy_random(rest) or looks_random(rest, 10))


@remembered
def is_placeholder(v: str, name_words: tuple[str, ...] = ()) -> bool:
    """Empty, a template/lookup, an obvious placeholder, or text a marker contains."""
    s = v.strip()
    if len(s) < 3 or is_filler(s):
        return True
    if is_template(s):
        return True
    if (s[0] == "<" and s[-1] == ">") or (s[0] == "[" and s[-1] == "]"):
        return True
    low = s.lower()
    if _PLACEHOLDER_SUBSTR_RE.search(low):
        return True
    core = "".join(c for c in low if c.isalnum())
    if core in _PLACEHOLDER_WORDS or core in name_words or _example_password(low, core):
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
    if _PATH_RE.fullmatch(s) and not looks_random(s):
        return True
    if _made_up(s) or _basic_placeholder(s) or secret_type_name(s) or validation_rules(s):
        return True
    return len(s) <= 40 and any(s in m for m in MARKERS)


def _made_up(s: str) -> bool:
    """Lower-case words that name what the value stands for, or say it is a test's
    ('hono-password-a', 'callback-pass', 'proxy-token-123456', 'sk-ant-test'), or end in digits
    in order ('sk-live-123'): pieces split at - _ . and spaces, each a lower-case word, one
    character, or digits in sequence. A passphrase of words ('amber-falcon-quartz') names
    nothing, and a piece with capitals, other digits or symbols is no such value."""
    pieces = _PIECE_SPLIT_RE.split(s)
    if len(pieces) < 2:
        return False
    telling = False
    for p in pieces:
        if p.lower() in _TELLING_WORDS:
            telling = True
        elif p.isdigit() and len(p) >= 3 and in_runs(p, 3) == len(p):
            telling = True  # 123, 123456
        elif sequential(p):
            telling = True  # 0123456789abcdefghij
        elif not (p.isalpha() and p.islower() or len(p) == 1):
            return False
    return telling


def _basic_placeholder(s: str) -> bool:
    """Base64 of `user:password` whose password is a placeholder (a test's Basic credential
    built from 'hono-user-a:hono-password-a')."""
    if not _BASE64_RE.fullmatch(s) or len(s) % 4:
        return False
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return False
    if not raw.isascii() or b":" not in raw:
        return False
    creds = raw.decode("ascii")
    if not creds.isprintable():
        return False
    return is_placeholder(creds.split(":", 1)[1], ("password",))


def _example_password(low: str, core: str) -> bool:
    """A password documentation writes as an example (`low` lower-cased, `core` its letters
    and digits): hunter2, P4$$word, badpass."""
    if core in _EXAMPLE_PASSWORDS or _MADE_UP_RE.fullmatch(core):
        return True
    leet = "".join(c for c in low.translate(_LEET) if c.isalnum())
    return leet != core and leet in _PLACEHOLDER_WORDS


def _random_name(v: str) -> bool:
    """`&XG4kCVfJV`, `!XG4kCVfJV`: a password that starts with a YAML indicator, not an anchor,
    an alias or a tag, whose names are words (`&defaults`, `*db_pass`, `!vault`): 8 characters
    or more after it, lower- and upper-case letters and digits, not made of words."""
    rest = v[1:]
    return (
        len(rest) >= 8
        and not any(c.isspace() for c in rest)
        and char_classes(rest) == 3
        and not wordy(rest)
    )


@remembered
def is_reference(
    v: str, name_words: tuple[str, ...], code: bool = True, yaml: bool = False
) -> bool:
    """An unquoted right-hand side that names a value rather than being one.

    In code (`code`), a variable, attribute, call or lookup is a reference; a bare identifier
    counts as one when it is made of words or names a secret (user_password, dbPass), not when
    it is random letters (a password: jpoKfCiSxxg). So does one after '!', '&' or '*' (not,
    address of, dereference). In configuration (YAML, INI, .env, shell, command lines, URL
    parameters) every value is literal except a template or an environment reference
    ($DB_PASSWORD, ${X}, %X%, {{ x }}), the format's own keywords (null, ~), YAML's anchors and
    aliases (&x, *x) and, in YAML (`yaml`), its tags and block scalars (!vault, |).
    """
    if is_template(v):
        return True
    if code and v[0] in "!&*" and len(v) > 1:
        return is_reference(v[1:], name_words, code)  # !isOn, &buf, *pw: the name decides
    if (
        (v[0] in "*&" or yaml and v[0] in "!|")
        and not symbol_heavy_random(v)
        and not _random_name(v)
    ):
        return True  # YAML aliases, anchors and tags (*x, &x, !vault), block scalars (|, >)
    if v.lower() in _CONFIG_KEYWORDS or v.lower() in TYPE_WORDS and code:
        return True
    if not code:
        return False
    if looks_random(v, 12) or symbol_heavy_random(v) and not _CODE_EXPR_RE.fullmatch(v):
        return False
    if _CALL_PREFIX_RE.match(v) or v[0] in "([{":
        return True  # a call, a subscript or a literal list/dict/tuple: code
    if v.isdigit():
        return False
    if not _CODE_EXPR_RE.fullmatch(v):
        # ConvertTo-SecureString, a-b: an expression of names; Hunter2Secret!x, a digit and a
        # symbol inside, is what a person picks as a password, not an expression
        return wordy(v) and not _CHOSEN_PASSWORD_RE.search(v)
    core = v.rstrip("!?;,")
    if not _IDENT_RE.fullmatch(core) or core[0] in "$@":
        return True  # an attribute, call, subscript, $var or @ivar
    low = core.lower()
    if _holds_reference_word(core):
        return True
    if name_words and any(len(w) > 2 and w in low for w in name_words):
        return True
    return len(core) < 8 or wordy(core)


def short_random(v: str, text: str) -> bool:
    """`Zkq3pw`, `xqpwZt`: 6 or 7 random letters and digits, bare after a password's name, that
    `is_reference` takes for a variable's name (most short identifiers are). Letters of both
    cases with a digit, or a capital after the first letter (a type's name, IfStmt, starts with
    one); no word, no name of a secret, and used nowhere else in `text`: a variable is defined
    or used again near where it is assigned (on the corpora and site-packages every short name
    after a password's name was: bench/redact_short_values.py)."""
    core = v.rstrip("!?;,")
    if not (6 <= len(core) < 8 and core.isalnum() and core[0].isalpha()) or core.isupper():
        return False
    digit = _DIGIT_RE.search(core) is not None
    if not (char_classes(core) == 3 if digit else _UPPER_RE.search(core, 1) and core[0].islower()):
        return False
    if wordy(core) or common_bigram_fraction(core) >= 0.5 or _holds_reference_word(core):
        return False
    return len(re.findall(rf"(?<![\w$]){core}(?![\w$])", text)) == 1


@remembered
def assignment_kind(
    name_class: str, v: str, quoted: bool, name_words: tuple[str, ...], *, field: bool = False
) -> str | None:
    """The kind for value `v` assigned to a name of this class, or None to leave it. A
    `field` is a .env, shell, log/config, YAML or INI line's value, where no name is a
    variable."""
    if quoted and name_class in ("password", "secret") and spaced_random(v):
        # '…${ ;59o%…': a generator's value whose `$`, braces and spaces read as a template
        return "password_assignment" if name_class == "password" else "generic_secret_assignment"
    if is_placeholder(v, name_words) or _PUBLISHABLE_RE.fullmatch(v):
        return None
    if documented_name(name_words) and documented_value(v):
        return None  # PublicKeyToken=b77a5c561934e089, key_sha256: <hex>
    if quoted and UPPER_SNAKE_RE.fullmatch(v) and name_class != "password":
        return None  # api_key_env = "OPENAI_API_KEY": the name of a variable
    if name_class == "password":
        if quoted and _message(v):
            return None  # errors.password = "Use at least 12 characters.": a message
        return "password_assignment"
    v = v.removeprefix("django-insecure-")  # Django's generated keys say so
    if _FILE_PATH_RE.fullmatch(v) and char_classes(v) < 3:
        return None  # signing_key: keys/jwt_rs256.pem, ("verify_token", "src/auth.py:19-20")
    if (name_class != "generic" and _credential_like(v)) or looks_random(v):
        return "generic_secret_assignment"
    words_only = len(v) >= 8 and v.isalpha() and v.islower() and v not in _STATE_WORDS
    if field and name_class == "secret" and (_WORD_DIGIT_MIX_RE.fullmatch(v) or words_only):
        if not (("_" in v or words_only) and names_a_secret(v)):  # bos_token1, authorization
            return "generic_secret_assignment"  # TOKEN=hunter2secret99, or two words chosen
    if name_class == "secret" and (field or quoted) and _chosen_secret(v):
        return "generic_secret_assignment"  # JWT_SECRET=kettle82#falcon2494, 'Ocean6389!'
    if name_class == "secret" and (field or quoted) and _DOTTED_CHOSEN_RE.fullmatch(v):
        return "generic_secret_assignment"  # token: apple89.dragon7053
    if name_class == "secret" and quoted and " " in v and not _message(v):
        if _chosen_secret(v.replace(" ", "")):
            return "generic_secret_assignment"  # a chosen token a space was typed into
    return None


def spaced_random(v: str, min_len: int = 32) -> bool:
    """`min_len`+ random characters with symbols, spaces among them (WordPress's generator's,
    32+ by default: a hand-made one is shorter)."""
    return len(v) >= min_len and symbol_heavy_random(v.replace(" ", ""))


def _message(v: str) -> bool:
    """A sentence ("Use at least 12 characters."): capitalised, closed by punctuation, and
    made of words and numbers; a piece of letters and digits glued ("W illow8241.") is a
    password a space was typed into."""
    if " " not in v or not v[0].isupper() or v.rstrip()[-1] not in ".!?:":
        return False
    pieces = (p.strip(string.punctuation) for p in v.split())
    return all(p.isalpha() or p.isdigit() or not p for p in pieces)


def _chosen_secret(v: str) -> bool:
    """A secret or token a person chose, or a password manager made, as a password is told
    (chosen_password): words and digits with a symbol no name holds (Ocean6389!,
    raven70;cedar177), or random characters with symbols (4qUy}P0,)h&^,S$x); no spaces."""
    return (
        len(v) >= 8
        and not any(c.isspace() for c in v)
        and _REGEX_HINT_RE.search(v) is None
        and chosen_password(v)
    )


# A regular expression, not a secret: a class with a range, an escape class, a group's flag
# (h11's `token = r"[-!#$%&'*+.^_`|~0-9a-zA-Z]+"`).
_REGEX_HINT_RE = re.compile(r"\[[^\]]*(?:0-9|a-z|A-Z)|\\[wdsbWDSpP]|\(\?[:=!<P]")


_LONG_DIGITS_RE = re.compile(r"[0-9]{6}")
# Letters and digits, 8+ long, no dot (a host, a version, an attribute): where no name is a
# variable, a secret a person chose, though it reads as words (hunter2secret99).
_WORD_DIGIT_MIX_RE = re.compile(r"(?=[\w-]*[A-Za-z])(?=[\w-]*[0-9])[A-Za-z0-9][\w-]{7,}")
# Words and digits joined by dots, each word 3+ letters, the last with 2+ digits: a secret a
# person chose (apple89.dragon7053), not a host (its last label, a TLD, holds no digits:
# db01.example.com), a version (v1.2.3, v1beta1) or a module path (a module2.attr rarely
# stands under a token's name).
_DOTTED_CHOSEN_RE = re.compile(
    r"[A-Za-z]{3,}[0-9]+(?:\.[A-Za-z]{3,}[0-9]+)*\.[A-Za-z]{3,}[0-9]{2,}"
)
# A relative file path (folders, a name with an extension, maybe the lines cited): where a key
# or a token is kept, not one. Tokens seldom end in '/', a name and a short lower-case extension;
# one that also holds lower- and upper-case letters and digits stays a secret.
_FILE_PATH_RE = re.compile(
    r"[\w.-]+(?:/[\w.-]+)*/[\w-][\w.-]*\.[a-z][a-z0-9]{0,4}(?::\d+(?:-\d+)?)?"
)
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
        and (not wordy(v) or _LONG_DIGITS_RE.search(v) is not None)
    )


def plain_word(v: str) -> bool:
    """An ordinary word (Passwort, required), not a chosen password."""
    return v.isalpha() and (len(v) < 6 or (v.islower() or v.istitle()) and wordy(v))


def names_a_secret(v: str) -> bool:
    """An identifier or attribute chain naming a secret (user.password, STRIPE_KEY)."""
    return _CODE_EXPR_RE.fullmatch(v) is not None and _holds_reference_word(v)


def _holds_reference_word(v: str) -> bool:
    """A word of `_REFERENCE_WORDS` in `v`; "pw" only as a word of its own (pw_hash, dbPw,
    DB_PWD, pwFile): two letters a random password holds by chance, glued to letters or after
    a digit (ypwlpingngl, Kpw7xQ9zL, Zkq3pw, xqpwZt)."""
    low = v.lower()
    if any(w in low for w in _REFERENCE_WORDS if w != "pw"):
        return True
    return _PW_WORD_RE.search(v) is not None


# "pw" (or pwd, pws) starting a word: after no letter or digit, or capitalised after a
# lower-case letter (camelCase), and not followed by a lower-case letter
_PW_WORD_RE = re.compile(r"(?:(?<![A-Za-z0-9])(?:pw|Pw|PW)|(?<=[a-z])(?:Pw|PW))[dDsS]?(?![a-z])")


# PowerShell's environment variable, which is_placeholder's templates leave out (a shell's
# `$NAME` is one of them, unless the name looks random: `'$aB3xK9mQ2zT'` is a password)
_POWERSHELL_ENV_RE = re.compile(r"\$env:[A-Za-z_]\w*", re.I)


def dollar_reference(v: str) -> bool:
    """`$env:NAME`, which PowerShell expands in double quotes (`net use … "$env:PW"`)."""
    return _POWERSHELL_ENV_RE.fullmatch(v) is not None


def literal_password(v: str, *, code: bool = False, dollar_literal: bool = False) -> bool:
    """A value that is a password someone chose, not a word, a template or a reference. A `$`
    first is a variable's unless nothing expands it there (`dollar_literal`: a sentence); then
    only a template's (`$HOME`, `${PASS}`, `$(cat f)`, is_placeholder's) is one: `$Pf|>aI…`
    is the password."""
    if is_placeholder(v, ("password",)) or plain_word(v):
        return False
    if v[0] == "$" and (not dollar_literal or dollar_reference(v)):
        return False
    if is_reference(v, ("password",), code=code):
        return False
    return True


_ENV_REF_RE = re.compile(r"\$\{?[A-Za-z_]\w*\}?")
_NAME_SYMBOLS = frozenset("._-/:")  # what names, versions and paths hold besides letters


@remembered
def chosen_password(v: str) -> bool:
    """What a person picks as a password, told from a word, a version or a product name
    (Argon2id, 1Password, v2.3.1): letters and a digit, and a symbol no name holds, or one a
    name holds between letters of both cases (Blue-Falcon-77, Amber123.); or machine-made."""
    if is_placeholder(v, ("password",)) or plain_word(v) or _ENV_REF_RE.fullmatch(v):
        return False  # ("$j9{8AI?" is not $DB_PASSWORD)
    if is_reference(v, ("password",), code=False):
        return False
    if looks_random(v) or symbol_heavy_random(v):
        return True
    if len(v) < 6 or not any(c.isdigit() for c in v) or not any(c.isalpha() for c in v):
        return False
    if len(v) >= 8 and char_classes(v) == 3 and not wordy(v):
        return True  # NdUM3etViY9M; Argon2id and 1Password read as words
    symbols = {c for c in v if not c.isalnum()}
    if symbols - _NAME_SYMBOLS:
        return True
    return bool(symbols) and _LOWER_RE.search(v) is not None and _UPPER_RE.search(v) is not None


@remembered
def high_entropy(v: str) -> bool:
    if v.islower() or v.isupper() or _DIGIT_RE.search(v) is None or v.startswith("//"):
        return False  # most long runs in code: snake_case, paths, CONSTANT_NAMES, ://hosts
    if len(v) < 20 or char_classes(v) < 3 or is_filler(v) or _PUBLISHABLE_RE.fullmatch(v):
        return False
    upper = sum(c.isupper() for c in v)
    lower = sum(c.islower() for c in v)
    if min(upper, lower) < 2 or wordy(v):
        return False
    return (
        _entropy(v) >= min(4.0, math.log2(len(v)) - 0.5)
        and not _basic_placeholder(v)
        and not encoded_prose(v)
    )


def is_connection_placeholder(pw: str) -> bool:
    if "[REDACTED" in pw or is_template(pw) or (pw[0] == "<" and pw[-1] == ">"):
        return True  # ${PG_PASS}, {password}; not nKOy$(1KTI=y)MFS, random around a `$(`
    if _made_up(unquote(pw)):
        return True  # a%20secret, hono-password-a: words naming what they stand for
    low = pw.lower()
    core = "".join(filter(str.isalnum, low))
    if core in _PLACEHOLDER_WORDS or _example_password(low, core):
        # postgres://user:pass@host, user:s3cret@host in documentation; the word with symbols
        # in it as an assignment's is read (p;a;s;s, pass!)
        return True
    if is_filler(pw) and (len(pw) > 2 or not any(c.isalnum() for c in pw)):
        return True  # xxxx, '***', and '**' or '*' (a password a log masked: kombu's '**')
    return bool(_PLACEHOLDER_SUBSTR_RE.search(pw.lower()))


@remembered
def machine_made(v: str, words: tuple[str, ...]) -> bool:
    """A value quoted in prose under a name with these words is a machine-made secret."""
    if not v or is_placeholder(v, words) or MARKER_OPEN in v or is_reference(v, words):
        return False  # "the token is <token>", "the key is settings.api_key2"
    if classify_name("_".join(words[-2:])) == "secret":  # an API key, a token: hex counts too
        return looks_random(v) and any(c.isdigit() for c in v) and any(c.isalpha() for c in v)
    return high_entropy(v)  # a key of any kind (cache, sort, hash): only mixed-case random
