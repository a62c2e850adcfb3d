"""A token or secret a person chose with dots between words and digits (`apple89.dragon7053`)
under a secret's name, on a .env, YAML or config line or in a literal, is hidden: it read as
a host or a module path and was left. A host's last label holds no digits, so host names,
versions and attribute chains under such names stay."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("APP_SECRET=apple89.dragon7053\n", "apple89.dragon7053"),
        ("github:\n  token: apple89.dragon7053\n", "apple89.dragon7053"),
        ('API_TOKEN = "apple89.dragon7053"\n', "apple89.dragon7053"),
        ("config: api_key=cedar4.walnut22.amber90\n", "cedar4.walnut22.amber90"),
    ],
)
def test_a_chosen_token_with_dots_is_redacted(text: str, secret: str) -> None:
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [secret], result.text


@pytest.mark.parametrize(
    "text",
    [
        "TOKEN_HOST=auth01.example.com\n",  # a host: its last label has no digits
        "token_url: https://auth2.example.com/oauth\n",
        'secret_backend = "vault2.backend"\n',
        "token: py3.module\n",
        'SECRET_KEY = "settings.key"\n',
        "token_issuer=idp01.corp\n",
    ],
)
def test_hosts_and_paths_under_a_secrets_name_are_left(text: str) -> None:
    assert redact(text).text == text
