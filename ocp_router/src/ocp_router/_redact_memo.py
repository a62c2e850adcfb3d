"""Judgements of a value remembered: the same value is judged many times over.

A value is asked the same questions by several detectors (is it filler, a placeholder, made
of words, a reference?), and again when `named_values` reads the text `redact` read
(redact_names.redact_name_head runs both). In a text dense with secrets' names each value
holds the rest of its line (`password=x…password=x…`, up to 1,024 characters) and repeats
with the text's pattern: judging it again cost up to 8 µs a character
(bench/redact_dense_length.py). The judgements are pure functions of their arguments, so
each is kept, for values no longer than a value an assignment reads, in a bounded cache.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import ParamSpec, TypeVar

__all__ = ["MEMO_MAX_CHARS", "MEMO_SIZE", "forget", "remembered"]

P = ParamSpec("P")
R = TypeVar("R")

#: Values longer than this are judged afresh: an assignment's value is at most 1,024 characters
#: and its quotes (what a cache holds stays under MEMO_SIZE times this, per judgement).
MEMO_MAX_CHARS = 1100
#: Values remembered per judgement: the distinct values of a long .env file or trace.
MEMO_SIZE = 1024


_CLEARS: list[Callable[[], None]] = []


def forget() -> None:
    """Every judgement remembered is dropped (a benchmark times each run from cold)."""
    for clear in _CLEARS:
        clear()


def remembered(judge: Callable[P, R]) -> Callable[P, R]:
    """`judge`, a pure function of a value and hashable options, with its results remembered
    (the last MEMO_SIZE) when no text it is given is longer than MEMO_MAX_CHARS."""
    cache = lru_cache(maxsize=MEMO_SIZE)(judge)
    _CLEARS.append(cache.cache_clear)
    cached: Callable[..., R] = cache

    @wraps(judge)
    def judged(*args: P.args, **kwargs: P.kwargs) -> R:
        # every text, not the first: assignment_kind's value comes after its name's class
        for a in args:
            if isinstance(a, str) and len(a) > MEMO_MAX_CHARS:
                return judge(*args, **kwargs)
        return cached(*args, **kwargs)

    return judged
