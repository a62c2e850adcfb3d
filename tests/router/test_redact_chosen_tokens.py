"""A token, secret or API key someone chose (words and digits, `hunter2secret99`) on a .env,
shell or log/config line, where no name is a variable, is redacted as a password there is; it
was left because a token's value had to look machine-made. Code keeps its references, and a
value that starts with `=` or `>` after a label is the value, not an operator."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("token=hunter2secret99\n", "hunter2secret99"),
        ("config: token=hunter2secret99\n", "hunter2secret99"),
        ("API_KEY=hunter2secret99\n", "hunter2secret99"),
        ("export APP_SECRET=amber7comet2024\n", "amber7comet2024"),
        ("2026-01-02 12:00 db: token=hunter2secret99\n", "hunter2secret99"),
        ("make deploy api_key=hunter2secret99 target=prod\n", "hunter2secret99"),
        ("config: password=>qnjts4wDRvW\n", ">qnjts4wDRvW"),
        ("2026-01-02 12:00 db: password==hxRsb0LTI+m\n", "=hxRsb0LTI+m"),
    ],
)
def test_a_chosen_token_on_a_config_env_or_log_line_is_redacted(text: str, secret: str) -> None:
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [secret], result.text


@pytest.mark.parametrize(
    "text",
    [
        "token=get_token()\n",
        "token=self.token\n",
        "token=token\n",
        "api_key=API_KEY\n",
        "config: token=get_token()\n",
        "token=bos_token1\n",
        "x = f(token=tok1secret22)\n",
        "    token=next_token2\n",
        "config: token=utf8\n",
        "API_KEY=$OPENAI_API_KEY\n",
        "TOKEN_TYPE=bearer2\n",
        "if ok: token=token2fallback\n",
    ],
)
def test_code_references_and_non_secrets_stay_visible(text: str) -> None:
    assert redact(text).redactions == (), redact(text).text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("token: hunter2secret99\n", "hunter2secret99"),
        ("github:\n  api_key: amber7comet2024\n", "amber7comet2024"),
        ("- name: deploy\n  secret: hunter2secret99\n", "hunter2secret99"),
        ("env:\n  - name: API_TOKEN\n    value: hunter2secret99\n", "hunter2secret99"),
        ("auth:\n  token: |\n    hunter2secret99\n", "hunter2secret99"),
        ("[auth]\ntoken = hunter2secret99\n", "hunter2secret99"),
    ],
)
def test_a_chosen_token_in_yaml_or_ini_is_redacted(text: str, secret: str) -> None:
    """YAML and INI have no variables either: a plain scalar under a secret's name is one."""
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [secret], result.text


@pytest.mark.parametrize(
    "text",
    [
        "token: bos_token1\n",
        "token: utf8\n",
        "cache_key: build2cache\n",
        "tokenizer: gpt2tokenizer\n",
        "token: ${{ secrets.GH_TOKEN2 }}\n",
        "const cfg = {\n  token: token2fallback,\n}\n",
        "def f(\n    token: Token2Type,\n): ...\n",
        "[auth]\ntoken = ${TOKEN2}\n",
    ],
)
def test_yaml_and_ini_names_words_and_code_stay_visible(text: str) -> None:
    assert redact(text).redactions == (), redact(text).text
