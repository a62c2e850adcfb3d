"""Commands quoted by code, lists of names, SQL*Plus scripts' CONNECT and Windows' switches.

- `net use … /user:u X` read X past the closing quote of a string that quotes the command
  (`"NET USE \\\\\\\\h\\\\s {s} /USER:x\\n", render=cmd_arg),` hid `render=cmd_arg),`).
- A quoted password-named string in a list of strings made the next string its value
  (`__all__ = ["command_hits", "flag_password", "names_the_flag"]` hid `names_the_flag`,
  `exclude = ["password", "last_login"]` hid `last_login`); a pair in a tuple or a dict stays.
- SQL*Plus scripts' `CONNECT scott/X`, `CONN user/X@db` leaked; prose ("connect to/from",
  "conn/sec") stays.
- osql's `/P X` leaked, and WinRAR's `/hpX` on a line the one-letter flags' gate passes (an
  update's `-u`, a `/p` or `-p` switch; a line with `/hp` alone is looked at since, see
  test_redact_windows_and_ldap_switches.py); bcp's `-P X` was read already.

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

PASSWORDS = ["Kx9mQ" + "2vLp8", "tayei" + "apbu", "Zkq3" + "pwXa91"]


def _hidden(text: str) -> list[str]:
    return [text[r.start : r.end] for r in redact(text).redactions]


@pytest.mark.parametrize(
    "text",
    [
        'Format("x", "NET USE \\\\\\\\h\\\\s {s} /USER:x\\n", render=cmd_arg),\n',
        '    "net use \\\\\\\\srv\\\\share /user:alice", check=True,\n',
        "cmd = 'net use \\\\\\\\h\\\\s /user:u' + pw\n",
        "run(f'net use \\\\\\\\h\\\\s', shell=True)\n",
        "net use \\\\srv\\share /user:alice render=cmd_arg),\n",
    ],
)
def test_code_quoting_a_net_use_command_keeps_its_words(text: str) -> None:
    assert _hidden(text) == [], redact(text).text


@pytest.mark.parametrize("pw", PASSWORDS)
@pytest.mark.parametrize(
    "command",
    [
        'net use Z: "\\\\srv\\my share" {pw} /user:alice\n',
        'net use \\\\srv\\share /user:"CORP\\alice" {pw}\n',
        "net use \\\\srv\\share /user:alice {pw}\n",
        "NET USE \\\\srv\\share {pw} /USER:alice\n",
    ],
)
def test_a_net_use_password_after_a_quoted_share_or_user_is_redacted(command: str, pw: str) -> None:
    text = command.format(pw=pw)
    assert _hidden(text) == [pw], redact(text).text


@pytest.mark.parametrize(
    "text",
    [
        '__all__ = ["command_hits", "flag_password", "names_the_flag"]\n',
        "__all__ = ['password', 'names_the_flag']\n",
        '__all__ = (\n    "flag_password",\n    "names_the_flag",\n)\n',
        'exclude = ["password", "last_login"]\n',
        'fields = ["username", "password", "date_joined"]\n',
        'NAMES = (\n    "user",\n    "password",\n    "remember_me",\n)\n',
    ],
)
def test_a_string_after_a_password_name_in_a_list_of_names_is_kept(text: str) -> None:
    assert _hidden(text) == [], redact(text).text


@pytest.mark.parametrize(
    "template",
    [
        'x = ("password", "{pw}")\n',
        'x = {{"password": "{pw}"}}\n',
        'headers = [("user", "u"), ("password", "{pw}")]\n',
        'DATABASES = ("password", "{pw}")\n',
        'x = ["password", "{pw}"]\n',
        'args = ["user", "password", "{pw}"]\n',
        '__all__ = ["password", "{pw}"]\n',
    ],
)
def test_a_chosen_password_paired_with_its_name_stays_hidden(template: str) -> None:
    pw = "Kx9mQ" + "2vLp8"
    text = template.format(pw=pw)
    assert _hidden(text) == [pw], redact(text).text


def test_a_snake_case_value_of_a_password_tuple_stays_hidden() -> None:
    # a tuple of two is a name and its value (settings, headers): when unsure, redact
    pw = "correct_" + "horse_battery"
    text = f'AUTH = ("password", "{pw}")\n'
    assert _hidden(text) == [pw], redact(text).text


@pytest.mark.parametrize("pw", PASSWORDS + ["ti" + "ger"])
@pytest.mark.parametrize(
    "line",
    [
        "CONNECT scott/{pw}\n",
        "CONN scott/{pw}@orcl\n",
        "connect scott/{pw}@//db.example.com:1521/ORCL\n",
        "SQL> connect sys/{pw} as sysdba\n",
        "  CONNECT hr/{pw};\n",
        'conn system/"{pw}"@orcl\n',
        "WHENEVER SQLERROR EXIT 1\nCONNECT app/{pw}@prod\n",
    ],
)
def test_a_sqlplus_scripts_connect_password_is_redacted(line: str, pw: str) -> None:
    text = line.format(pw=pw)
    assert _hidden(text) == [pw], redact(text).text


@pytest.mark.parametrize(
    "text",
    [
        "CONNECT / AS SYSDBA\n",
        "connect scott@orcl\n",
        "connect scott/&pw@orcl\n",
        "conn scott/$PW@db\n",
        "Connect to/from the server\n",
        "connect to/from\n",
        "throughput: 30 conn/sec\n",
        "We connect scott/tiger later in the guide\n",
        "connect input/output streams\n",
    ],
)
def test_connect_without_a_literal_password_keeps_its_words(text: str) -> None:
    assert _hidden(text) == [], redact(text).text


@pytest.mark.parametrize("pw", PASSWORDS)
@pytest.mark.parametrize(
    "command",
    [
        "osql -S srv -U sa /P {pw}\n",
        'osql /S srv /U sa /P {pw} /Q "select 1"\n',
        "bcp db..t out f.dat -S srv -U sa -P {pw} -c\n",
        "rar.exe a -u /hp{pw} arch.rar C:\\files\n",
        "rar a -hp{pw} arch.rar files\n",
    ],
)
def test_a_windows_switch_password_of_osql_bcp_and_rar_is_redacted(command: str, pw: str) -> None:
    text = command.format(pw=pw)
    assert _hidden(text) == [pw], redact(text).text


def test_a_random_rar_slash_password_is_redacted_on_a_unix_line() -> None:
    pw = "Kx9mQ" + "2vLp8"
    text = f"rar a -u /hp{pw} arch.rar files\n"
    assert _hidden(text) == [pw], redact(text).text


@pytest.mark.parametrize(
    "text",
    [
        "rar a -u x.rar /hpux",
        "rar a backup.rar /home/hpuser",
        "rar a -u backup.rar /hp",
        "osql /?",
        "The osql /P option takes the password\n",
    ],
)
def test_a_windows_switch_without_a_password_keeps_its_words(text: str) -> None:
    assert _hidden(text) == [], redact(text).text
