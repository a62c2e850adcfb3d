"""A setter's bare argument of letters of both cases with digits between them
(`setPassword(hIUPODasgi040J8, salt)`, `setPassword(r25EPICDm, salt)`) was read as a
variable's name: camelCase parts with vowels (`IUPODasgi`, `Dasgi`) made it look wordy. Now a
value whose letters between its digits no name's parts make (an upper-case run before a
lower-case one, a part with no vowel: `Dm`), and that is used nowhere else in the text, is
a password. A name with a number inside (UTF8String, x509Cert, int32Value), a constant's
(DEFAULT_PW, ADMIN_PASSWORD, DEFAULTPW2) and a jumble the text uses again (a variable defined
above) stay.

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

JUMBLES = ["hIUPOD" + "asgi040J8", "r25EP" + "ICDm"]
SETTERS = ["user.setPassword({v}, salt);\n", "- reset it with `user.setPassword({v}, salt)`\n"]


@pytest.mark.parametrize("v", JUMBLES)
@pytest.mark.parametrize("setter", SETTERS)
def test_a_bare_jumble_of_cases_and_digits_passed_to_a_password_setter_is_redacted(
    setter: str, v: str
) -> None:
    text = setter.format(v=v)
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [v], result.text


@pytest.mark.parametrize(
    "v",
    [
        "DEFAULT_PW",
        "ADMIN_PASSWORD",
        "DEFAULTPW2",
        "UTF8String",
        "getUtf8Bytes",
        "HTTP2Server",
        "x509Cert",
        "int32Value",
        "Base64Encoder",
        "md5Hash",
    ],
)
@pytest.mark.parametrize("setter", SETTERS)
def test_a_name_with_a_number_or_a_constant_passed_to_a_setter_stays(setter: str, v: str) -> None:
    text = setter.format(v=v)
    assert not redact(text).redactions, redact(text).text


@pytest.mark.parametrize("v", JUMBLES)
def test_a_jumble_the_text_uses_again_is_a_variable_and_stays(v: str) -> None:
    text = f"String {v} = load();\nuser.setPassword({v}, salt);\n"
    assert not redact(text).redactions, redact(text).text
