"""A password in a parenthesised note ends before the parenthesis that closes it: "(the
password is Xk9mQ2vLp8), then" hid `Xk9mQ2vLp8),` (the note's ')' and the sentence's ',' read
into the value, as the redaction's own docstring showed with `jpoKfCiSxxg),`). The ')' and
the punctuation after it are kept; a ')' with no '(' open before it on the line stays in the
value (a password may end in one)."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

SECRET = "Xk9mQ2vLp8"
MARK = "[REDACTED:password_assignment]"


@pytest.mark.parametrize(
    "text",
    [
        "Use it (the password is {s}), then log in.",
        "Use it (the password is {s}). then log in.",
        "See the note (password = {s}); it expires.",
        "(reset the password to {s}), as agreed",
        "(the password is {s}).\n",
        "(the password for the staging db: {s}) until friday",
        "(DB creds are admin / {s}), see the vault",
        "(log in as deploy:{s}), then deploy",
    ],
)
def test_a_parenthesis_closing_the_note_is_kept(text: str) -> None:
    text = text.replace("{s}", SECRET)
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [SECRET], result.text
    assert text.replace(SECRET, MARK) == result.text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("fyi the prod db password is Xk9mQ2vLp8), until friday", "Xk9mQ2vLp8),"),
        ("fyi the prod db password is Xk9(mQ2vLp8), until friday", "Xk9(mQ2vLp8),"),
        ("(fyi the prod db password is Xk9(mQ2vL)p8) until friday", "Xk9(mQ2vL)p8)"),
    ],
)
def test_a_parenthesis_of_the_password_stays_in_it(text: str, secret: str) -> None:
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [secret], result.text


@pytest.mark.parametrize(
    "text",
    ["(the password is ))). then", "(the password is ),, x", 'log("the password is \\n\\n")'],
)
def test_a_value_of_only_what_ends_it_is_none(text: str) -> None:
    assert redact(text).redactions == ()
