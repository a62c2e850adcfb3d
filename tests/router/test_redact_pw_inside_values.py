"""A random password that holds the letters "pw" (ypwlpingngl, bakspwga) read as the name of
a variable holding one (`dbPw`, `pw_hash`): a setter's, an <add key=... value=...>'s, SQL's
`WITH PASSWORD` and a note's password was left. "pw" names a password only at the start or the
end of one of a name's words.

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

PASSWORDS = [
    "yp" + "wlpingngl",
    "baks" + "pwga",
    "elrqronhfbe" + "pwlp",
    # a fragment that case or a digit splits off ending or starting with "pw" (Kpw, 7, x, Q…):
    # it was read as a name's word
    "K" + "pw7xQ9zL",
    "mR4" + "pwTz8qL",
    "Hq9x" + "pw2Lmz",
]
CONTEXTS = [
    'dataSource.setPassword("{pw}");\n',
    'val ds = DataSource.builder().password("{pw}").build()\n',
    '<appSettings>\n  <add key="DbPassword" value="{pw}" />\n',
    "CREATE USER app WITH PASSWORD '{pw}';\n",
    "fyi the prod db password is {pw} until friday\n",
    "password = {pw}\n",
]


@pytest.mark.parametrize("pw", PASSWORDS)
@pytest.mark.parametrize("context", CONTEXTS)
def test_a_password_holding_pw_is_redacted(context: str, pw: str) -> None:
    out = redact(context.replace("{pw}", pw)).text
    assert pw not in out, out


@pytest.mark.parametrize(
    "text",
    [
        "password = userPwHash\n",
        "password = settings.dbPw\n",
        "password = pw_from_env\n",
        'cfg.setPassword("DB_PW");\n',
        "pwd = os.getcwd()\n",
        "password = self.pw_hash\n",
        "password = MYSQL_PWD\n",
        "password = pwFile\n",
    ],
)
def test_a_name_holding_pw_as_a_word_is_left(text: str) -> None:
    assert redact(text).text == text
