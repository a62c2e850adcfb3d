"""Chinese and Japanese words in the memory index: both are written without spaces, and its
tokenizer (unicode61) keeps a run of Han or kana characters as one term, so a word inside a
sentence (`缓存` in `使用缓存策略`) was never found. Each run is also indexed as its pairs of
adjacent characters, and a query's runs are looked up by theirs (a word of two characters or
more holds one pair at least; most Chinese words are two). Other scripts are left alone:
Korean is written with spaces, and single characters are not indexed (too many matches)."""

from __future__ import annotations

import re
from typing import Final

# Han (with its extensions and compatibility forms), hiragana, katakana (with the prolonged
# sound mark, small and half-width forms) and the marks 々 〆 〇.
_RUN: Final = re.compile(
    "[\u3005-\u3007\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\uff66-\uff9f\U00020000-\U0003134f]{2,}"
)


def cjk_pairs(text: str) -> list[str]:
    """The distinct pairs of adjacent characters of each Han or kana run of `text`, in order."""
    if text.isascii():  # (in C: most texts are ASCII)
        return []
    pairs = (run[i : i + 2] for run in _RUN.findall(text) for i in range(len(run) - 1))
    return list(dict.fromkeys(pairs))


def with_cjk_pairs(indexed: str) -> str:
    """A memory index row's text with its runs' pairs on a last line, when it has any."""
    pairs = cjk_pairs(indexed)
    return f"{indexed}\n{' '.join(pairs)}" if pairs else indexed


__all__ = ["cjk_pairs", "with_cjk_pairs"]
