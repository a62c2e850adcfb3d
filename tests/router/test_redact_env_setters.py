"""A call that sets an environment variable to a literal (Go's os.Setenv, Rust's
env::set_var, Python's os.putenv, os.environ.setdefault and monkeypatch.setenv, .NET's
SetEnvironmentVariable) is read as PHP's define('NAME', 'x'): the literal is the value, so a
password there is hidden whole though it holds spaces or `$`. Before, the pair was read as two
items of a list of strings: a password with a space or a `$` was left whole (os.Setenv with a
password: 0% of those with a space hidden, 45% of WordPress-style values)."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

SALT = "E[*qV{8> i{b8H(Dy|8*(8Y~tD~t%Xb,iu[fMdI8]X|2Y_4rUm;r@BH.3>M1#X_S"
SPACED = "plum tree 7 walk"
DOLLAR = "Beacon1188$"


@pytest.mark.parametrize(
    "template",
    [
        'os.Setenv("DB_PASSWORD", "{v}")\n',
        'std::env::set_var("DB_PASSWORD", "{v}");\n',
        'env::set_var("SMTP_PASSWORD", "{v}");\n',
        "os.putenv('DB_PASSWORD', '{v}')\n",
        "os.environ.setdefault('DB_PASSWORD', '{v}')\n",
        'monkeypatch.setenv("DB_PASSWORD", "{v}")\n',
        'Environment.SetEnvironmentVariable("DB_PASSWORD", "{v}");\n',
    ],
)
@pytest.mark.parametrize("value", [SALT, SPACED, DOLLAR])
def test_a_password_set_in_the_environment_by_a_call_is_hidden_whole(
    template: str, value: str
) -> None:
    text = template.replace("{v}", value)
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [value], result.text


@pytest.mark.parametrize(
    "text",
    [
        'os.Setenv("DB_PASSWORD", os.Getenv("PW"))\n',  # no literal
        'os.Setenv("DB_PASSWORD", "${DB_PASSWORD}")\n',  # a reference
        'monkeypatch.setenv("DB_PASSWORD", "password_here")\n',  # a placeholder
        'std::env::set_var("APP_MODE", "two words");\n',  # no secret's name
        'os.environ.setdefault("DB_PASSWORD", "correct horse battery staple")\n',  # the example
        'define("DB_PASSWORD", "$password");\n',  # PHP interpolates: no literal
    ],
)
def test_a_call_without_a_literal_secret_is_left(text: str) -> None:
    assert redact(text).text == text
