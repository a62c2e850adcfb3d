"""What a search request asks: its terms, the sentence it leads with, the identifiers it writes
as code, whether it is a lookup, and whether it asks for tests, docs or a changelog.

`parse_query` is the one reading of a request that the features (`features.py`) and the
ranking model (`ranking.py`) share. Stemming, identifier splitting and the query-term counts
follow `lexicon`.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import NamedTuple

from ocp_server.index.lexicon import (
    MAX_QUERY_CHARS,
    STOPWORDS,
    code_words,
    first_sentence,
    pair_hash,
    pairs,
    terms,
    terms_by_word,
)

__all__ = ["LOOKUP_PLAIN_WORDS", "LOOKUP_WORDS", "Query", "parse_query"]

#: A query of at most this many words (stop words aside) is a lookup...
LOOKUP_WORDS = 3
#: ...unless it has more words than this in all and writes no identifier as code: "We just
#: collected a test item." describes a function, it does not name one (doc comments on the dev
#: sets: Hit@1 0.992 -> 0.993, Hit@10 0.998 -> 1.000; commit queries unchanged).
LOOKUP_PLAIN_WORDS = 5
_TEST_QUERY = re.compile(
    r"\b(?:tests?|testing|tested|flaky|fixtures?|coverage|asserts?|assertions?|specs?|"
    r"regression|unit|e2e)\b",
    re.IGNORECASE,
)
_CHANGELOG_QUERY = re.compile(r"\b(?:change[-_ ]?logs?|release notes|news)\b", re.IGNORECASE)
_DOCS_QUERY = re.compile(
    r"\b(?:docs?|documentation|documented|readme|changelog|changes|guide|tutorial|manual|"
    r"config(?:uration)?|settings|yaml|yml|toml|json|ini|markdown|md|rst)\b",
    re.IGNORECASE,
)


#: The query patterns above (lower-case, case-blind) as plain ones, for ASCII text lower-cased:
#: the same matches (case-blind matching differs from lower-casing only beyond ASCII, as
#: "ſ" for "s"), several times faster than case-blind matching in `re`.
_LOWER: dict[re.Pattern[str], re.Pattern[str]] = {
    p: re.compile(p.pattern, p.flags & ~re.IGNORECASE)
    for p in (_TEST_QUERY, _CHANGELOG_QUERY, _DOCS_QUERY)
}


def _asks(pattern: re.Pattern[str], text: str, lower: str | None) -> bool:
    """Whether case-blind `pattern` is found in `text`; `lower`: `text` lower-cased when it
    is ASCII, else None."""
    if lower is None:
        return pattern.search(text) is not None
    return _LOWER[pattern].search(lower) is not None


class Query(NamedTuple):
    text: str
    counts: Counter[str]  # stemmed term -> times in the query
    subject: frozenset[str]  # terms of the first sentence
    code: frozenset[str]  # terms written as code
    pair_keys: tuple[int, ...]
    identifiers: tuple[str, ...]  # written as code, whole; in a lookup, its words after them
    words: frozenset[str]  # lower-cased words, for file stems
    wants_docs: bool
    wants_tests: bool
    wants_changelog: bool
    lookup: bool  # a few words naming something: its definitions are the chunks to show
    definitions_first: bool  # a lookup naming code outright: files defining it go first
    one_name: bool  # a lookup of one word: its exact definitions before names holding it
    originals: dict[str, str]  # stemmed term -> the query word it came from

    @property
    def empty(self) -> bool:
        return not self.counts


def parse_query(text: str) -> Query:
    text = text[:MAX_QUERY_CHARS]
    by_word = terms_by_word(text)
    seq = [t for _, word_terms in by_word for t in word_terms]
    originals: dict[str, str] = {}
    for word, word_terms in by_word:
        for t in word_terms:
            originals.setdefault(t, word)
    content = [w for w, _ in by_word if w.lower() not in STOPWORDS]
    first = first_sentence(text)
    identifiers, code = code_words(text)
    lower = text.lower() if text.isascii() else None
    lookup = 0 < len(content) <= LOOKUP_WORDS and (
        len(by_word) <= LOOKUP_PLAIN_WORDS or bool(identifiers)
    )
    # A lookup that writes an identifier as code, or is one word, names a definition: the
    # files defining it go first. In "markdown table redaction" each plain word may also name
    # something (`_table` in a report), but putting such files first lost more than it won
    # (short queries built from the dev sets: commit subjects' first three content words
    # MRR@10 0.501 -> 0.575, a doc comment's three 0.812 -> 0.954, a name spelt as words
    # 0.822 -> 0.862, names as written unchanged; `scripts/short_queries.py`).
    one_name = lookup and len(content) == 1
    definitions_first = one_name or (lookup and bool(identifiers))
    if lookup:
        # "verify token" names verify_token as surely as `verify_token` does: its definitions
        # are what to show, and `defines_named` weighs them
        identifiers += [w for w in content if len(w) > 2]
        identifiers += [f"{a}_{b}" for a, b in zip(content, content[1:], strict=False)]
    return Query(
        text=text,
        counts=Counter(seq),
        # one sentence (as most are): its terms are the query's
        subject=frozenset(seq if len(first) == len(text) else terms(first)),
        code=frozenset(code),
        pair_keys=tuple(dict.fromkeys(pair_hash(a, b) for a, b in pairs(seq))),
        identifiers=tuple(dict.fromkeys(identifiers)),
        words=frozenset(w.lower() for w, _ in by_word),
        wants_docs=_asks(_DOCS_QUERY, text, lower),
        wants_tests=_asks(_TEST_QUERY, text, lower),
        wants_changelog=_asks(_CHANGELOG_QUERY, text, lower),
        lookup=lookup,
        definitions_first=definitions_first,
        one_name=one_name,
        originals=originals,
    )
