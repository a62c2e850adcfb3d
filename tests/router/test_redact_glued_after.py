"""Tokens that stand alone before but have a word glued after them (`see <AKIA...>x.txt`),
keys glued to a name by `_` (`my_sk-proj-...`), and a routable GitLab token's whole tail
when a word is glued to it (_redact_tokens.py).

Secrets are assembled at run time, so this file holds no literal token."""

from __future__ import annotations

import pytest

from ocp_router.redact import finds_secret, redact

AKIA = "AKIA" + "QW7B3PDKHX4PY8GP"
AIZA = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
NPM = "npm_" + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kMx"
GSK = "gsk_" + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5nO7pQ9rS1tU3vW5x"
HF = "hf_" + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1g"
OPENAI = "sk-" + "proj-" + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5"
GLPAT = "glpat-" + "Zx81Kq2Vbn7Lp4Wm9Rt3" + ".01.0k3m9x2"
GLDT = "gldt-" + "Zx81Kq2Vbn7Lp4Wm9Rt3" + ".01.0k3m9x2"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"see {AKIA}x.txt now", "see [REDACTED:aws_access_key]x.txt now"),
        (f"cp {AIZA}old.json here", "cp [REDACTED:google_api_key]old.json here"),
        (f"key {NPM}notes here", "key [REDACTED:npm_token]notes here"),
        (f"t {GSK}yz.txt", "t [REDACTED:groq_key]yz.txt"),
        (f"a {HF}_notes", "a [REDACTED:huggingface_token]_notes"),
    ],
)
def test_a_token_with_a_word_glued_only_after_it_is_redacted(text: str, shown: str) -> None:
    assert redact(text).text == shown
    assert finds_secret(text)


def test_an_openai_key_that_names_its_type_is_redacted_after_an_underscore() -> None:
    assert redact(f"my_{OPENAI} here").text == "my_[REDACTED:openai_key] here"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"ci{GLPAT}notes", "ci[REDACTED:gitlab_token]notes"),
        (f"see {GLPAT}Notes", "see [REDACTED:gitlab_token]Notes"),
        (f"ci {GLDT}x.txt", "ci [REDACTED:gitlab_token]x.txt"),
    ],
)
def test_a_routable_gitlab_token_with_a_word_glued_after_is_hidden_whole(
    text: str, shown: str
) -> None:
    assert redact(text).text == shown


@pytest.mark.parametrize(
    "text",
    [
        # more random data after the token: a blob, not a token with a word after it
        f"the blob {AKIA}7Zk2PqR9 ends here",
        f"the blob {AIZA}Xk29dLq7Ab3Z ends here",
        # words after a shape's literal
        "AKIAValidatorFactory and AKIAQW7B3PDKHX4PYaGPfactory.py",
        "my_sk-learn-compat-shim-for-older-releases and task_sk-runner-version-2",
        "hf_AutoModelForSequenceClassificationWithHead_notes",
    ],
)
def test_a_shape_followed_by_data_or_made_of_words_is_left_alone(text: str) -> None:
    assert redact(text).text == text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"see {AKIA}ab now", "see [REDACTED:aws_access_key]ab now"),
        (f"call({AKIA}q)", "call([REDACTED:aws_access_key]q)"),
        (f"cp {AIZA}Xy here", "cp [REDACTED:google_api_key]Xy here"),
    ],
)
def test_a_token_with_a_letter_or_two_glued_after_it_is_redacted(text: str, shown: str) -> None:
    # a stray letter after a key whose prefix no word ends in (or whose body cannot hold it)
    assert redact(text).text == shown
    assert finds_secret(text)


@pytest.mark.parametrize(
    "text",
    [
        f"the blob {AKIA}ab7 ends here",  # letters and a digit: more data
        f"the blob {GSK}Ab9 ends here",
        "sha " + "0123456789abcdef" * 2 + "fe0123ab is a digest",  # hex then hex letters
        "AKIAs and ASIAs are the key ids AWS hands out",  # words
    ],
)
def test_data_or_words_after_a_shape_are_still_left_alone(text: str) -> None:
    assert redact(text).text == text
