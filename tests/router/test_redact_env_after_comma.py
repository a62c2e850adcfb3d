"""A .env or shell line is not a keyword argument because the line before ends in ',' or
'(': `DB_PASSWORD=sunshine1` after `ALLOWED_HOSTS=a.example,b.example,` or after a comment
ending in ',' was read as code (624aa01's rule for `password=parts['password'],` inside a
call), where a bare word with a digit is a variable, and left. A keyword argument is indented
inside its call; a line at column 0, or one after a comment, is not one."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("ALLOWED_HOSTS=a.example,b.example,\nDB_PASSWORD=sunshine1\n", "sunshine1"),
        ("# database (postgres),\nDB_PASSWORD=sunshine1\n", "sunshine1"),
        ("# see the docs (\nDB_PASSWORD=sunshine1\n", "sunshine1"),
        ("    # the app's database,\n    DB_PASSWORD=sunshine1\n", "sunshine1"),
        ("// database settings,\nexport DB_PASSWORD=hunter22\n", "hunter22"),
        ("# hosts: a, b,\npassword: sunshine1\n", "sunshine1"),
        ("1. Set the variables below,\n   DB_PASSWORD=sunshine1\n", "sunshine1"),
        ("Then, in the service's settings,\n    DB_PASSWORD=sunshine1\n", "sunshine1"),
    ],
)
def test_an_env_line_after_a_comma_is_still_redacted(text: str, secret: str) -> None:
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [secret], result.text


@pytest.mark.parametrize(
    "text",
    [
        "return cls(\n    user=parts['user'],\n    password=parts['password'],\n)\n",
        "h = build_auth_header(\n    username=auth_info[0], password=auth_info[2]\n)\n",
        "x = dict(a=1,\n    password=hunter22)\n",
        "cfg = {\n  user: u,\n  password: sunshine1\n}\n",
        "f(\n    url, timeout, retries,\n    password=pw_var\n)\n",
        "f(\n    url,\n    password=pw_var\n)\n",
    ],
)
def test_keyword_arguments_inside_a_call_are_still_code(text: str) -> None:
    assert redact(text).redactions == ()
