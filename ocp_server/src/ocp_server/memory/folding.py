"""Words as the memory index keeps them: its tokenizer (unicode61, remove_diacritics 2) drops
Latin diacritics and folds some letters (`côté` is `cote`, `ſ` is `s`), so a query or a save
that looks a word up as written finds no memory holding it. The tokenizer itself says what a
word becomes: Python's Unicode tables fold other letters than it does (Greek tonos, `ǣ`)."""

from __future__ import annotations

import re
import sqlite3
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

# The memory index's tokenizer, as its migration creates it (migrations.py, memory_fts).
TOKENIZER = "unicode61 remove_diacritics 2 tokenchars _"
# A word with a letter that is not ASCII. From a word's start only (`\b`), the letters before
# the first such one taken lazily: `\w*[^\W\x00-\x7f]\w*` tried every start in a word and
# ran each to the word's end and back, quadratic in an ASCII word's length (a restore's query
# of one 5,000-character word: 0.4 s of CPU on the event loop, twice 0.19 s).
_NON_ASCII = re.compile(r"\b\w*?[^\W\x00-\x7f]\w*")


class _Tokenizer:
    """An in-memory FTS5 table with the memory index's tokenizer: a word in, its terms out.
    One connection for the process, used by one thread at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def terms(self, word: str) -> tuple[str, ...]:
        with self._lock:
            if self._db is None:
                db = sqlite3.connect(":memory:", check_same_thread=False)
                db.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{TOKENIZER}')")
                db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
                self._db = db
            self._db.execute("INSERT INTO t (rowid, x) VALUES (1, ?)", (word,))
            rows = self._db.execute("SELECT term FROM v ORDER BY offset").fetchall()
            self._db.execute("DELETE FROM t")
        return tuple(str(r[0]) for r in rows)


_TOKENIZER = _Tokenizer()


@lru_cache(maxsize=65536)
def _folded(word: str) -> tuple[str, ...]:
    return _TOKENIZER.terms(word)


def folded(word: str) -> tuple[str, ...]:
    """The terms the memory index cuts a word (`\\w+`) into: itself in lower case when ASCII."""
    return (word.lower(),) if word.isascii() else _folded(word)


def index_words(words: Iterable[str]) -> list[str]:
    """Distinct lower-case words (`\\w+`) as the memory index's terms, in order."""
    distinct = list(dict.fromkeys(words))
    if all(map(str.isascii, distinct)):  # (in C: most texts are ASCII)
        return distinct
    return list(dict.fromkeys(t for w in distinct for t in folded(w)))


def folded_text(text: str) -> str:
    """The text with each word that is not ASCII written as the memory index keeps it (ASCII
    words stay as they are: a query's `verifyToken` is still split at its capital)."""
    return _NON_ASCII.sub(lambda m: " ".join(folded(m[0])), text)


def title_key(title: str) -> str:
    """What a decision's title is matched by (a query naming it, a second decision titled
    alike; `decisions.title_key`): blind to case in every script (SQLite's NOCASE folds ASCII
    only) and to accents, as the memory index is, with runs of spaces as one. Stored: a
    change of it needs a migration that keys every title again (m030)."""
    text = " ".join(unicodedata.normalize("NFC", title).casefold().split())
    return folded_text(text)


__all__ = ["TOKENIZER", "folded", "folded_text", "index_words", "title_key"]
