"""A short password written bare after a password's name (`password = Zkq3pw`) was read as
the name of a variable, as every bare identifier under 8 characters was. Six or seven random
letters and digits, used nowhere else in the text, are a password; a variable's name (pwd,
self.pw, getpass(), a word, a name defined or used elsewhere) stays.

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

PASSWORDS = ["Zkq" + "3pw", "xqpw" + "Zt", "Zkq" + "3qw", "mR4" + "tQz", "b7" + "Kx9Lq"]
CONTEXTS = [
    "password = {pw}\n",
    "db_password = {pw};\n",
    "let password = {pw};\n",
    "conn = connect(host, password={pw})\n",
    "    self.password = {pw}\n",
]


@pytest.mark.parametrize("pw", PASSWORDS)
@pytest.mark.parametrize("context", CONTEXTS)
def test_a_short_random_password_is_redacted(context: str, pw: str) -> None:
    out = redact(context.replace("{pw}", pw)).text
    assert pw not in out, out


NAMES = [
    "password = pwd\n",
    "password = self.pw\n",
    "password = getpass()\n",
    "password=None\n",
    "password = tmpVal\n",  # camelCase of common letter pairs
    "password = newPw2\n",  # names a password
    "password: IfStmt = node\n",  # a type's name
    "password = inpt\n",  # too short to tell
    "password = sha256\n",  # lower-case and digits: a name
    "key = derive(Zkq3pw)\npassword = Zkq3pw\n",  # a variable used elsewhere in the text
]


@pytest.mark.parametrize("text", NAMES)
def test_a_short_variable_name_is_left(text: str) -> None:
    assert redact(text).text == text
