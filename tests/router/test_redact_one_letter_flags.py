"""A password passed as a one-letter flag's value to a tool that takes it so: OpenLDAP's `-w`
(ldapsearch, ldapadd…), `-P` of sqlcmd, bcp, osql, zip, unzip and mosquitto_pub/_sub, `-p`
glued to 7z's (`-P` too: 7-Zip reads its switches in either case) and rar's (`-hp` too).
Before, none was read, a long random one neither. The other flags are case-sensitive:
mysql's `-P3306` and mosquitto's `-p 1883` are a port, unzip's `-p` a pipe, sshpass's
`-P assword:` a prompt, and mysql's `-p name` (a space after it) asks for the password and
names the database; these stay, as do variables and a bare `-p`/`-W` that asks.

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

PASSWORDS = ["Zkq" + "3qw", "k3x9" + "qa", "Kx9mQ" + "2vLp8", "tayei" + "apbu"]
COMMANDS = [
    "ldapsearch -x -H ldap://h -D cn=admin,dc=x -w {pw} -b dc=x\n",
    "ldapadd -D cn=admin,dc=x -w{pw} -f users.ldif\n",
    "sqlcmd -S db -U sa -P {pw} -Q 'select 1'\n",
    "bcp dbo.t out t.dat -S db -U sa -P{pw} -c\n",
    "zip -P {pw} backup.zip notes.txt\n",
    "unzip -P {pw} backup.zip\n",
    "7z a -p{pw} backup.7z notes\n",
    "rar a -p{pw} backup.rar notes\n",
    "7z x -P{pw} backup.7z\n",  # 7-Zip's switches are read in either case
    "rar a -hp{pw} backup.rar notes\n",  # its headers encrypted too
    "mosquitto_pub -h broker -p 1883 -u dev -P {pw} -t t -m hi\n",
]


@pytest.mark.parametrize("pw", PASSWORDS)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_password_after_a_tools_one_letter_flag_is_redacted(command: str, pw: str) -> None:
    text = command.format(pw=pw)
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [pw], result.text


@pytest.mark.parametrize(
    "text",
    [
        "mysql -h db -P3306 -u root app\n",  # a port
        "mysql -u root -p Zkq3pw\n",  # asks for the password; Zkq3pw is the database
        "sshpass -P assword: -f pwfile ssh web1\n",  # the prompt to answer
        "unzip -p backup.zip notes.txt | less\n",  # to stdout
        "mosquitto_sub -h broker -p 8883 -t t\n",
        "sqlcmd -S db -E -p 1\n",  # performance statistics
        "ldapsearch -x -W -b dc=x\n",  # asks for it
        "ldapsearch -x -w $LDAP_PW -b dc=x\n",
        "7z a -p backup.7z notes\n",  # asks for it
        "rar a -p- backup.rar notes\n",  # no password
        "rar a -hp backup.rar notes\n",  # asks for it
        "zip -P changeme backup.zip notes.txt\n",  # a placeholder
    ],
)
def test_other_flags_ports_prompts_and_variables_stay(text: str) -> None:
    assert redact(text).text == text


@pytest.mark.parametrize(
    "command",
    [
        "7z a -p{pw} backup.7z notes\n",
        "7z x -p{pw} backup.7z\n",
        "rar a -p{pw} backup.rar notes\n",
        "tool -p{pw} output.bin\n",
    ],
)
@pytest.mark.parametrize("pw", ["Xk3" + "pw", "Kx9mQ2" + "pw", "kx9q" + "pw", "KxmQ" + "pw"])
def test_a_glued_password_ending_in_pw_is_not_read_as_a_flags_name(command: str, pw: str) -> None:
    # `-pXk3pw` read as a flag named ...pw, and the file after it hidden as its value
    text = command.format(pw=pw)
    hidden = [text[r.start : r.end] for r in redact(text).redactions]
    assert hidden == ([] if text.startswith("tool") else [pw]), text
