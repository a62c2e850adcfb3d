"""A password that starts with '&' or '*' is not taken for a YAML anchor or alias (`&defaults`,
`*db_password`, whose names are words) when the rest is random: mixed-case letters and digits."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

PW = "&XG4kCVfJV"


@pytest.mark.parametrize(
    "template",
    [
        "[database]\nhost = db\npassword = {s}\n",
        "spring.datasource.password={s}\n",
        "DB_PASSWORD={s}\n",
        'server.login("me@example.com", "{s}")\n',
        "Password: {s}\n",
    ],
)
@pytest.mark.parametrize("secret", [PW, "*" + PW[1:], "&Xk9mQ2vLp8rT4wZ1"])
def test_a_random_password_starting_with_an_anchors_character_is_redacted(
    template: str, secret: str
) -> None:
    text = template.format(s=secret)
    assert secret[1:] not in redact(text).text, text


@pytest.mark.parametrize(
    "text",
    [
        "base: &defaults\n  adapter: postgres\ndev:\n  <<: *defaults\n  password: *db_password\n",
        "password: *dbPassword\n",
        "password: &pw1\n",
        'title = "Tom &amp; Jerry"\n',
        "password: !vault |\n",
    ],
)
def test_anchors_and_aliases_named_by_words_are_left(text: str) -> None:
    assert redact(text).redactions == (), text
