"""A value starting with '!' or '|' is a YAML tag or block scalar only in YAML (`password: !vault`,
`password: |`), and there only when the rest is not random: elsewhere (dotenv, INI, command
lines, prose, a call's quoted literal, a block scalar's own text) the character is part of the
password. In code '!', '&' and '*' are operators (not, address of, dereference): what follows
them is judged as a bare name would be, so a random one is a password."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact
from tests.data.secret_corpus import PASSWORD_CONTEXTS, Format, recalled


@pytest.mark.parametrize("fmt", PASSWORD_CONTEXTS, ids=lambda f: f.name)
@pytest.mark.parametrize("secret", ["!XG4kCVfJV", "|XG4kCVfJV", "!Xk9mQ2vLp8rT4wZ1"])
def test_a_password_starting_with_a_yaml_indicator_is_redacted_in_every_context(
    fmt: Format, secret: str
) -> None:
    text, written = fmt.with_secret(secret)
    assert recalled(text, written), text


@pytest.mark.parametrize(
    "text",
    [
        "DB_PASSWORD=!vault7\n",
        "[database]\npassword = |pipe42\n",
        'server.login("me@example.com", "!hunter42")\n',
    ],
)
def test_outside_yaml_a_leading_bang_or_bar_is_part_of_the_password(text: str) -> None:
    assert [r.kind for r in redact(text).redactions] == ["password_assignment"], text


@pytest.mark.parametrize(
    "text",
    [
        "password = &XG4kCVfJV;\n",
        "password = *XG4kCVfJV;\n",
        "password = !XG4kCVfJV;\n",
        "const password = !Xk9mQ2vLp8rT4wZ1\n",
    ],
)
def test_in_code_a_random_name_after_an_operator_is_a_password(text: str) -> None:
    assert "XG4kCVfJV" not in redact(text).text
    assert "Xk9mQ2vLp8rT4wZ1" not in redact(text).text


@pytest.mark.parametrize(
    "text",
    [
        "password: !vault\n",
        "password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n",
        "api_password: !secret http_password\n",
        "password: |-\n",
        "password: >\n",
        "p->password = &password_buf;\n",
        "password = *pw;\n",
        "password = &buf[0];\n",
        "hidePassword = !isOn;\n",
        "let showPassword = !showPassword\n",
        "if (password = !password) {}\n",
    ],
)
def test_tags_block_scalars_and_operators_on_names_are_left(text: str) -> None:
    assert redact(text).redactions == (), text
