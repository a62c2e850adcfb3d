"""A quoted literal assigned to a password's or a token's name is the value whole: a
generator's 64 characters holding `${` or `$L` and spaces, or a password a person chose with
a space typed into it (`W illow8241.`), are hidden though `$` reads as a reference and a space
as prose. Before, such values in `DB_PASSWORD = '…'`, `os.environ["DB_PASSWORD"] = …`,
`export DB_PASSWORD="…"` and `process.env.DB_PASSWORD = "…"` were sent whole (about 6% of
generated values, 28-35% of those chosen with a space; under API_TOKEN, 53% and 100%).

Secrets are assembled at run time, so this file holds no literal secret."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

# 64 random characters as WordPress's generator makes them, `${` and `$L` among them
GENERATED = "Vr~HS/h<hKER:#nf" + "${ ;59o%zyVxxXK<Lmok9;70MB/u1" + "HIGw&pD$LMh^r@vsI0-="
SPACED = "W illow" + "8241."
SPACED_QUESTION = "Emb er" + "3335?"

TEMPLATES = [
    "DB_PASSWORD = '{v}'\n",
    'DB_PASSWORD = "{v}"\n',
    'os.environ["DB_PASSWORD"] = "{v}"\n',
    "os.environ['DB_PASSWORD'] = '{v}'\n",
    'export DB_PASSWORD="{v}"\n',
    "export DB_PASSWORD='{v}'\n",
    'process.env.DB_PASSWORD = "{v}";\n',
    'API_TOKEN = "{v}"\n',
    "SECRET_KEY = '{v}'\n",
]


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("value", [GENERATED, SPACED, SPACED_QUESTION])
def test_a_quoted_literal_under_a_secrets_name_is_hidden_whole(template: str, value: str) -> None:
    text = template.replace("{v}", value)
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [value], result.text


@pytest.mark.parametrize(
    "text",
    [
        'errors.password = "Use at least 12 characters."\n',  # a message
        'PASSWORD_HINT = "Must be 8 or more characters!"\n',
        'DB_PASSWORD = "${DB_PASSWORD}"\n',  # a reference
        'DB_PASSWORD = "$DB_PASSWORD"\n',
        "DB_PASSWORD = 'correct horse battery staple'\n",  # the documented example
        'API_TOKEN = "see the vault"\n',  # words
        'API_TOKEN = "Paste your token here."\n',
        'token = "Bearer {token}"\n',  # a template
        'APP_TITLE = "Ma ple2024 edition!"\n',  # no secret's name
    ],
)
def test_a_quoted_value_that_is_no_secret_is_left(text: str) -> None:
    assert redact(text).text == text
