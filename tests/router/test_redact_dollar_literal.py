"""A password that starts with `$` and a symbol (`$Pf|>aI…`) is the password itself where
nothing expands `$`: inside a shell word's single quotes, though the quote opens before the
user (`-U 'backup%X'`, `'scott/"X"@orcl'`, `-u 'admin:X'`), and in Windows' cmd (`net use`,
whose variables are `%X%`), in a .pgpass line's last field (libpq expands nothing), in a
sentence ("the password is X"), and in the double quotes Oracle asks of a password with
symbols, the shell's word unquoted (`sqlplus scott/"X"@orcl`). A reference (`$NAME`,
`${NAME}`, `$(cmd)`, PowerShell's `$env:NAME`) there is still one, quoted for a later shell
or a heredoc writing the file, and stays.

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

PW = "$Pf|" + ">aIDlf7"
LITERAL = [
    "smbclient //fileserver/backups -U 'backup%{v}' -c 'put db.tar.gz'\n",
    "RUN smbclient //nas/tools -W CORP -U 'svc_build%{v}' -c 'get toolchain.zip'\n",
    "sqlplus -s 'scott/\"{v}\"@orcl' @migrate.sql\n",
    "RUN echo exit | sqlplus -s 'system/\"{v}\"@//localhost:1521/XEPDB1' @/setup/init.sql\n",
    "    sqlplus 'app_owner/\"{v}\"@PRODDB'\n",
    'net use Z: \\\\fileserver\\builds "{v}" /user:CORP\\builder /persistent:no\n',
    'NET USE \\\\backup01\\share "{v}" /USER:backup\n',
    '      - run: net use \\\\nas\\drops /user:ci "{v}"\n        shell: cmd\n',
    "curl -u 'admin:{v}' https://api.example.com/v1\n",
    "db.internal:5432:app:app:{v}\n",
    "fe80\\:\\:1:5432:app:app:{v}\n",
    "fyi the prod db password is {v} until friday\n",
    "the password for the staging db: {v} until friday\n",
    'sqlplus scott/"{v}"@orcl @migrate.sql\n',
    'SQL> connect scott/"{v}"@orcl\n',
]
REFERENCES = ["$SMB_PASSWORD", "${SMB_PASSWORD}", "$(cat /run/secrets/pw)", "$env:NET_PASS"]


@pytest.mark.parametrize("template", LITERAL)
def test_a_dollar_password_where_nothing_expands_it_is_redacted(template: str) -> None:
    out = redact(template.replace("{v}", PW)).text
    assert "aIDlf7" not in out, out
    assert "$Pf" not in out, out


@pytest.mark.parametrize("template", LITERAL)
@pytest.mark.parametrize("ref", REFERENCES)
def test_a_variable_or_command_in_the_same_place_stays(template: str, ref: str) -> None:
    text = template.replace("{v}", ref)
    assert redact(text).text == text
