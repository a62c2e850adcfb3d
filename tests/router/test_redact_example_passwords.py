"""Passwords that documentation writes as examples are placeholders, as `changeme` is: the
famous ones (hunter2, xkcd's correcthorsebatterystaple), leet spellings of a
filler word (P4$$word, p@ssw0rd, s3cret) and a filler word with a word saying it is made up
or wrong (badpass, wrongpassword, supersecret). pytest's fixtures.rst (`password="P4$$word"`,
`_user.password = "badpass"`) and this project's docstrings (`{"db_password": "hunter2"}`)
were redacted for them. A password a person chose around such a word is still hidden."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact


@pytest.mark.parametrize(
    "text",
    [
        'user = User(name="Susan", password="P4$$word")\n',
        '_user.password = "badpass"\n',
        '{"db_password": "hunter2"}\n',
        'such as `password = "hunter2"`, docs examples\n',
        "DB_PASSWORD=p@ssw0rd\n",
        "database:\n  password: s3cret\n",
        "postgres://user:s3cret@host/db\n",
        'login(user, password="wrongpassword")\n',
        "SECRET_KEY = 'supersecret'\n",
        'password = "correcthorsebatterystaple"\n',
        "the password is P@ssw0rd!\n",
    ],
)
def test_an_example_password_is_a_placeholder(text: str) -> None:
    result = redact(text)
    assert result.redactions == (), [text[r.start : r.end] for r in result.redactions]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('password = "hunter2Xk9"\n', "hunter2Xk9"),
        ('password = "Hunter2Secret!x"\n', "Hunter2Secret!x"),
        ("DB_PASSWORD=P4$$word77x\n", "P4$$word77x"),
        ('password = "badpassXk9"\n', "badpassXk9"),
        ("postgres://user:s3cretXk9@host/db\n", "s3cretXk9"),
        ('config.set("db", "password", "tiger42")\n', "tiger42"),
        ("password: Tr0ub4dor&3\n", "Tr0ub4dor&3"),
    ],
)
def test_a_password_around_an_example_word_is_still_hidden(text: str, secret: str) -> None:
    assert secret not in redact(text).text
