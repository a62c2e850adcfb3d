"""A password in a connection string or a curl login that holds what a template holds (`$`
and a letter, `$(`, a brace pair) is still a password when the rest of it is random: only a
whole reference (`$DB_PASSWORD`, `${PG_PASS}`, `{password}`, `$(cat /run/secrets/db)`) stands
for one. A password manager's output often starts with `$` or holds `$(` or `{}`; these were
left in DB URLs, Go's MySQL DSNs and `curl -u user:'…'` (in single quotes the shell expands
nothing).

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import marker, redact

PASSWORDS = [
    "$Pf" + "%7C%3EaIDlf7",  # starts with `$` and a letter, percent-encoded symbols
    "nKOy$(" + "1KTI=y)MFS",  # `$(` inside
    "D1@rY@4!Nm$Cs|r^$)+" + "{}WVu",  # a brace pair inside
]
URLS = [
    "DATABASE_URL = 'postgres://app:{pw}@db.internal:5432/app'\n",
    "git clone https://deploy:{pw}@github.com/acme/app.git\n",
    "MONGO_URI=mongodb+srv://admin:{pw}@cluster0.example.net/\n",
    "REDIS_URL=redis://:{pw}@cache:6379/0\n",
    "broker_url = 'amqp://guest:{pw}@rabbit:5672//'\n",
    'db, err := sql.Open("mysql", "app:{pw}@tcp(db:3306)/app")\n',
]


@pytest.mark.parametrize(
    ("template", "pw"),
    # a Go DSN is not percent-encoded: its password is `$Pf|>aIDlf7` as typed
    [(t, p) for t in URLS for p in PASSWORDS if "%" not in p or "@tcp(" not in t]
    + [(URLS[-1], "$Pf|" + ">aIDlf7")],
)
def test_a_url_password_holding_template_marks_is_redacted(template: str, pw: str) -> None:
    out = redact(template.replace("{pw}", pw)).text
    assert pw not in out
    assert marker("connection_string_password") in out, out


@pytest.mark.parametrize(
    "reference",
    ["$DB_PASSWORD", "${PG_PASS}", "{password}", "$(cat /run/secrets/db)", "%(pw)s"],
)
@pytest.mark.parametrize("template", URLS[:1] + URLS[-1:])
def test_a_url_password_that_is_a_reference_is_left(template: str, reference: str) -> None:
    text = template.replace("{pw}", reference)
    assert redact(text).text == text


def test_a_single_quoted_curl_password_starting_with_a_dollar_is_redacted() -> None:
    pw = "$Pf|" + ">aIDlf7"
    out = redact(f"curl -u admin:'{pw}' https://api.example.com/v1\n").text
    assert pw not in out
    assert marker("basic_auth") in out, out


@pytest.mark.parametrize("login", ["admin:$API_TOKEN", 'admin:"$API_TOKEN"', "admin:'$PASSWORD'"])
def test_a_curl_login_naming_a_variable_is_left(login: str) -> None:
    text = f"curl -u {login} https://api.example.com/v1\n"
    assert redact(text).text == text
