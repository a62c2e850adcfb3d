"""A slice or subscript assigned to a secret's name is code (`secret = key_bytes[0:32]`): the
value was cut at its ']', and what was left ('key_bytes[0:32', symbols and digits) read as a
random value."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact


@pytest.mark.parametrize(
    "text",
    [
        "secret = key_bytes[0:32]\n",
        "self.secret = raw[4:36]\n",
        "api_key = keys[i:i+32]\n",
        "password = pw_list[0:8]\n",
        "let key = buf[0..32];\n",
        "token = parts[-1]\n",
    ],
)
def test_a_subscript_is_left(text: str) -> None:
    result = redact(text)
    assert result.redactions == (), [text[r.start : r.end] for r in result.redactions]


@pytest.mark.parametrize(
    "text, secret",
    [
        ("password = Xk9[mP2]qL\n", "Xk9[mP2"),
        ("password = jpoKfCiSxxg]\n", "jpoKfCiSxxg"),
        ('API_KEY = "Xk9mQ2vLp8rT4wZ1"[0:8]\n', "Xk9mQ2vLp8rT4wZ1"),
    ],
)
def test_a_value_with_a_bracket_is_still_judged(text: str, secret: str) -> None:
    assert secret not in redact(text).text, text
