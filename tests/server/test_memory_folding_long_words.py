"""Folding a text's words as the memory index keeps them (`folding.folded_text`, which a
restore's query and every decision title go through) rewrites exactly the words holding a
letter that is not ASCII, as a word-by-word reading does, in one pass over the text. Its
pattern tried every start inside a word and was quadratic in an ASCII word's length: a
restore's query of one 5,000-character word took 0.4 s of CPU on the event loop (a ping
waited 1.3 s at load 17), measured, as the rules keep timings out of tests."""

from __future__ import annotations

import random
import re

from ocp_server.memory import folding
from ocp_server.memory.folding import folded, folded_text, title_key

ALPHABET = [*"ab_1 .-éßΩ缓\u200b\t\nxX9", "e\u0301", "\u0300", "ǣ", "İ", "ſ", "côté"]


def word_by_word(text: str) -> str:
    """Each `\\w+` run holding a letter that is not ASCII, as the index's terms."""
    return re.sub(r"\w+", lambda m: m[0] if m[0].isascii() else " ".join(folded(m[0])), text)


def test_folding_rewrites_the_words_a_word_by_word_reading_does() -> None:
    rng = random.Random(47)
    for _ in range(3_000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 30)))
        assert folded_text(text) == word_by_word(text), repr(text)


def test_long_words_are_folded_as_short_ones() -> None:
    long_ascii = "x" * 5_000
    assert folded_text(long_ascii) == long_ascii
    assert folded_text("x" * 4_999 + "é") == "x" * 4_999 + "e"
    assert folded_text("Côté " + long_ascii) == "cote " + long_ascii
    assert title_key("  Überblick   " + long_ascii[:290]) == "uberblick " + long_ascii[:290]


def test_the_pattern_starts_only_at_a_word_s_start() -> None:
    # The one property that keeps it linear: no match is tried inside a word.
    assert folding._NON_ASCII.pattern.startswith(r"\b")
