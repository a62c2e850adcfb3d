"""A word told clean without the detectors (`_redact_plain.plain_word`) is one the rules find
nothing in: checked against the rules themselves over the secret corpus's samples, the string
literals of the redaction tests, the words in both, this repository's identifiers and
generated words built of tokens' prefixes."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ocp_router._redact_plain import NEEDLES, plain_word
from ocp_router._redact_scan import RARE_PREFIXES
from ocp_router.redact import _redact, finds_secret, redact
from ocp_router.redact_names import glued_tokens, redact_name
from tests.data.secret_corpus import FORMATS, PASSWORD_CONTEXTS, passwords, samples

ROOT = Path(__file__).resolve().parents[2]
_RUN_RE = re.compile(r"[A-Za-z0-9_]+")


def _rules_find_something(text: str) -> bool:
    """What `redact_name` finds, by the rules alone (the shortcut left out)."""
    return bool(_redact(text, None).redactions) or bool(glued_tokens(text))


def _with_runs(texts: Iterator[str]) -> set[str]:
    """Each text and each run of letters, digits and `_` in it."""
    out: set[str] = set()
    for text in texts:
        out.add(text)
        out.update(_RUN_RE.findall(text))
    return out


def _corpus_texts() -> Iterator[str]:
    for fmt in FORMATS:
        for text, secret in samples(fmt, 5):
            yield text
            yield secret
    pws = passwords(1000)
    yield from pws
    for context in PASSWORD_CONTEXTS:
        for pw in pws[:20]:
            yield from context.with_secret(pw)


def _test_literals() -> Iterator[str]:
    for path in sorted((ROOT / "tests" / "router").glob("test_redact*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                yield node.value


def _identifiers() -> set[str]:
    names: set[str] = set()
    for package in ("ocp_router", "ocp_server"):
        for path in sorted((ROOT / package / "src").rglob("*.py")):
            names.update(_RUN_RE.findall(path.read_text("utf-8")))
    return names


def test_a_word_told_plain_is_one_the_rules_find_nothing_in() -> None:
    texts = _with_runs(_corpus_texts()) | _with_runs(_test_literals()) | _identifiers()
    plain = [t for t in texts if plain_word(t)]
    wrong = [t for t in plain if _rules_find_something(t)]
    assert wrong == []
    assert len(plain) > 5_000  # the check saw words, not only texts it turns away


def test_the_rules_still_judge_words_that_hold_a_secret_or_a_secrets_name() -> None:
    # tokens made of word characters alone, glued to a word or not, and secrets' names
    for word in (
        "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5",
        "backupghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5",
        "keysAKIAZ7Q3MRWB6XN4PJ5T",
        "AIzaSyB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3f",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "DB_PASSWORD",
        "apiToken",
        "sourcegraph",
    ):
        assert not plain_word(word), word
    assert redact_name("backupghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5").redactions


def test_ordinary_names_come_back_as_they_are_without_the_rules() -> None:
    for word in ("getfixturevalue", "FixtureDef", "pytest_collection_modifyitems", "hono2"):
        assert plain_word(word)
        assert redact(word).text == word and not redact(word).redactions
        assert redact_name(word).text == word and not redact_name(word).redactions
        assert not finds_secret(word)


# The pieces generated words are built of: tokens' leading literals and their bodies' shapes,
# the detectors' words, and ordinary ones.
_PIECES = st.sampled_from(
    [
        *(p for p in RARE_PREFIXES if _RUN_RE.fullmatch(p)),
        *NEEDLES,
        "ghp_",
        "gho_",
        "github_pat_",
        "AKIA",
        "ASIA",
        "AIza",
        "sk_live_",
        "rk_test_",
        "npm_",
        "hf_",
        "gsk_",
        "eyJ",
        "SK",
        "xoxb",
        "dop_v1_",
        "ntn_",
        "re_",
        "key",
        "fixture",
        "request",
        "_",
        "0123456789abcdef",
        "Zx9Qw2Er7Ty4Ui1Op",
        "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5hJ7",  # a token's body: mixed, 39
    ]
)
_RANDOM_RUN = st.text(alphabet="abcdefABCDEFXYZqz0123456789_", min_size=1, max_size=48)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_PIECES, _RANDOM_RUN), min_size=1, max_size=6))
def test_generated_words_told_plain_are_clean_by_the_rules(pieces: list[str]) -> None:
    word = "".join(pieces)
    if plain_word(word):
        assert not _rules_find_something(word), word
