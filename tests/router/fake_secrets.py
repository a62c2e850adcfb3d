"""Fake secrets for the redactor's tests, and the checks they share.

Every secret here is fake: built at run time from a seeded generator (or a repeated pattern) so
it has the shape of a real credential without being one, and without a literal token in the
source for secret scanners to trip on.
"""

from __future__ import annotations

from textwrap import dedent

from ocp_router.redact import RedactionResult, marker, redact
from tests.router.token_text import ALNUM, B64, HEX, UPPER_DIGITS, URLSAFE, fake

AWS_KEY_ID = "AKIA" + fake(16, UPPER_DIGITS, 1)
AWS_SECRET = fake(40, B64, 2)
GITHUB = "ghp_" + fake(36, ALNUM, 3)
ANTHROPIC = "sk-ant-api03-" + fake(93, URLSAFE, 4) + "AA"
OPENAI = "sk-proj-" + fake(48, URLSAFE, 5)


STRIPE = "sk_live_" + fake(24, ALNUM, 10)


PASSWORD = "Tr0ub4dor&3x"
TOKEN_40_HEX = fake(40, HEX, 21)


def b64url(n: int, seed: int) -> str:
    return fake(n, URLSAFE, seed)


JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + "eyJ" + b64url(60, 22) + "." + b64url(43, 23)

PEM_BODY = "\n".join(fake(64, B64, 30 + i) for i in range(6)) + "\n" + fake(20, B64, 40) + "=="


def pem(label: str, headers: str = "") -> str:
    return f"-----BEGIN {label}-----\n{headers}{PEM_BODY}\n-----END {label}-----"


def src(text: str) -> str:
    return dedent(text).lstrip("\n")


def assert_redacted(text: str, secret: str, kind: str) -> RedactionResult:
    result = redact(text)
    assert secret not in result.text, result.text
    assert marker(kind) in result.text, result.text
    assert kind in result.counts
    return result


def assert_untouched(text: str) -> None:
    result = redact(text)
    assert result.redactions == (), [text[r.start : r.end] for r in result.redactions]
    assert result.text == text


MADE = "wy1QqjJSaDVfvVcIripW9EwNsRwL85O2NiTtyVA1"  # "pw" inside: no reference for all that
HEX32 = "7f3a9c2e81b4d6f0a5e3c7b9d2f1e8a4"
