"""Example JWTs: tokens that documentation and tests show, which grant nothing to anyone.

A JWT is three base64url segments: a header, a payload of JSON claims and a signature. The
token is an example, and `redact` leaves it alone, when its own content says so:

- its signature is filler (`.xxxxxxxxxxxx`), or the HMAC under a secret documentation
  publishes (jwt.io's `your-256-bit-secret`): anyone can make that token; or
- its claims are plain test data with a sign of being made up: every value a word or words
  ("John Doe", "correct-audience"), a time (iat, exp, nbf), a counted or small number
  (1234567890, 1), or a URL or address at a reserved example host (https://issuer.example),
  and at least one value a test's word (test, hello, Doe, demo), counted digits or such a
  host: `{"sub":"1234567890","name":"John Doe"}`, `{"user":"test"}`.

Anything else stays a secret: a payload that is not JSON, an id or a random value in any claim
(a UUID, `"ref":"abcdefghijklmnopqrst"`), a real host or address, a claim named as a secret,
or plain claims with no sign of a test (`{"role":"service_role","iss":"supabase"}`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re

from ocp_router._redact_name_class import classify_name
from ocp_router._redact_values import is_filler
from ocp_router._redact_words import wordy

__all__ = ["JWT_RE", "example_jwt", "example_spans"]

JWT_RE = re.compile(
    r"eyJ(?<![\w-]eyJ)[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}(?![\w-])"
)
# A JWT right after an escape ending in a letter or digit (`\n` in a JSON string, `%22` in a
# URL), which JWT_RE's lookbehind refuses: the token rule finds one there (_redact_at_start's
# escaped_hits), so an example there must be seen too.
_ESCAPED_JWT_RE = re.compile(
    r"(?:\\[ntr]|%[0-9A-Fa-f]{2})"
    r"(eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}(?![\w-]))"
)

# Secrets that documentation signs its example tokens with: jwt.io's (before 2025 and since)
# and the jsonwebtoken README's.
_DOCUMENTED_SECRETS = (
    b"your-256-bit-secret",
    b"your-384-bit-secret",
    b"your-512-bit-secret",
    b"a-string-secret-at-least-256-bits-long",
    b"shhhhh",
)
_HMACS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
# Words tests and documentation fill claims with; a real token's claims seldom hold them (a
# first name does: John Doe's "doe" is the sign).
_TEST_WORDS = frozenset(
    """test testing tester example sample demo fake dummy mock foo bar baz qux hello world
    doe lorem ipsum""".split()
)
_TIME_CLAIMS = frozenset({"iat", "exp", "nbf", "auth_time"})
# Hosts reserved for documentation and tests (RFC 2606, RFC 6761).
_EXAMPLE_HOST_RE = re.compile(
    r"(?:[\w-]+\.)*(?:example\.(?:com|org|net)|[\w-]+\.(?:example|test|invalid|localhost))"
    r"|localhost|127\.0\.0\.1"
)
_HOST_RE = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*://(?:[^/@\s]*@)?|[^@\s/]+@)([^/:?#\s]+)")
# A value's pieces between separators: a word, a word and a short number (user1), a number.
_PIECE_RE = re.compile(r"[A-Za-z0-9]+")
_WORD_NUMBER_RE = re.compile(r"([A-Za-z]*)([0-9]*)")
_MAX_SEGMENT = 4096  # base64 characters of a payload read; a longer one is no short example


def example_spans(text: str) -> list[tuple[int, int]]:
    """Where `text` holds an example JWT: what any rule finds inside one is no secret (the
    token's shape, `token = "eyJ..."`, `Authorization: Bearer eyJ...`)."""
    if "eyJ" not in text:
        return []
    spans = [m.span() for m in JWT_RE.finditer(text) if example_jwt(m.group())]
    if "\\" in text or "%" in text:
        escaped = [m.span(1) for m in _ESCAPED_JWT_RE.finditer(text) if example_jwt(m.group(1))]
        if escaped:
            spans = sorted(spans + escaped)
    return spans


def example_jwt(token: str) -> bool:
    """The JWT `token` (header.payload.signature) is a documented or test example."""
    parts = token.split(".")
    if len(parts) != 3:
        return False
    header, payload = _json(parts[0]), _json(parts[1])
    if not isinstance(header, dict) or not isinstance(payload, dict):
        return False
    if is_filler(parts[2]) or _documented_signature(header, parts):
        return True
    signs: list[bool] = []
    return _plain(payload, "", signs) and any(signs)


def _json(segment: str) -> object:
    if len(segment) > _MAX_SEGMENT:
        return None
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        return json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError):
        return None


def _documented_signature(header: dict[str, object], parts: list[str]) -> bool:
    digest = _HMACS.get(str(header.get("alg")))
    if digest is None:
        return False
    signed = f"{parts[0]}.{parts[1]}".encode()
    for secret in _DOCUMENTED_SECRETS:
        mac = hmac.new(secret, signed, digest).digest()
        if base64.urlsafe_b64encode(mac).rstrip(b"=").decode() == parts[2]:
            return True
    return False


def _plain(value: object, claim: str, signs: list[bool]) -> bool:
    """`value` (of `claim`) is test data; `signs` gets True for each sign of a test in it."""
    if isinstance(value, dict):
        return all(
            classify_name(str(k)) is None and _plain(v, str(k), signs) for k, v in value.items()
        )
    if isinstance(value, list):
        return all(_plain(v, claim, signs) for v in value)
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return False  # a float: no claim of an example holds one
    if claim in _TIME_CLAIMS and value.isdigit():
        return True
    host = _HOST_RE.match(value)
    if host is not None:
        if _EXAMPLE_HOST_RE.fullmatch(host.group(1).lower()) is None:
            return False  # a real host or address
        signs.append(True)
        value = value[host.start(1) :]  # the scheme (https) and the user are no words
    return all(_plain_piece(p, signs) for p in _PIECE_RE.findall(value))


def _plain_piece(piece: str, signs: list[bool]) -> bool:
    m = _WORD_NUMBER_RE.fullmatch(piece)
    if m is None:
        return False  # letters after digits (k2j4h5): an id, not words
    word, number = m.groups()
    if number:
        counted = len(number) >= 3 and (is_filler(number) or _counting(number))
        signs.append(counted)
        if not counted and (len(number) > 3 or word and len(number) > 2):
            return False  # an id: 48213, user2917
    return not word or _plain_word(word, signs)


def _plain_word(word: str, signs: list[bool]) -> bool:
    if not (word.islower() or word.istitle() or word.isupper()):
        return False  # mixed case inside a word: random letters
    signs.append(word.lower() in _TEST_WORDS)
    if len(word) > 4:
        return wordy(word)
    return len(word) == 1 or word.isupper() or any(c in "aeiouyAEIOUY" for c in word)


def _counting(digits: str) -> bool:
    """Digits typed in order: 123, 1234567890 (9 then 0 on the keyboard)."""
    steps = {(int(b) - int(a)) % 10 for a, b in zip(digits, digits[1:], strict=False)}
    return steps == {1} or steps == {9}
