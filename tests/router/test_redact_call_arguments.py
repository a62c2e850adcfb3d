"""A keyword argument on a line of its own inside a call (`password=parts['password'],`) is
code: no '(' on its line, it was read as a .env or shell assignment, where every value is
literal, and `parts[` (the value cut at its quote) or `auth_info[2]` was hidden."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact


@pytest.mark.parametrize(
    "text",
    [
        "return cls(\n    user=parts['user'],\n    password=parts['password'],\n)\n",
        "h = build_auth_header(\n    username=auth_info[0], password=auth_info[2]\n)\n",
        "conn = connect(\n    host=host,\n    password=settings.DB_PASSWORD,\n)\n",
    ],
)
def test_keyword_arguments_on_their_own_lines_are_code(text: str) -> None:
    result = redact(text)
    assert result.redactions == (), [text[r.start : r.end] for r in result.redactions]


@pytest.mark.parametrize(
    "text, secret",
    [
        ("DB_HOST=db.internal\nDB_PASSWORD=Xk9mQ2vLp8\n", "Xk9mQ2vLp8"),
        ("docker run \\\n  -e DB_PASSWORD=Xk9mQ2vLp8 app\n", "Xk9mQ2vLp8"),
        ('conn = connect(\n    host="db",\n    password="Xk9mQ2vLp8",\n)\n', "Xk9mQ2vLp8"),
        ("environment:\n  - POSTGRES_PASSWORD=Xk9mQ2vLp8\n", "Xk9mQ2vLp8"),
    ],
)
def test_env_lines_and_literal_arguments_are_still_redacted(text: str, secret: str) -> None:
    assert secret not in redact(text).text, text
