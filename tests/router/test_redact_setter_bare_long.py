"""A setter's bare first argument (`setPassword(Kx9mQ2vLp8Tz)`, `setPassword(Kx9mQ2vLp8Tz,
salt)`) was hidden only at 6 or 7 characters, while the same value after an object's key
(`password: Kx9mQ2vLp8Tz,`) was hidden at any length. Random letters and digits of 8 or more
are now judged there as an object's key judges them; a variable's name (newPw, userPassword,
PASSWORD_FROM_ENV, a word) stays.

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

PASSWORDS = ["Kx9mQ" + "2vLp8Tz", "tR7wq" + "Lm2Xz", "Zkq3" + "pwXa91bQ"]
SETTERS = [
    "user.setPassword({pw});\n",
    "u.setPassword({pw}, salt);\n",
    "user.set_password({pw}, commit=False)\n",
    "builder.password({pw}).build()\n",
]


@pytest.mark.parametrize("pw", PASSWORDS)
@pytest.mark.parametrize("setter", SETTERS)
def test_a_long_random_bare_argument_of_a_password_setter_is_redacted(setter: str, pw: str) -> None:
    text = setter.format(pw=pw)
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [pw], result.text


@pytest.mark.parametrize(
    "text",
    [
        "user.setPassword(newPw);\n",
        "user.setPassword(userPassword);\n",
        "user.setPassword(PASSWORD_FROM_ENV);\n",
        "user.setPassword(plaintext, salt);\n",
        "user.setPassword(generatedValue);\n",
        "user.set_password(raw_password)\n",
        "user.setPassword(encoder.encode(raw));\n",
    ],
)
def test_a_variable_passed_to_a_password_setter_stays(text: str) -> None:
    assert not redact(text).redactions, redact(text).text
