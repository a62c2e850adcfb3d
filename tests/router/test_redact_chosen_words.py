"""A secret a person chose from words alone (`bronzeanvil`) under a secret's name on a .env,
shell, log, YAML or INI line, where no name is a variable, is redacted like one with digits
(`hunter2secret99`). Code keeps its references, a state word (`required`) and a value that
holds a secret's own word (`authorization`, a header's name) stay visible."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("API_SECRET=bronzeanvil\n", "bronzeanvil"),
        ("export APP_TOKEN=plumtreewalk\n", "plumtreewalk"),
        ("[default]\naws_secret_access_key = silverlining\n", "silverlining"),
        ("2026-01-02 12:00 deploy: api_key=copperkettle\n", "copperkettle"),
    ],
)
def test_a_secret_of_words_on_an_env_ini_or_log_line_is_redacted(text: str, secret: str) -> None:
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [secret], result.text


@pytest.mark.parametrize(
    "text",
    [
        'API_SECRET = os.environ["API_SECRET"]\n',
        "secret_access_key = config.secret_access_key\n",
        "secret_access_key = silverlining\n",  # Python: a variable
        "API_SECRET=required\n",
        "API_KEY=disabled\n",
        "token: authorization\n",
        "API_SECRET=changeme\n",
        "API_SECRET=your-secret\n",
        "TOKEN_TYPE=bearer\n",
        "x = f(token=silverlining)\n",
    ],
)
def test_code_states_and_placeholders_stay_visible(text: str) -> None:
    assert redact(text).redactions == (), redact(text).text
