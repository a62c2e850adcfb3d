"""A bare password in an object literal or a sentence, followed by the next key
(`{ user: u, password: X, host: h }`, `db password: X, host: db1`): the sentence rules took
the `,` after it into the value (a sentence's comma is hidden with it: one character more
rather than one of the password shown), and with no space after the comma the next key too
(`X,host:`), and an object's closing `}`. A `,` or `;` followed by a key and its `:` or `=`
parts the fields, and a `}` closing a `{` opened before the name on its line closes it: the
password alone is hidden, the separator, the next key and the brace stay.

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import marker, redact

PASSWORDS = ["Zkq" + "3pwXa91", "Kx9!" + "mQ2z", "Zkq" + "3pw"]


@pytest.mark.parametrize("pw", PASSWORDS)
@pytest.mark.parametrize(
    ("form", "kept"),
    [
        ("{{ user: u, password: {pw}, host: h }}\n", ", host: h }"),
        ('connect({{ user: "u", password: {pw}, host: "h" }})\n', ', host: "h" })'),
        ("{{user: u, password: {pw},host: h}}\n", ",host: h}"),
        ("{{ user: u, password: {pw}; host: h }}\n", "; host: h }"),
        ("{{password: {pw}}}\n", "}"),
        ("f(password: {pw}, host: h)\n", ", host: h)"),
        ("db password: {pw}, host: db1\n", ", host: db1"),
        ("the password is {pw}, user=admin\n", ", user=admin"),
        ("  password: {pw}, host: h\n", ", host: h"),
    ],
)
def test_the_separator_and_the_next_key_stay(form: str, kept: str, pw: str) -> None:
    text = form.format(pw=pw)
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [pw], result.text
    assert result.text.endswith(kept + "\n"), result.text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        # a sentence's comma before words, no key: hidden with the password, as before
        ("fyi the prod db password is Kx9!mQ2z, for the demo box\n", "Kx9!mQ2z,"),
        # a comma inside the password, no key after it
        ("the password is Kx9!,mQ2z now\n", "Kx9!,mQ2z"),
        # a brace of the password's own, none opened before it
        ("the password is Kx9!mQ2z} now\n", "Kx9!mQ2z}"),
    ],
)
def test_a_comma_or_brace_with_no_key_or_opener_stays_in_the_password(
    text: str, secret: str
) -> None:
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [secret], result.text


@pytest.mark.parametrize(
    "form",
    [
        "const c = {{\n  user: u,\n  password: {pw},\n  host: h\n}};\n",
        "c := Config{{\n\tUser: u,\n\tPassword: {pw},\n}}\n",
    ],
)
@pytest.mark.parametrize("pw", ["Zkq3pw" + "Xa91", "Kx9mQ2" + "vLp8Tz"])
def test_a_long_bare_password_on_its_own_line_in_an_object_is_redacted(form: str, pw: str) -> None:
    # only a 6-7 character one was (short_random); 8+ characters were left as a name
    text = form.format(pw=pw)
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [pw], result.text


@pytest.mark.parametrize(
    "value", ["dbPassword", "PASSWORD_FROM_ENV", "undefined", "defaultPassword", "changeme123"]
)
def test_a_variable_or_placeholder_on_its_own_line_in_an_object_stays(value: str) -> None:
    text = f"const c = {{\n  password: {value},\n  host: h\n}};\n"
    assert redact(text).text == text


@pytest.mark.parametrize(
    "form",
    [
        "  password: {pw},\n",
        "const c = {{\n  user: u,\n  password: {pw},\n  host: h\n}};\n",
        "c := Config{{\n\tPassword: {pw},\n}}\n",
        "  password: {pw};\n",
        "  password: {pw},  # rotated\n",
    ],
)
@pytest.mark.parametrize("pw", ["Kx9!mQ2" + "vLp8", "Zkq3pw#" + "Xa91", "mQ2vLp8" + "Tz9@"])
def test_the_separator_after_a_password_with_one_symbol_at_its_lines_end_stays(
    form: str, pw: str
) -> None:
    # the `,` made `Kx9!mQ2vLp8,` symbol-heavy, read as a password manager's value, and was
    # hidden with it
    text = form.format(pw=pw)
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [pw], result.text


@pytest.mark.parametrize(
    "text",
    [
        "{ user: u, password: {pw},q: }\n",
        "{ user: u, password: {pw},q:}\n",
        "user: u, password: {pw},q:\n",
        "{ user: u, password: {pw};db= }\n",
    ],
)
def test_a_password_ending_like_a_key_with_no_value_after_is_hidden_whole(text: str) -> None:
    # `,q:` with nothing after it (the line's or the object's end) is the password's own tail:
    # cut as a next key it was shown.
    pw = "Kx9mQ" + "2vLp8"
    out = redact(text.replace("{pw}", pw)).text
    assert ",q:" not in out and ";db=" not in out, out
    assert marker("password_assignment") in out
