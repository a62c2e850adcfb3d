"""`password=value` after a log or config line's label (`config: password=x`) or between words
(`x password=x y`) sets a value, as a logfmt field does; it was read as a code keyword argument,
where a bare identifier is a variable, and `hunter2secret99` was left. A keyword argument
stands after `(` or `, ` inside a call, and a declaration ends its line: those stay code."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("config: password=hunter2secret99", "hunter2secret99"),
        ("x password=hunter2secret99 y", "hunter2secret99"),
        ("db: password=mydogsname1987", "mydogsname1987"),
        ("db: db_pass=mydogsname1987", "mydogsname1987"),
        ("2024-05-01 12:00:01 db: password=mydogsname1987\n", "mydogsname1987"),
        ("connecting with password=hunter2secret99 to the primary\n", "hunter2secret99"),
        ("make deploy password=mydogsname1987 target=prod\n", "mydogsname1987"),
        ('echo "db: password=mydogsname1987"\n', "mydogsname1987"),
    ],
)
def test_a_value_after_a_label_or_between_words_is_redacted(text: str, secret: str) -> None:
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [secret], result.text


@pytest.mark.parametrize(
    "text",
    [
        "f(a, password=pw)\n",
        "connect(host, password=db_password)\n",
        "login(user, password=pw)\n",
        "conn = connect(\n    host, password=db_password\n)\n",
        "if ok: password=pw_value\n",
        "else: password=fallback_pw\n",
        "case 1: token=next_token; break;\n",
        "String password=userInput;\n",
        "const password=userInput\n",
        "let password=userInput in check password\n",
        "var token=readToken() ?? defaultToken\n",
        'log.info("db: password=%s", db_password)\n',
        "default: password=fallback_pw;\n",
    ],
)
def test_code_keyword_arguments_and_declarations_stay_visible(text: str) -> None:
    assert redact(text).redactions == (), redact(text).text
