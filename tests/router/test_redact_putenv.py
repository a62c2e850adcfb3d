"""putenv('NAME=value') (PHP's, C's): the literal is the variable's line, so its value runs to
the quote that closes the call. Before, a WordPress salt set so (64 random characters, spaces
and `;` among them) was read as a field, up to its first space: the rest was sent."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

SALT = "E[*qV{8> i{b8H(Dy|8*(8Y~tD~t%Xb,iu[fMdI8]X|2Y_4rUm;r@BH.3>M1#X_S"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (f"putenv('AUTH_SALT={SALT}');\n", SALT),
        (f"putenv('NONCE_SALT= {SALT}');\n", f" {SALT}"),  # a salt may start with a space
        (f"putenv('SECURE_AUTH_KEY=`={SALT}');\n", f"`={SALT}"),
        ("putenv('DB_PASSWORD=wT)0;2xR9 Lq');\n", "wT)0;2xR9 Lq"),
        ('putenv("SMTP_PASSWORD==7frp>nT5APB&en+?u_!rPCk");\n', "=7frp>nT5APB&en+?u_!rPCk"),
    ],
)
def test_a_value_set_with_putenv_is_hidden_to_the_closing_quote(text: str, value: str) -> None:
    result = redact(text)
    assert value not in result.text
    assert not any(piece in result.text for piece in value.split() if len(piece) > 3)
    assert result.text.rstrip()[-3:] in ("');", '");')  # the call is kept


@pytest.mark.parametrize(
    "text",
    [
        'putenv("DB_PASSWORD=$password");\n',  # interpolated
        "putenv('APP_ENV=production mode');\n",  # no secret's name
        "putenv('AUTH_SALT=put your unique phrase here');\n",  # the sample config's placeholder
        "putenv('API_TOKEN=see the wiki');\n",  # words, not a token
        "putenv('DB_PASSWORD=' . $password);\n",  # built, not a literal
    ],
)
def test_putenv_without_a_literal_secret_is_left(text: str) -> None:
    assert redact(text).text == text
