"""Config lines inside string literals end at their escape: `"password=Xk9mQ2vLp8\\n",` hid
`Xk9mQ2vLp8\\n` (the line's escaped newline read into the value), `"password: Xk9mQ2vLp8",` hid
the literal's closing quote and comma (the YAML reading took the rest of the line), and
`"[db]\\npassword = X\\nhost = db"` hid `X\\nhost` (the next line's key). The value is hidden,
the escape and what follows it are kept."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

SECRET = "Xk9mQ2vLp8"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ('lines = [\n    "password={s}\\n",\n    "host=db\\n",\n]\n', '={m}\\n",'),
        ('f.write("DB_PASSWORD={s}\\n")\n', '={m}\\n")'),
        ('{"log": "DB_PASSWORD={s}\\nDEBUG=1"}', "={m}\\nDEBUG=1"),
        ("cfg = 'password={s}\\r\\nhost=db'\n", "={m}\\r\\nhost"),
        ('x = "[db]\\npassword = {s}\\nhost = db\\n"\n', "= {m}\\nhost = db"),
        ('    "password: {s}",\n', ': {m}",'),
        ('    "password: {s}\\n",\n', ': {m}\\n",'),
        ('msg = "the password is {s}\\n"\n', "is {m}\\n"),
    ],
)
def test_the_value_ends_at_the_escape_or_the_closing_quote(text: str, kept: str) -> None:
    text = text.replace("{s}", SECRET)
    out = redact(text).text
    assert SECRET not in out
    assert kept.replace("{m}", "[REDACTED:password_assignment]") in out, out


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        # a backslash escaped in the literal is the password's own: it is kept in the value
        ('s = "password=Xk9\\\\nmQ2vLp8\\n"\n', "Xk9\\\\nmQ2vLp8"),
        # outside a literal, a backslash and a letter followed by more of the value stay in it
        ("DB_PASSWORD=Xk9\\nmQ2vLp8\n", "Xk9\\nmQ2vLp8"),
        ("password: Xk9mQ2\\tvLp8\n", "Xk9mQ2\\tvLp8"),
    ],
)
def test_a_backslash_inside_a_password_stays_hidden(text: str, secret: str) -> None:
    result = redact(text)
    assert secret not in result.text, result.text
    assert [text[r.start : r.end] for r in result.redactions] == [secret]
