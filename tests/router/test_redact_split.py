"""A token split across joined string literals (`"ghp_..." + "..."`, Python's implicit
concatenation), and a short-prefixed token of fixed length with a letter or two glued after
it (`gsk_<52>ab`): both leaked whole before. Tokens are assembled at run time: this file holds
no literal one."""

from __future__ import annotations

import pytest

from ocp_router.redact import finds_secret, redact

GHP = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
ANT = "sk-ant-" + "api03-" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5" * 2 + "aB3dE5fG7hJ9kL1mN3pQ5-AA"
AKIA = "AKIA" + "QW7B3PDKHX4PY8GP"
GSK = "gsk_" + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5nO7pQ9rS1tU3vW5x"
NPM = "npm_" + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kMx"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f'token = "{GHP[:15]}" + "{GHP[15:]}"\n', 'token = "[REDACTED:github_token]"\n'),
        (
            f"const t = '{GHP[:4]}'+'{GHP[4:20]}' +\n  '{GHP[20:]}';",
            "const t = '[REDACTED:github_token]';",
        ),
        (f'key = "{ANT[:7]}" "{ANT[7:]}"\n', 'key = "[REDACTED:anthropic_key]"\n'),
        (
            f'KEY = (\n    "{ANT[:13]}"\n    "{ANT[13:]}"\n)\n',
            'KEY = (\n    "[REDACTED:anthropic_key]"\n)\n',
        ),
        (
            f'String id = "{AKIA[:10]}"\n    + "{AKIA[10:]}";',
            'String id = "[REDACTED:aws_access_key]";',
        ),
    ],
)
def test_a_token_split_across_joined_literals_is_redacted_whole(text: str, shown: str) -> None:
    assert redact(text).text == shown
    assert finds_secret(text)


@pytest.mark.parametrize(
    "text",
    [
        'prefix = "ghp_" + suffix\n',
        'kind = "sk-" + "proj"\n',
        'msg = "ghp_abc" + " is not a token"\n',
        "'abc' + 'def' + 'ghi'\n",
        'parts = ["ghp_", "abc"]\n',
        'echo "ghp_" "x"\n',
    ],
)
def test_joined_literals_that_hold_no_token_are_left_alone(text: str) -> None:
    assert redact(text).redactions == ()


def test_a_whole_token_before_a_seam_is_redacted_as_before() -> None:
    text = f'line = "{GHP}" + "\\n"\n'
    assert redact(text).text == 'line = "[REDACTED:github_token]" + "\\n"\n'


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"key {GSK}ab here", "key [REDACTED:groq_key]ab here"),
        (f"key {GSK}q.", "key [REDACTED:groq_key]q."),
        (f"see {NPM}Zq, then", "see [REDACTED:npm_token]Zq, then"),
    ],
)
def test_a_fixed_length_short_prefixed_token_with_letters_glued_after_is_redacted(
    text: str, shown: str
) -> None:
    assert redact(text).text == shown


@pytest.mark.parametrize("text", [f"key {NPM}7 more", f"key {GSK}9 more"])
def test_digits_after_a_fixed_length_token_are_more_data(text: str) -> None:
    # more random data: a longer blob, as for every shape (test_redact_glued_after.py)
    assert redact(text).redactions == ()
