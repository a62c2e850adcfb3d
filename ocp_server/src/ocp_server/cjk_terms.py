"""Chinese, Japanese and Korean words in the memory index. Chinese and Japanese are written
without spaces, and its tokenizer (unicode61) keeps a run of Han or kana characters as one
term, so a word inside a sentence (`缓存` in `使用缓存策略`) was never found. Each run is
also indexed as its pairs of adjacent characters and its last character, and a query's runs
are looked up by their pairs (a word of two characters or more holds one pair at least; most
Chinese words are two). A one-character query word is looked up as the start of a term: a
pair starting with it, a run's last character, or a run of its own. Korean is written with
spaces, but with particles attached to the word (`캐시를`, `캐시가` for `캐시`): a query word
in Hangul is looked up as the start of a term too, without a particle it ends in (a
compound's second part, `메모리캐시`, is not found)."""

from __future__ import annotations

import re
from typing import Final

# Han (with its extensions and compatibility forms), hiragana, katakana (with the prolonged
# sound mark, small and half-width forms) and the marks 々 〆 〇.
_CJK: Final = (
    "\u3005-\u3007\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\uff66-\uff9f\U00020000-\U0003134f"
)
_RUN: Final = re.compile(f"[{_CJK}]{{2,}}")
_ONE: Final = re.compile(f"[{_CJK}]")
# Hangul syllables, jamo and compatibility jamo
_HANGUL: Final = re.compile("[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]+")


def cjk_pairs(text: str) -> list[str]:
    """The distinct pairs of adjacent characters of each Han or kana run of `text`, in order."""
    if text.isascii():  # (in C: most texts are ASCII)
        return []
    pairs = (run[i : i + 2] for run in _RUN.findall(text) for i in range(len(run) - 1))
    return list(dict.fromkeys(pairs))


def cjk_terms(text: str) -> list[str]:
    """`cjk_pairs`, then the distinct last characters of the runs: with the pairs' first
    characters, every character of a run starts a term."""
    if text.isascii():
        return []
    return cjk_pairs(text) + list(dict.fromkeys(run[-1] for run in _RUN.findall(text)))


def with_cjk_pairs(indexed: str) -> str:
    """A memory index row's text with its runs' `cjk_terms` on a last line, when it has any."""
    terms = cjk_terms(indexed)
    return f"{indexed}\n{' '.join(terms)}" if terms else indexed


# Korean particles a noun takes, longest first: a query word ending in one is looked up by
# what is left when two syllables or more are (`캐시가` as `캐시`; `사이` stays `사이`).
_PARTICLES: Final = sorted(
    "을 를 이 가 은 는 에 의 도 와 과 로 으로 에서 에게 까지 부터 만 한테 께서 처럼 보다 "
    "이나 나 랑 이랑 하고 이다 입니다".split(),
    key=len,
    reverse=True,
)


def korean_stem(word: str) -> str:
    """A Hangul query word without the particle it ends in, when two syllables or more are
    left; else the word."""
    for particle in _PARTICLES:
        if word.endswith(particle) and len(word) - len(particle) >= 2:
            return word[: -len(particle)]
    return word


def by_prefix(word: str) -> bool:
    """Whether a query word (`\\w+`, as the index keeps it) is looked up as the start of a
    term: one Han or kana character, or a word in Hangul."""
    if word.isascii():
        return False
    return (len(word) == 1 and _ONE.fullmatch(word) is not None) or (
        _HANGUL.fullmatch(word) is not None
    )


__all__ = ["by_prefix", "cjk_pairs", "cjk_terms", "korean_stem", "with_cjk_pairs"]
