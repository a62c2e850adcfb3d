"""A password passed to a command that takes one as a flag's value (`sshpass -p`, `redis-cli
-a`, `docker login -p`, `mysql -p…`) is one even when it reads as a word (`raspberry`,
`tayeiapbu`): the flag says so, as a name does. In single quotes the shell expands nothing, so
`'$Pf|>aI…'` there is the password itself; a variable (`$SSHPASS`, `"$TOKEN"`) and a
placeholder (`-ppassword`, `changeme`) are still left.

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import marker, redact

COMMANDS = [
    "sshpass -p {pw} ssh deploy@web1\n",
    "docker login -u ci -p {pw} registry.example.com\n",
    "redis-cli -h cache -a {pw} ping\n",
    "mysql -u root -p{pw} app < schema.sql\n",
]
WORDS = ["tayei" + "apbu", "rasp" + "berry", "nerap" + "evxizi"]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("pw", [*WORDS, "'$Pf|" + ">aIDlf7'"])
def test_a_flag_password_that_reads_as_a_word_or_starts_with_a_dollar_is_redacted(
    command: str, pw: str
) -> None:
    out = redact(command.replace("{pw}", pw)).text
    assert pw.strip("'") not in out
    assert marker("password_assignment") in out, out


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("pw", ["$SSHPASS", '"$TOKEN"', "password", "changeme", "'${PW}'"])
def test_a_flag_value_naming_a_variable_or_a_placeholder_is_left(command: str, pw: str) -> None:
    text = command.replace("{pw}", pw)
    assert redact(text).text == text
