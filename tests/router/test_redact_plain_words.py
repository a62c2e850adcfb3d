"""A word or a text of words told clean without the detectors (`_redact_plain.plain_word`,
`plain_text`) is one the rules find nothing in: checked against the rules themselves over the
secret corpus's samples, the string literals of the redaction tests, the words, lines and
sentences in both, this repository's identifiers and docs, generated words built of tokens'
prefixes and generated sentences of words the detectors look for."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ocp_router._redact_plain import NEEDLES, plain_text, plain_word
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


_SENTENCE_SPLIT_RE = re.compile(r"\n|(?<=[.;!?])[ \t]+")


def _with_sentences(texts: Iterator[str]) -> set[str]:
    """Each text, its lines and sentences (a line cut after ``.``, ``;``, ``!`` and ``?``), and
    their word runs."""
    out: set[str] = set()
    for text in texts:
        out.add(text)
        for part in _SENTENCE_SPLIT_RE.split(text):
            out.add(part)
            out.add(part.strip())
    return out | _with_runs(iter(out))


def _docs_lines() -> Iterator[str]:
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        yield from path.read_text("utf-8").splitlines()


def test_a_text_told_plain_is_one_the_rules_find_nothing_in() -> None:
    texts = (
        _with_sentences(_corpus_texts())
        | _with_sentences(_test_literals())
        | _with_sentences(_docs_lines())
    )
    plain = [t for t in texts if plain_text(t)]
    wrong = [t for t in plain if _rules_find_something(t)]
    assert wrong == []
    # the check saw sentences, with each character the rules run a detector for
    spaced = [t for t in plain if " " in t]
    assert len(spaced) > 5_000
    for c in ".(-":
        assert sum(c in t for t in spaced) > 100, c


def test_the_rules_still_judge_sentences_that_hold_a_secret() -> None:
    # each needs a detector a word alone never starts: a flag, a call, a Discord token, a
    # sign-in's pair, a connection string, a neutral value
    discord = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG"
    for text in (
        "run mysql -pS3cretPw9 -u root then",
        "sshpass -p Zx9Qw2Er7Ty4 ssh deploy",
        "ConvertTo-SecureString 'Zx9Qw2Er7Ty4!' -AsPlainText",
        "sign it with jwt.sign(claims, 'Zx9Qw2Er7Ty4Ui1Op')",
        f"the bot runs with {discord} today",
        "sign in as ops / Zx9Qw2Er7!",
        "then log in as deploy:Zx9Qw2Er7Ty",
        "the new relic one 7f3a9c2e1b8d4f6a0c5e9b3d7a1f2c8e4b6d0a93",
        "ask snyk auth 4f3c2a1b-9d8e-4c7b-a6f5-0e1d2c3b4a59",
        "IDENTIFIED BY 'Zx9Qw2Er7Ty4'",
        "signing: ZTzhzJTAh4Qb7nK2xW9pL3mV8rT1yU5e",
    ):
        assert not plain_text(text), text
        assert _rules_find_something(text), text
    for text in ("a word with ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5 in it", "DB_PASSWORD is"):
        assert not plain_text(text), text


def test_ordinary_sentences_come_back_as_they_are_without_the_rules() -> None:
    for text in (
        "Fix `approx` for nested dicts (regression), again.",
        "Don't log in twice; sign in once - it's faster!",
        "Add support of pathlib.Path to the cache-provider",
        'use net use "share" with mysql and docker',
    ):
        assert plain_text(text), text
        assert redact(text).text == text and not redact(text).redactions
        assert redact_name(text).text == text and not redact_name(text).redactions
        assert not finds_secret(text)


# Words the detectors look for around a secret, and secrets' shapes: sentences built of them
# with a sentence's punctuation between.
_SENTENCE_WORDS = st.sampled_from(
    [
        *NEEDLES,
        *"log sign logged signed in as with via using is are was to the for of on".split(),
        *"net use machine default identified by mysql mysqlsh sshpass docker podman".split(),
        *"redis-cli mongo ldapsearch sqlcmd zip unzip 7z rar openssl rdesktop smbclient".split(),
        *"ConvertTo-SecureString snyk config set api new relic newrelic sourcegraph".split(),
        *"jwt.sign hmac.new Fernet createHmac getConnection HTTPBasicAuth smtp.login".split(),
        *"-p -P -a -w -k -U -u -hp --user --password -storepass pass: /p: admin ops".split(),
        "-pZx9Qw2Er7Ty4",
        "-PZx9Qw2Er7Ty4",
        "Zx9Qw2Er7Ty4Ui1Op",
        "b'Zx9Qw2Er7Ty4Ui1OpZx9Qw2Er7Ty4Ui1OpZx9Qw2E='",
        "'Zx9Qw2Er7Ty4!'",
        '"Zx9Qw2Er7Ty4"',
        "MTIzNDU2Nzg5MDEyMzQ1Njc4",
        ".GaBcDe.",
        "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG",
        "0123456789abcdef0123456789abcdef01234567",
        "4f3c2a1b-9d8e-4c7b-a6f5-0e1d2c3b4a59",
        "ghp_",
        "AKIA",
        "sk-",
        "eyJ",
        "fixture",
        "request",
    ]
)
_SEPARATORS = st.sampled_from(
    [" ", " ", " ", ", ", ". ", "; ", "-", "(", ")", " (", ") ", "'", '"', "`", "", "/", ":", " / "]
)


@settings(max_examples=600, deadline=None)
@given(st.lists(st.tuples(st.one_of(_SENTENCE_WORDS, _RANDOM_RUN), _SEPARATORS), max_size=8))
def test_generated_sentences_told_plain_are_clean_by_the_rules(
    parts: list[tuple[str, str]],
) -> None:
    text = "".join(word + sep for word, sep in parts)
    if plain_text(text):
        assert not _rules_find_something(text), text
