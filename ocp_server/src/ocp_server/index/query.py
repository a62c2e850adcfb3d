"""What a search request asks: its terms, the sentence it leads with, the identifiers it writes
as code, whether it is a lookup, and whether it asks for tests, docs or a changelog.

`parse_query` is the one reading of a request that the features (`features.py`) and the
ranking model (`ranking.py`) share. Stemming, identifier splitting and the query-term counts
follow `lexicon`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple

from ocp_server.index.lexicon import (
    MAX_QUERY_CHARS,
    STOPWORDS,
    code_words,
    first_sentence,
    identifier_key,
    pair_hash,
    pairs,
    spelt_hash,
    tail_hash,
    terms,
    terms_by_word,
    words,
)

__all__ = [
    "LOOKUP_PLAIN_WORDS",
    "LOOKUP_WORDS",
    "NamedFile",
    "Query",
    "parse_query",
    "template_pieces",
]

#: A query of at most this many words (stop words aside) is a lookup...
LOOKUP_WORDS = 3
#: ...unless it has more words than this in all and writes no identifier as code: "We just
#: collected a test item." describes a function, it does not name one (doc comments on the dev
#: sets: Hit@1 0.992 -> 0.993, Hit@10 0.998 -> 1.000; commit queries unchanged).
LOOKUP_PLAIN_WORDS = 5
#: A query of at least this many words (stop words included) may be a message pasted whole.
MESSAGE_WORDS = 3
#: Words that phrase a lookup rather than name what it looks for: "where is the status
#: function", "def echo", "class Option". A lookup whose other words are all these (or stop
#: words) names one thing; "No such option" is a phrase, not a lookup of `option`.
LOOKUP_PHRASING = frozenset(
    """where is are the a an def fn func defined definition declared declaration class
function method struct interface trait enum impl""".split()
)
#: A file named in a query: a path (`src/click/termui.py`, `./lib/x.js`), a file name with
#: an extension (`termui.py`, `Cargo.toml`, `.eslintrc.json`) or a dotfile (`.gitignore`); a
#: `:line` or `:start-end` after it is the line it points at.
_FILE_NAMED = re.compile(
    r"(?<![\w./-])((?:\.{0,2}/)?(?:[\w.-]+/)*(?:\.?[\w-][\w.-]*\.[A-Za-z][\w]{0,9}|\.[A-Za-z][\w-]*)"
    r"|(?:[\w.-]+/)+[\w.-]+)(?::(\d{1,9})(?:-\d+)?)?(?![\w/-])"
)


#: Where a message's template had a placeholder, the message printed holds a value: a quoted
#: span, a path, a number or a flag (`f"Config file '{path}' is a directory"` is seen as
#: "Config file '/home/me/x.toml' is a directory"). Read token by token (whitespace apart), the
#: trailing punctuation aside: a regex over the whole text cost more than the rest of the
#: query's parsing.
_VALUE_QUOTES = "'\""
_TOKEN_TAIL = ".,:;!?)]}"
#: A quoted value spans at most this many tokens; a quote not closed by then is one token's.
_QUOTED_TOKENS = 12


def _is_value(token: str) -> bool:
    head = token[0]
    return (
        head.isdigit()
        or (len(token) > 1 and ("/" in token or "\\" in token))
        or (head == "-" and len(token) > 1 and (token[1].isalpha() or token[1] == "-"))
    )


#: A name a tail may be taken of: one identifier, not `Context.invoke` or `a::b`
_PLAIN_NAME = re.compile(r"\w+")
#: Where a value may start (`_is_value`, a quote): found at C speed, so text without one
#: (most requests) skips the token loop.
_VALUE_START = re.compile(r"(?:^|\s)[(\[{]?(?:['\"\d]|--?[A-Za-z])|[/\\]")


def template_pieces(text: str) -> list[str]:
    """`text` cut at the values a program filled in: the runs of words between them."""
    if _VALUE_START.search(text) is None:
        return [" ".join(text.split())]
    tokens = text.split()
    pieces: list[list[str]] = [[]]
    i = 0
    while i < len(tokens):
        token = tokens[i].lstrip("([{")
        bare = token.rstrip(_TOKEN_TAIL)
        i += 1
        if not bare:
            pieces[-1].append(tokens[i - 1])
            continue
        if bare[0] in _VALUE_QUOTES:
            quote = bare[0]
            if not (len(bare) > 1 and bare.endswith(quote)):
                for j in range(i, min(i + _QUOTED_TOKENS, len(tokens))):
                    if tokens[j].rstrip(_TOKEN_TAIL).endswith(quote):
                        i = j + 1
                        break
            pieces.append([])
        elif _is_value(bare):
            pieces.append([])
        else:
            pieces[-1].append(tokens[i - 1])
    return [" ".join(piece) for piece in pieces if piece]


#: A path on the user's machine (`/home/me/app/x.toml`, `~/src/a/b`, `C:\\work\\a.txt`, a
#: network share's `\\\\fs01\\team\\a.txt` or `//fs01/team/a.txt`): what a program printed, not
#: the workspace's vocabulary. Its words ("home", "settings", "yaml") are left out of the
#: terms; a file of the workspace it names is still found by name (`files`). `/etc/gitconfig`,
#: one folder deep, is a name the code itself may hold, and a URL's `//host/a/b` the code's.
_MACHINE_PATH = re.compile(
    r"(?<![\w.~/\\-])(?:(?:~?/)(?:[\w.@+-]+/){2,}|[A-Za-z]:[\\/](?:[\w.@+ -]*[\\/])+)[\w.@+-]*"
    r"|(?<![\w.~/\\:-])(?:\\\\[\w.$-]+\\(?:[\w.@+ $-]*\\)+|//[\w.-]+/(?:[\w.@+-]+/)+)[\w.@+-]*"
)


class NamedFile(NamedTuple):
    """A file a query names: as written, and the line it points at (`termui.py:300`)."""

    name: str
    line: int | None


_TEST_QUERY = re.compile(
    r"\b(?:tests?|testing|tested|flaky|fixtures?|coverage|asserts?|assertions?|specs?|"
    r"regression|unit|e2e)\b",
    re.IGNORECASE,
)
_CHANGELOG_QUERY = re.compile(r"\b(?:change[-_ ]?logs?|release notes|news)\b", re.IGNORECASE)
#: A question about the code ("how are environment variables read for options", "where do we
#: retry?"): its answer is the code that does it, not the tests that exercise it.
_QUESTION = re.compile(r"^\W*(?:how|where|what|which|why)\b|\?\s*$", re.IGNORECASE)
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
    #: a lookup of nothing but names ("status", `Context.invoke`, "where is parse_config"): an
    #: exact definition is shown before definitions whose names merely hold its words
    only_names: bool
    #: in a lookup of nothing but names, those names as spelt (`lexicon.spelt_hash`): of the
    #: files defining one, those spelling it so come first ("echo": `echo`, then `_echo`)
    spelt: tuple[int, ...]
    #: ...and as tails of longer names (`lexicon.tail_hash`): files defining one come next
    #: ("ToolError", which nothing defines: `OCPToolError`)
    tails: tuple[int, ...]
    #: files a lookup names by path or file name: they come first (in a longer request a
    #: file's name is a clue among others, and `stem_named` weighs it)
    files: tuple[NamedFile, ...]
    only_files: bool  # it is nothing but such names ("src/app.ts", "termui.py:40")
    #: it may be a message pasted whole ("Failed to lookup view"): a phrase of at least
    #: MESSAGE_WORDS words with a stop word among them (a sentence, not keywords such as
    #: "infer response type", which spell `InferResponseType`), not a lookup of names
    message: bool
    #: for a message: its phrases (adjacent term pairs) that do not touch a value the
    #: program filled in (`template_pieces`): the ones its template holds
    message_pairs: tuple[int, ...]
    #: it asks how or where the code does something (`_QUESTION`), and not about tests,
    #: docs or the changelog: the source files come first
    asks_code: bool
    originals: dict[str, str]  # stemmed term -> the query word it came from

    @property
    def empty(self) -> bool:
        return not self.counts


def _files_named(text: str) -> tuple[NamedFile, ...]:
    return tuple(
        dict.fromkeys(
            NamedFile(m.group(1), int(m.group(2)) if m.group(2) else None)
            for m in _FILE_NAMED.finditer(text)
        )
    )


def _words_said(text: str) -> str:
    """`text` less the paths on the user's machine it holds (`_MACHINE_PATH`), unless it is
    nothing but such paths: then it names files, and their words are what it says."""
    if "/" not in text and "\\" not in text:
        return text
    said = _MACHINE_PATH.sub(" ", text)
    return said if words(said) else text


def _template_pairs(text: str, known: dict[tuple[str, str], int]) -> tuple[int, ...]:
    """The phrases of a message that no value it holds breaks (`Query.message_pairs`);
    `known`: the hashes of the query's phrases."""
    pieces = template_pieces(text)
    if len(pieces) == 1 and pieces[0] == " ".join(text.split()):
        return tuple(dict.fromkeys(known.values()))  # no value: every phrase
    out: dict[int, None] = {}
    for piece in pieces:
        for a, b in pairs(terms(piece)):
            h = known.get((a, b))
            out[pair_hash(a, b) if h is None else h] = None
    return tuple(out)


def _all_in(query_words: list[str], spans: Iterable[str]) -> bool:
    """Every one of `query_words` is a word of one of `spans` (case aside)."""
    held = {w.lower() for span in spans for w in words(span)}
    return all(w.lower() in held for w in query_words)


def parse_query(text: str) -> Query:
    text = text[:MAX_QUERY_CHARS]
    said = _words_said(text)
    by_word = terms_by_word(said)
    seq = [t for _, word_terms in by_word for t in word_terms]
    originals: dict[str, str] = {}
    for word, word_terms in by_word:
        for t in word_terms:
            originals.setdefault(t, word)
    content = [w for w, _ in by_word if w.lower() not in STOPWORDS]
    first = first_sentence(said)
    identifiers, code = code_words(said)
    lower = said.lower() if said.isascii() else None
    # A path on the user's machine taken out is a value a program printed: what is left of
    # "/home/me/x.toml is a directory" is a message, not a lookup of the name `directory`
    # (unless it writes a name as code: "where is parse_config in /home/me/app/config.py").
    # The files it names still come first ("/home/me/ws/src/app.py line 40").
    printed = said != text
    short = 0 < len(content) <= LOOKUP_WORDS and (
        len(by_word) <= LOOKUP_PLAIN_WORDS or bool(identifiers)
    )
    lookup = short and (not printed or bool(identifiers))
    # A lookup that writes an identifier as code, or is one word, names a definition: the
    # files defining it go first. In "markdown table redaction" each plain word may also name
    # something (`_table` in a report), but putting such files first lost more than it won
    # (short queries built from the dev sets: commit subjects' first three content words
    # MRR@10 0.501 -> 0.575, a doc comment's three 0.812 -> 0.954, a name spelt as words
    # 0.822 -> 0.862, names as written unchanged; `scripts/short_queries.py`).
    named = [w for w in content if w.lower() not in LOOKUP_PHRASING]
    one_name = (
        lookup
        and len(named) == 1
        and all(w in named or w.lower() in LOOKUP_PHRASING for w, _ in by_word)
    )
    definitions_first = one_name or (lookup and bool(identifiers))
    only_names = one_name or (lookup and _all_in(named, identifiers))
    # as spelt: what it writes as code, or its one name ("memory map" names `memory_map`, not
    # `map`)
    typed = identifiers + named if one_name else identifiers
    spelt = tuple(dict.fromkeys(spelt_hash(w) for w in typed)) if only_names else ()
    # ...and as the tail of a longer name: a lookup of one name, of two words or more (in
    # `Searcher::search_slice` the scope says which `search_slice`: not `multi_search_slice`)
    one = dict.fromkeys(typed)
    key = identifier_key(typed[0]) if only_names and len(one) == 1 else ""
    tails = (tail_hash(key),) if "_" in key and _PLAIN_NAME.fullmatch(typed[0]) else ()
    if lookup:
        # "verify token" names verify_token as surely as `verify_token` does: its definitions
        # are what to show, and `defines_named` weighs them
        identifiers += [w for w in named if len(w) > 2]
        identifiers += [f"{a}_{b}" for a, b in zip(content, content[1:], strict=False)]
    said_words = len(by_word) + printed  # the path taken out was one of its words
    message = said_words >= MESSAGE_WORDS and len(content) < len(by_word) and not only_names
    phrases: dict[tuple[str, str], int] = {}
    for pair in pairs(seq):
        if pair not in phrases:
            phrases[pair] = pair_hash(*pair)
    files = _files_named(text)
    wants_docs = _asks(_DOCS_QUERY, said, lower)
    wants_tests = _asks(_TEST_QUERY, said, lower)
    wants_changelog = _asks(_CHANGELOG_QUERY, said, lower)
    only_files = bool(files) and _all_in(
        [w for w in named if not w.isdigit()], (f.name for f in files)
    )
    return Query(
        text=text,
        counts=Counter(seq),
        # one sentence (as most are): its terms are the query's
        subject=frozenset(seq if len(first) == len(said) else terms(first)),
        code=frozenset(code),
        pair_keys=tuple(dict.fromkeys(phrases.values())),
        identifiers=tuple(dict.fromkeys(identifiers)),
        words=frozenset(w.lower() for w, _ in by_word),
        wants_docs=wants_docs,
        wants_tests=wants_tests,
        wants_changelog=wants_changelog,
        lookup=lookup,
        definitions_first=definitions_first,
        only_names=only_names,
        spelt=spelt,
        tails=tails,
        files=files if short or only_files else (),
        only_files=only_files,
        message=message and not only_files,
        message_pairs=_template_pairs(said, phrases) if message and not only_files else (),
        asks_code=_QUESTION.search(said) is not None
        and not (wants_tests or wants_docs or wants_changelog),
        originals=originals,
    )
