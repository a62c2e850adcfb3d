"""A token with only its last characters masked (`gho_<32 random characters>xxxx`, how a
screenshot or an issue quotes one) was read as filler, as `gho_xxxx…` is, and left: most of
it gives itself away. And a .pgpass line whose host is an IPv6 address (its colons escaped,
`fe80\\:\\:1`, or bracketed, `[::1]`) was not read as one, so its password stayed.

Secrets are assembled at run time, so this file holds no literal token or password."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

BODY = "16C7e42F292c6912" + "E7710c838347Ae17"


@pytest.mark.parametrize("prefix", ["gho_", "ghp_", "ghu_"])
@pytest.mark.parametrize(
    "line",
    ["GITHUB_TOKEN={t}\n", "token = '{t}'\n", "the token {t} was revoked\n", '"token": "{t}"\n'],
)
def test_a_token_with_a_masked_tail_is_redacted(line: str, prefix: str) -> None:
    token = prefix + BODY + "8B4a" + "xxxx"
    out = redact(line.replace("{t}", token)).text
    assert BODY not in out, out


@pytest.mark.parametrize(
    "text",
    [
        "GITHUB_TOKEN=ghp_" + "x" * 36 + "\n",
        "GITHUB_TOKEN=gho_" + "X" * 36 + "\n",
        "export AWS_ACCESS_KEY_ID=AKIA" + "x" * 16 + "\n",
        "ANTHROPIC_API_KEY=sk-ant-api03-" + "x" * 40 + "\n",
        "token = 'ghp_abc" + "x" * 33 + "'\n",  # a short head before the mask: filler
    ],
)
def test_a_masked_token_with_little_before_the_mask_is_left(text: str) -> None:
    assert redact(text).text == text


PW = "Xk9f" + "Q2mZ7pLw"


@pytest.mark.parametrize(
    "host",
    ["db.internal", "\\:\\:1", "fe80\\:\\:1", "[::1]", "[2001:db8::5]", "*"],
)
def test_a_pgpass_line_with_any_host_has_its_password_redacted(host: str) -> None:
    text = f"{host}:5432:app:alice:{PW}\n"
    out = redact(text).text
    assert PW not in out, out
    assert out.startswith(f"{host}:5432:app:alice:")


def test_a_pgpass_comment_is_left() -> None:
    text = "# hostname:port:database:username:password\n"
    assert redact(text).text == text


@pytest.mark.parametrize("word", ["tayeiapbu", "nerapevxizi", "dalfdelk", "postgres"])
def test_a_pgpass_password_that_reads_as_a_word_is_redacted(word: str) -> None:
    # the fifth field is the password whatever it reads as (a flag's value is judged so too)
    text = f"db.internal:5432:app:app:{word}\n"
    assert redact(text).text == "db.internal:5432:app:app:[REDACTED:password_assignment]\n"


@pytest.mark.parametrize("value", ["password", "$PGPASSWORD", "${PGPASSWORD}", "<password>"])
def test_a_pgpass_placeholder_or_a_heredocs_variable_is_left(value: str) -> None:
    text = f"db.internal:5432:app:app:{value}\n"
    assert redact(text).text == text
