"""SQL's `WITH PASSWORD '<x>'` (CREATE/ALTER USER or ROLE) sets a password, though it reads as
a word (`raspberry`, `tayeiapbu`): the statement names it, as a flag does. A placeholder
(`'password'`, `'changeme'`) and a sentence in quotes are still left.

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import marker, redact

STATEMENTS = [
    "CREATE USER app WITH PASSWORD '{pw}';\n",
    "ALTER ROLE app WITH ENCRYPTED PASSWORD '{pw}';\n",
    "ALTER USER app SET PASSWORD '{pw}';\n",
]


@pytest.mark.parametrize("statement", STATEMENTS)
@pytest.mark.parametrize("pw", ["tayei" + "apbu", "rasp" + "berry"])
def test_a_sql_password_that_reads_as_a_word_is_redacted(statement: str, pw: str) -> None:
    out = redact(statement.replace("{pw}", pw)).text
    assert pw not in out
    assert marker("password_assignment") in out, out


@pytest.mark.parametrize("statement", STATEMENTS)
@pytest.mark.parametrize("pw", ["password", "changeme", "your password here"])
def test_a_sql_placeholder_password_is_left(statement: str, pw: str) -> None:
    text = statement.replace("{pw}", pw)
    assert redact(text).text == text
