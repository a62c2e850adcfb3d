"""A password flag named in a sentence is no password given: "Avoid wget --password because
it shows in ps" hid `because`, "the keytool -storepass option takes it" hid `option`, and the
same for the one-letter flags (sqlcmd -P, ldapsearch -w, unzip -P, sshpass -p, Samba's -U
user%X). The word after such a flag is left when it is one of English's closed classes or a
word describing an option and the sentence goes on after it; a word-like password (a
dictionary word, tayeiapbu) stays hidden, at the line's end, in quotes and in a sentence too.

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import marker, redact

SENTENCES = [
    "Avoid wget --password because it shows in ps\n",
    "(`wget --password because ...`)\n",
    "Never use docker login --password since the shell history keeps it\n",
    "az login --password because it leaks\n",
    "The keytool -storepass option takes the password on the command line\n",
    "Use the keytool -storepass option.\n",
    "xfreerdp /p:because it leaks\n",
    "ldapsearch -w because it is visible in ps\n",
    "Run sqlcmd -P before anything else\n",
    "# unzip -p a pipe, sshpass -P the prompt; mysql's -p takes its password only\n",
    "Avoid smbclient -U alice%because it leaks\n",
    "redis-cli -a because it leaks\n",
    "openssl enc -k because it is weak\n",
    "-storepass/-keypass (keytool), pass: (openssl), --password (wget, svn), htpasswd.\n",
]


@pytest.mark.parametrize("text", SENTENCES)
def test_a_password_flag_named_in_a_sentence_keeps_the_sentence(text: str) -> None:
    assert not redact(text).redactions, redact(text).text


PASSWORDS = ["tayei" + "apbu", "sun" + "shine", "rasp" + "berry", "Kx9mQ" + "2vLp8"]
COMMANDS = [
    "wget --user bob --password {pw}\n",
    "wget --password {pw} https://h/f\n",
    "wget --password {pw} and then the file\n",
    "Log in with ldapsearch -x -w {pw} and the admin DN\n",
    "sshpass -p {pw} ssh deploy@web1\n",
    "sqlcmd -S srv -U sa -P {pw}\n",
    "keytool -list -keystore ks.jks -storepass {pw}\n",
    "smbclient //srv/share -U alice%{pw} -c ls\n",
]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("pw", PASSWORDS)
def test_a_word_like_password_after_a_flag_stays_hidden(command: str, pw: str) -> None:
    out = redact(command.replace("{pw}", pw)).text
    assert pw not in out
    assert marker("password_assignment") in out, out


@pytest.mark.parametrize(
    "text",
    [
        "wget --password 'because it' https://h/f\n",  # in quotes: the value, whatever it says
        "wget --password because\n",  # the line ends with it: when unsure, hidden
    ],
)
def test_a_sentence_word_quoted_or_ending_the_line_is_still_read_as_the_password(
    text: str,
) -> None:
    assert marker("password_assignment") in redact(text).text
