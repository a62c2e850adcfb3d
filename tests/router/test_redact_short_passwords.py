"""A short password written bare after a password's name (`password = Zkq3pw`) was read as
the name of a variable, as every bare identifier under 8 characters was. Six or seven random
letters and digits, used nowhere else in the text, are a password; a variable's name (pwd,
self.pw, getpass(), a word, a name defined or used elsewhere) stays. The same holds for an
object's key (`{ password: Zkq3pw }`, Go's `Password: Zkq3pw,`), a setter's first argument
(`setPassword(Zkq3pw)`, `setPassword(Zkq3pw, salt)`, `.password(Zkq3pw)`) and a command-line
flag (`--password Zkq3pw`).

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
OTHER_FORMS = [
    "const opts = {{ password: {pw} }};\n",
    "const opts = {{ host: h, password: {pw} }};\n",
    "const opts = {{\n  user: u,\n  password: {pw},\n}};\n",
    '{{"user": u, "password": {pw}}}\n',
    "db:\n  password: {pw}\n",
    "user.setPassword({pw});\n",
    "u.setPassword({pw}, salt);\n",  # the setter's first argument, another after it
    "user.set_password({pw}, commit=False)\n",
    "user.set_password({pw})\n",
    "builder.password({pw}).build()\n",
    "cfg := Config{{\n\tUser: u,\n\tPassword: {pw},\n}}\n",
    "mysql --user root --password {pw} db\n",
]


@pytest.mark.parametrize("pw", PASSWORDS)
@pytest.mark.parametrize("context", CONTEXTS)
def test_a_short_random_password_is_redacted(context: str, pw: str) -> None:
    out = redact(context.replace("{pw}", pw)).text
    assert pw not in out, out


@pytest.mark.parametrize("pw", PASSWORDS)
@pytest.mark.parametrize("form", OTHER_FORMS)
def test_a_short_random_password_in_a_key_call_or_flag_is_redacted(form: str, pw: str) -> None:
    out = redact(form.format(pw=pw)).text
    assert pw not in out, out
    assert out.count("[REDACTED") == 1, out  # the value alone: the code around it stays


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
    "const o = { password: pwd };\n",
    "const o = { password: tmpVal, user: u };\n",
    "user.setPassword(newPw);\n",
    "builder.password(pwd).build()\n",
    "c := Config{\n\tPassword: cfg.Password,\n}\n",
    "c := Config{\n\tPassword: dbPass,\n}\n",
    "function login(password: Md5Hash) {}\n",  # a type's name, in a parameter list
    "type User = { password: Sha256 | null };\n",
    "key := derive(Zkq3pw)\nc := Config{\n\tPassword: Zkq3pw,\n}\n",  # used elsewhere
    "u.setPassword(newPw, salt);\n",  # a variable, another argument after it
    "check_password(Zkq3pw, hashed)\n",  # not a setter
    "user.password_hash(Zkq3pw)\n",  # not a setter
    "pw, ok := password.(string)\n",  # Go's type assertion: no method after the dot
]


@pytest.mark.parametrize("text", NAMES)
def test_a_short_variable_name_is_left(text: str) -> None:
    assert redact(text).text == text
