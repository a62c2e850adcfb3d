"""A setter that names a password (`setPassword("…")`, Kotlin's and builders' `.password("…")`)
and .NET's `<add key="DbPassword" value="…"/>` say what the literal is, as SQL's `WITH PASSWORD`
does: random lower-case letters there are a password even when their letter pairs read as
English by chance (dalfdelk, tayeiapbu), and so is a word. Fillers (changeme, password, a
template) and a variable are still left.

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

PASSWORDS = ["dalf" + "delk", "taye" + "iapbu", "nerap" + "evxizi", "sun" + "shine"]
CONTEXTS = [
    'dataSource.setPassword("{pw}");\n',
    'val ds = HikariDataSource().apply {{ setPassword("{pw}") }}\n',
    'val client = Client.builder().user("app").password("{pw}").build()\n',
    '<appSettings>\n  <add key="DbPassword" value="{pw}" />\n',
    "<add key='SmtpPassword' value='{pw}'/>\n",
]


@pytest.mark.parametrize("pw", PASSWORDS)
@pytest.mark.parametrize("context", CONTEXTS)
def test_a_word_a_password_setter_or_key_names_is_redacted(context: str, pw: str) -> None:
    out = redact(context.replace("{{", "{").replace("}}", "}").replace("{pw}", pw)).text
    assert pw not in out, out


@pytest.mark.parametrize(
    "text",
    [
        'dataSource.setPassword("changeme");\n',
        'dataSource.setPassword("password");\n',
        'dataSource.setPassword("${DB_PASSWORD}");\n',
        "dataSource.setPassword(password);\n",
        'builder.password("Enter your password")\n',
        '<add key="DbPassword" value="" />\n',
        '<add key="DbPassword" value="{{ db_password }}" />\n',
        # a pair in a list of strings is a lexer's or a table's words, not a setting
        'KEYWORDS = ("password", "secret", "token")\n',
    ],
)
def test_a_filler_or_reference_a_password_setter_names_is_left(text: str) -> None:
    assert redact(text).text == text
