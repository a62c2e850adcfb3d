"""A secret whose name comes after it in a sentence: "Xk9mQ2vLp8rT is the password for the
staging db", "use Xk9mQ2vLp8rT as the password", "<hex> is our api key" (_redact_phrases.py),
and one named by words and a "for" before a colon: "API key for staging: <hex>" (what a state
key in prose words and its value read as, at_rest.py). The value is judged as other prose
values are: a password a person chose, or a machine-made key or token; words, versions,
references and placeholders stay, and so does a value whose name goes on to a noun ("the
password hash", "the token format")."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

PASSWORD = "Xk9mQ2vL" + "p8rT"
HEX = "9f8e7d6c5b4a3928" + "1706f5e4d3c2b1a0"
TOKEN = "aB3dE5gH7jK9m" + "N1pQ3sT5vX"
PW_MARK = "[REDACTED:password_assignment]"
KEY_MARK = "[REDACTED:generic_secret_assignment]"


@pytest.mark.parametrize(
    ("text", "secret", "mark"),
    [
        ("{p} is the password for the staging db", PASSWORD, PW_MARK),
        ("note: {p} is the password for the staging db.", PASSWORD, PW_MARK),
        ("`{p}` is my password", PASSWORD, PW_MARK),
        ("{p} was the old db password, rotated", PASSWORD, PW_MARK),
        ("use {p} as the password", PASSWORD, PW_MARK),
        ("Use '{p}' as the staging db password.", PASSWORD, PW_MARK),
        ("using {p} as password for now", PASSWORD, PW_MARK),
        ("{h} is our api key", HEX, KEY_MARK),
        ("- {h} is the API key for staging", HEX, KEY_MARK),
        ("{t} is the deploy token", TOKEN, KEY_MARK),
        ("use {t} as the webhook secret", TOKEN, KEY_MARK),
        ("API key for staging: {h}", HEX, KEY_MARK),
        ("deploy token for the ci runner: {t}", TOKEN, KEY_MARK),
    ],
)
def test_a_value_named_after_it_is_redacted(text: str, secret: str, mark: str) -> None:
    text = text.format(p=PASSWORD, h=HEX, t=TOKEN)
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [secret], result.text
    assert result.text == text.replace(secret, mark)


@pytest.mark.parametrize(
    "text",
    [
        "hunter2 is the password",
        "admin is the password for the demo",
        "Argon2id is the password hash we use",
        "use bcrypt as the password hash",
        "use $DB_PASSWORD as the password",
        "use <password> as the password",
        "use settings.api_key as the api key",
        "v2.3.1 is the token format version",
        f"{HEX} is the token hash",
        f"{HEX} is the commit that fixed the token refresh",
        f"{HEX} is the cache key",
        f"{PASSWORD} is the password field's name in the fixture",
        "this is the password for the staging db",
        "Key for the cache: " + HEX,
        "API key for staging: ask ops",
    ],
)
def test_words_and_other_values_before_a_secrets_name_are_kept(text: str) -> None:
    result = redact(text)
    assert result.text == text, result.redactions


def test_each_name_takes_the_value_before_it_on_a_long_line() -> None:
    """The rule looks only before the keywords the assignment scan found (password, token,
    key, secret): two names on a line, one of two words ("secret key"), far into a text."""
    text = (
        "x " * 400
        + f"{PASSWORD} is the password and {TOKEN} is the secret key, "
        + f"the tokens were rotated; use {HEX} as our api key"
    )
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [PASSWORD, TOKEN, HEX]
