"""Password switches in forms the rules did not read: 7-Zip's Windows `/pX` (its switches start
with `-` or `/`, in either case), sqlcmd's `/P X`, ldappasswd's `-a X` (the old password) and
`-s X` (the new one), RAR's `-HPX` (its switches are read in either case). Each leaked. A Unix
path after 7z (`/projects/app`, `/proc`) is no switch, ldapsearch's `-s sub` and `-a never` are
a scope and a dereference, and the forms that ask for the password give none.

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import marker, redact

PASSWORDS = ["Kx9mQ" + "2vLp8", "tayei" + "apbu"]
COMMANDS = [
    "7z.exe a -tzip C:\\backup\\b.zip C:\\data /p{pw}\n",
    "7z.exe x b.7z /P{pw} -oC:\\out\n",
    'sqlcmd /S srv /U sa /P {pw} /Q "select 1"\n',
    "sqlcmd.exe /S srv /U sa /P{pw}\n",
    "ldappasswd -x -D cn=admin,dc=x -W -a {pw} uid=bob,dc=x\n",
    "ldappasswd -H ldap://h -x -D cn=admin -W -s {pw} uid=bob\n",
    "rar a -HP{pw} arc.rar f\n",
    "RAR A -Hp{pw} arc.rar f\n",
    "unrar x -P{pw} arc.rar\n",
]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("pw", PASSWORDS)
def test_a_password_in_a_windows_or_ldappasswd_switch_is_redacted(command: str, pw: str) -> None:
    out = redact(command.replace("{pw}", pw)).text
    assert pw not in out
    assert marker("password_assignment") in out, out


def test_a_random_password_after_7zips_slash_switch_is_redacted_on_any_line() -> None:
    pw = "Kx9mQ" + "2vLp8"
    assert pw not in redact(f"7z a b.7z docs /p{pw}\n").text


@pytest.mark.parametrize(
    "text",
    [
        "7z a b.7z /projects/app\n",
        "7z a b.7z /proc\n",
        "7z a b.7z /public\n",
        "7z x b.7z /p\n",
        "sqlcmd -S srv -i /Projects/a.sql\n",
        "ldappasswd -A -S uid=bob\n",
        "ldapsearch -x -s sub -a never -b dc=x\n",
        "Use ldappasswd -s because the server will not generate one\n",
        "rar a -hp arc.rar f\n",
    ],
)
def test_paths_scopes_and_prompting_switches_keep_their_words(text: str) -> None:
    assert not redact(text).redactions, redact(text).text


@pytest.mark.parametrize(
    "command",
    [
        # alone on its line (no other switch let the line be read)
        "rar a /hp{pw} arch.rar\n",
        "rar a /hp{pw} arch.rar docs\n",
        # where 7-Zip and RAR take a switch and no path: before the archive's name, or after it
        # when the command adds no files (a Unix line: no `\\`, no `.exe`)
        "rar a -u /hp{pw} arch.rar files\n",
        "7z x b.7z /p{pw}\n",
        "7z x /p{pw} b.7z\n",
        "7z a -tzip /p{pw} dist.zip build\n",
        "rar x arch.rar /p{pw}\n",
        # a command quoted in code: its literal's escape is no part of the password
        'cmd = "rar a -u /hp{pw} x.rar\\n"\n',
        'run("7z x b.7z /p{pw}\\n")\n',
    ],
)
@pytest.mark.parametrize("pw", PASSWORDS)
def test_an_archivers_slash_switch_is_redacted_where_no_path_goes(command: str, pw: str) -> None:
    text = command.replace("{pw}", pw)
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [pw], result.text


@pytest.mark.parametrize(
    "text",
    [
        # files to add after the archive: a Unix path's `/p`, `/hp`
        "7z a b.7z /proc\n",
        "7z u b.7z /public\n",
        "rar a x.rar /hpux\n",
        "rar a -r x.rar /hpux /home\n",
        # a command quoted in code: `ux\\n` was read as a Windows line's password
        'cmd = "rar a -u x.rar /hpux\\n"\n',
        'cmd = "rar a -u x.rar -hpux\\n"\n',
        'args = "7z a b.7z /proc\\n"\n',
    ],
)
def test_an_archivers_paths_stay_where_files_go(text: str) -> None:
    assert not redact(text).redactions, redact(text).text
