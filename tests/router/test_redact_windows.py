"""Long texts are scanned a window at a time and nothing is missed at a window's end.

One `str.find`, `in` or regex search over a 15 MB text holds the GIL for all of it (the proxy's
event loop and other connections wait); `ocp_router._redact_scan` searches such texts
GATE_WINDOW characters at a time, each window reaching past its end so that a keyword, phrase or
match starting in it is whole there. Here the window is made tiny and every keyword and phrase
is placed at every offset across a window's end.
"""

from __future__ import annotations

import importlib
import re

import pytest

from ocp_router import _redact_phrases, _redact_scan
from ocp_router._redact_assignments import KEYWORDS
from ocp_router._redact_phrases import phrase_hits
from ocp_router._redact_scan import contains, finditer_windowed, keyword_spans

WINDOW = 37
FILLER = "value = compute(item) + 1\n" * 6  # no keyword, no phrase


def _small_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_redact_scan, "GATE_WINDOW", WINDOW)


def _across_window_ends(piece: str) -> list[str]:
    """`piece` starting at every offset from before the first window's end to after it."""
    return [FILLER[:offset] + piece + FILLER for offset in range(0, WINDOW + len(piece) + 2)]


def test_keyword_spans_find_every_keyword_across_a_window_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alternation = re.compile("|".join(KEYWORDS))
    pieces = [*KEYWORDS, "passecret", "tokenkey", "pass pw"]
    texts = [t for piece in pieces for t in _across_window_ends(piece)]
    expected = []
    for text in texts:
        found: set[str] = set()
        expected.append((keyword_spans(text, KEYWORDS, found), found))
        assert expected[-1][0] == [m.span() for m in alternation.finditer(text)]
    _small_windows(monkeypatch)
    for text, (spans, found_before) in zip(texts, expected, strict=True):
        found = set()
        assert keyword_spans(text, KEYWORDS, found) == spans, text
        assert found == found_before
        assert spans  # every text holds a keyword


def test_contains_sees_a_word_at_every_offset_across_a_window_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _small_windows(monkeypatch)
    for word in ("identified", "convertto-securestring", "machine ", "password"):
        for text in _across_window_ends(word):
            assert contains(text, word), (word, text)
        assert not contains(FILLER * 3, word)
        assert contains(FILLER * 3 + word, word)


# One of each phrase phrase_hits looks for behind a literal or a flag (Xq7... is no word).
PHRASES = (
    "GRANT ALL ON db.* TO 'app' IDENTIFIED BY 'Xq7vLm2pR9z'",
    "$p = ConvertTo-SecureString 'Xq7vLm2pR9z' -AsPlainText",
    "machine api.example.com login bob password Xq7vLm2pR9z",
    "mysql -h db -u root -pXq7vLm2pR9z app",
    "redis-cli -h cache -a Xq7vLm2pR9z ping",
)


def test_phrase_hits_find_every_phrase_across_a_window_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = [t for phrase in PHRASES for t in _across_window_ends("\n" + phrase + "\n")]
    expected = [list(phrase_hits(t, t.lower(), True)) for t in texts]
    assert all(expected)  # each phrase is found in one search of the whole text
    _small_windows(monkeypatch)
    for text, hits in zip(texts, expected, strict=True):
        assert list(phrase_hits(text, text.lower(), True)) == hits, text


def test_finditer_windowed_gives_finditers_matches() -> None:
    # "-p" pairs share no character, and a match straddling a window's end is found once
    flag = _redact_phrases._FLAG_RE
    for offset in range(WINDOW + 4):
        text = FILLER[:offset] + " -p -a\t-p" + FILLER + " -a"
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_redact_scan, "GATE_WINDOW", WINDOW)
            windowed = [m.span() for m in finditer_windowed(flag, text, 2)]
        assert windowed == [m.span() for m in flag.finditer(text)]


def test_the_flag_scan_reaches_as_far_as_its_widest_match() -> None:
    p = _redact_phrases._FLAG_RE
    _, widest = re._parser.parse(p.pattern, p.flags).getwidth()  # type: ignore[attr-defined]
    assert widest <= _redact_phrases._FLAG_WIDTH


# Secrets behind the other literal tests of a long text (redact._hits and auth, Snyk and
# Sourcegraph hits): each test is a window at a time too. Built at run time, not tokens.
_VALUE = "Xq7vLm2pR9zT8wK3"
DETECTED = (
    f"Authorization: Bearer {_VALUE}{_VALUE}",
    f"curl -u bob:{_VALUE} https://api.example.com",
    "Authorization: Basic " + "dXNlcjpYcTd2TG0ycFI5eg==",
    f"postgres://app:{_VALUE}@db.example.com/app",
    f"app:{_VALUE}@tcp(db:3306)/app",
    "sourcegraph " + "3f9a1c0b7d2e4f6a8b0c1d2e3f4a5b6c7d8e9f0a",
    "snyk auth " + "3f9a1c0b-7d2e-4f6a-8b0c-1d2e3f4a5b6c",
    f"<password>{_VALUE}</password>",
)


def test_every_detector_finds_its_secret_across_a_window_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    detect = importlib.import_module("ocp_router.redact")._detect
    texts = [t for piece in DETECTED for t in _across_window_ends("\n" + piece + "\n")]
    expected = [sorted(detect(t)) for t in texts]
    assert all(expected)
    _small_windows(monkeypatch)
    for text, hits in zip(texts, expected, strict=True):
        assert sorted(detect(text)) == hits, text
