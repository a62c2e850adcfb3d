"""Three forms the secret corpus's command samples found missed: a one-letter flag's password
given to a command run by its path (`/opt/mssql-tools18/bin/sqlcmd -P X`, as every SQL Server
image's healthcheck writes it), SQL*Plus's password double-quoted as Oracle asks of one with
symbols (`sqlplus 'scott/"P@ss!"@orcl'`), and a setter's bare argument starting with a digit
(`setPassword(5nND…, salt)`).

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

PASSWORDS = ["Kx9mQ" + "2vLp8", "tayei" + "apbu", "P@ss" + "w0rd!24", "autumn-cedar" + "-lantern"]
PATH_COMMANDS = [
    "RUN /opt/mssql-tools18/bin/sqlcmd -S db -U sa -P '{pw}' -C -i /init/schema.sql\n",
    "      test: /opt/mssql-tools/bin/sqlcmd -S localhost -U sa -P '{pw}' -Q 'SELECT 1'\n",
    "      test: [\"CMD-SHELL\", \"/opt/mssql-tools/bin/sqlcmd -U sa -P '{pw}' -Q 'SELECT 1'\"]\n",
    "/usr/bin/mysql -u root -p'{pw}' app < schema.sql\n",
    "./sshpass -p '{pw}' ssh deploy@web1\n",
    "~/bin/7z a -p'{pw}' backup.7z data/\n",
]
ORACLE_QUOTED = [
    "sqlplus -s 'scott/\"{pw}\"@orcl' @migrate.sql\n",
    "RUN echo exit | sqlplus -s 'system/\"{pw}\"@//localhost:1521/XEPDB1' @/setup/init.sql\n",
    "sqlplus 'sys/\"{pw}\" as sysdba'\n",
]


@pytest.mark.parametrize("pw", PASSWORDS)
@pytest.mark.parametrize("command", PATH_COMMANDS + ORACLE_QUOTED)
def test_a_password_given_to_a_command_by_its_path_or_oracle_quoted_is_redacted(
    command: str, pw: str
) -> None:
    text = command.format(pw=pw)
    result = redact(text)
    assert pw not in result.text, result.text


@pytest.mark.parametrize(
    "value", ["5nNDz1dY" + "y6XFrO", "3cHvn" + "WaIL", "2024" + "Summer" + "Deploy"]
)
def test_a_setters_bare_argument_starting_with_a_digit_is_redacted(value: str) -> None:
    for text in (f"user.setPassword({value}, salt);\n", f"- reset with `setPassword({value})`\n"):
        result = redact(text)
        assert [text[r.start : r.end] for r in result.redactions] == [value], result.text


@pytest.mark.parametrize(
    "text",
    [
        "see docs/sqlcmd -P for the options\n",
        "curl -O https://dl.example.com/bin/sshpass -p is not needed here\n",
        'sqlplus scott/"$ORA_PW"@orcl\n',
        "user.setPassword(12345678, salt);\n",
        "user.setPassword(0x1F2E3D4C);\n",
        "cfg.setPassword(1000000L)\n",
    ],
)
def test_a_path_a_variable_or_a_number_keeps_its_words(text: str) -> None:
    assert not redact(text).redactions, redact(text).text
