"""Passwords five more commands take in forms of their own: `docker login --password X`,
Azure CLI's `az login -p X` / `--password X`, SQL*Plus's `user/X@db`, Windows' `net use
\\\\srv\\share X /user:u` and Samba's `--user=user%X`. Before, each reached the model when X
read as a word; variables, placeholders and the forms that ask for it stay.

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

PASSWORDS = ["Kx9mQ" + "2vLp8", "tayei" + "apbu", "Zkq3" + "pwXa91"]
COMMANDS = [
    "docker login --username alice --password {pw} registry.example.com\n",
    "podman login -u alice --password {pw} quay.io\n",
    "az login -u alice@corp.com -p {pw}\n",
    "az login --username alice@corp.com --password {pw}\n",
    "az login --service-principal -u $APP_ID -p {pw} --tenant t\n",
    "sqlplus scott/{pw}@orcl\n",
    "sqlplus -s scott/{pw}@//db.example.com:1521/ORCL @run.sql\n",
    "sqlplus system/{pw}\n",
    "net use \\\\srv\\share {pw} /user:alice\n",
    "net use Z: \\\\srv\\share {pw} /user:CORP\\alice /persistent:no\n",
    "NET USE \\\\srv\\share /USER:alice {pw}\n",
    "smbclient //srv/share --user=alice%{pw} -c ls\n",
    "smbclient //srv/share --user alice%{pw}\n",
]


@pytest.mark.parametrize("pw", PASSWORDS)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_password_in_a_login_commands_form_is_redacted(command: str, pw: str) -> None:
    text = command.format(pw=pw)
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [pw], result.text


@pytest.mark.parametrize(
    "text",
    [
        "docker login --password-stdin -u alice registry.example.com\n",
        "docker login --password $DOCKER_PASSWORD registry.example.com\n",
        "az login -u alice@corp.com -p $AZ_PASSWORD\n",
        "az login --password <password>\n",
        "az login --identity\n",
        "sqlplus / as sysdba\n",
        "sqlplus scott@orcl\n",
        "sqlplus scott/$PASS@orcl\n",
        "sqlplus /nolog @script.sql\n",
        "net use \\\\srv\\share /user:alice\n",
        "net use \\\\srv\\share * /user:alice\n",
        "net use Z: /delete\n",
        "smbclient //srv/share --user=alice\n",
        "smbclient //srv/share --user=alice%$SMB_PASS\n",
        "sqlplus input/output redirection\n",
        "from sqlplus client/server mode\n",
        "# the net use \\\\srv\\share command maps a drive\n",
    ],
)
def test_a_login_command_without_a_literal_password_keeps_its_words(text: str) -> None:
    assert not redact(text).redactions, redact(text).text
