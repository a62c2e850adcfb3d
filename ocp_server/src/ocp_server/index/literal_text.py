"""A message pasted from a program's output, found in the string literal that prints it.

Terms and phrases leave stop words out, so "No such option: --colour" is searched as `option`
alone, and the chunk raising it looks like any other about options. For a query that may be
a message (`Query.message`), the chunks of the best files that hold its words are read back,
and one with a string literal holding, word for word and stop words included, most of a run
of the message (its words between the values a program filled in: `template_pieces`) is
where the message is written: its file goes first (source before examples and scripts; the
tests asserting the message keep their place), and it is the chunk shown of its file.

A chunk's text is read only when the index's own phrase postings (adjacent terms) allow it:
a commit's subject shows a colon as a message does ("printer: fix the width of wide
tables"), and no chunk holds its phrases together (`phrased_chunks`); nor when its literal
pairs (`literal_pairs`: two words in a row between a line's quotes, stop words included)
lack one of a window's ("to the default": one term, held by many chunks). With those, a
message none of the best files prints is looked for in any file whose literal pairs hold
one of its runs whole ("not allowed!", searched as `allowed`), and a literal that is the
whole query as written comes first ("keyboard cat!" before "keyboard cat").

A few plain words with no stop word ("Missing argument") read as a lookup of names; unless
they spell a name the code defines, a literal opening with them is looked for too
(`named_message`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from ocp_server.index.file_kinds import FileClass
from ocp_server.index.hits import gather, reduce_all, reduce_any
from ocp_server.index.lexical import ChunkRow, Snapshot
from ocp_server.index.lexicon import (
    STOPWORDS,
    defined_hash,
    pair_hash,
    tail_hash,
    terms,
    words,
)
from ocp_server.index.literal_pairs import held_anywhere, literals_held
from ocp_server.index.query import Query, parse_query, template_pieces
from ocp_server.index.ranking import Ranked, rank

__all__ = [
    "LITERAL_SHARE",
    "LiteralFinder",
    "Printed",
    "SCAN_CHUNKS",
    "SCAN_FILES",
    "holds_run",
    "lifted",
    "literal_chunks",
    "message_runs",
    "named_message",
    "phrased_chunks",
    "run_windows",
    "window_phrases",
]

#: The best files whose chunks are read back for a message's literal...
SCAN_FILES = 20
#: ...at most this many chunks in all, and this many of one file (its best for the query).
SCAN_CHUNKS = 64
SCAN_PER_FILE = 12
#: A literal holds a run of a message when it holds this share of the run's words in a row,
#: and three at least (or the whole run of two): "user_id is not in the range main" is
#: printed from "{value} is not in the range {range}".
LITERAL_SHARE = 0.6
#: A run of two words, or of one not a stop word, is looked for only in a query of at most
#: this many words (`message_runs`).
SHORT_MESSAGE_WORDS = 6
#: A sentence with a stop word and neither a value nor a colon ("Command has no name.") is
#: looked for as a message printed in a query of at most this many words: most longer ones
#: are requests and doc comments, and their phrases are found in the comments saying them.
PLAIN_MESSAGE_WORDS = SHORT_MESSAGE_WORDS
#: A query of this many plain words at most, no message by its shape ("Missing argument"),
#: is looked for at the start of a literal when no definition is named by its words.
NAMED_MESSAGE_WORDS = 4
#: A query of more words is not looked for as a message printed: a line a program prints is
#: shorter (`scripts/message_queries.py`: 16 words or less in nine messages in ten, 54 at
#: most), and a request that long (a commit's subject and body) rarely quotes one whole.
MESSAGE_MAX_WORDS = 30
#: The files best for a message's words alone are read only for a query of at most this many
#: words (nine messages in ten of `scripts/message_queries.py`): a line printed, not a request.
RERANK_WORDS = 16
#: The kinds of file a message is printed from, in the order they are lifted.
_PRINTING = (FileClass.CODE, FileClass.AUX)
#: A chunk's query terms are held as bits of one integer: the first this many terms.
_MASK_BITS = 64
#: A word of a line as the read-back reads it, and the quotes a literal opens and closes with.
_WORD = re.compile(r"\w+")
_QUOTES = ('"', "'", "`")
#: Where a message's parts meet: a label and its message ("Error: No such option"), a message
#: and the value it names ("Invalid value: colour"). Each part is looked for on its own too.
_COLON = re.compile(r":\s+")

#: (chunk indexes) -> their rows, read back as the search reads the chunks it shows.
RowReader = Callable[[list[int]], Awaitable[Mapping[int, ChunkRow]]]


def message_runs(query: Query) -> tuple[tuple[str, ...], ...]:
    """The runs of words (lower-case) that a literal may hold of a query that may be a message
    (a short `Query.message`, or one with a value or a colon: "Error: Missing command"): its pieces
    between values (`template_pieces`), whole and their parts between colons, of three words
    one not a stop word, or of two that are not."""
    if query.only_files:
        return ()
    said = len(words(query.text))
    if said > MESSAGE_MAX_WORDS:
        return ()  # a request or a page of output: no one line printed
    # a line printed shows a value the program filled in, or a label or value after a colon,
    # or is a short sentence ("Command has no name."); a longer sentence without either reads
    # as a request or a doc comment as well, and most searches are those: not read back
    pieces = template_pieces(query.text)
    plain = query.message and said <= PLAIN_MESSAGE_WORDS
    if not (plain or _COLON.search(query.text) or pieces != [" ".join(query.text.split())]):
        return ()
    # A run with one word that is not a stop word ("No such option") or of two words ("Missing
    # command") is a message's in a short query; in a longer one ("Treat If-None-Match: `*` as
    # a match", "Add new 'hostname' function. This will...") it is a scrap of a request, and
    # its one word would have most chunks of the best files read back.
    short = said <= SHORT_MESSAGE_WORDS
    runs: dict[tuple[str, ...], None] = {}
    for piece in pieces:
        parts = _COLON.split(piece)
        for part in parts if len(parts) == 1 else [piece, *parts]:
            run = tuple(w.lower() for w in words(part))
            content = sum(w not in STOPWORDS for w in run)
            if short and (content == len(run) == 2 or (content == 1 and len(run) >= 3)):
                runs[run] = None
            elif content >= 2 and len(run) >= 3:
                runs[run] = None
    return tuple(runs)


def named_message(snap: Snapshot, query: Query) -> tuple[str, ...]:
    """The words (lower-case) of a query of two to NAMED_MESSAGE_WORDS plain words that is
    read as a lookup of names but may be a message printed ("Missing argument", "not
    allowed!"): a literal opening with them all prints it. Empty when the words spell a name
    the code defines, whole or as its end (`memory map`: `memory_map`), or are one name and
    the phrasing of a lookup (`Query.only_names`: "func name"): that is a lookup."""
    if query.only_files or query.message or query.code or query.only_names:
        return ()  # "func name": a definition's name, the phrasing of a lookup before it
    said = words(query.text)
    if not 2 <= len(said) <= NAMED_MESSAGE_WORDS or not all(map(_plain, said)):
        return ()
    run = tuple(w.lower() for w in said)
    if all(w in STOPWORDS for w in run):
        return ()
    name = "_".join(run)
    keys = [defined_hash(name), tail_hash(name)]
    if any(at >= 0 for at in snap.chunk_names.locate(keys)):
        return ()
    return run


def run_windows(runs: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
    """What a literal holding one of `runs` holds (LITERAL_SHARE): each stretch of a run's
    words in a row that is long enough."""
    out: dict[tuple[str, ...], None] = {}
    for run in runs:
        need = max(min(3, len(run)), math.ceil(LITERAL_SHARE * len(run)))
        out.update((run[i : i + need], None) for i in range(len(run) - need + 1))
    return tuple(out)


class LiteralFinder:
    """Finds a string literal holding one of a message's windows (`run_windows`) word for
    word: a quote not after a quote (a docstring's triple quotes describe, they do not print),
    the window's words with nothing but non-word characters between them (`{name}` is a
    word), and the closing quote on the same line. `at_start`: the window opens the literal.

    `pattern` says so as a regular expression. Made for each query, it cost about a
    millisecond of CPU (`re` parses and compiles its alternatives in Python), more than the
    rest of the read-back; a line is read word by word instead (`_holds_words`: the same
    answer), and the pattern is made only for a window whose words are not all word
    characters (lower-casing "İ" gives "i̇")."""

    __slots__ = ("_by_first", "_pattern", "_whole", "at_start", "keys", "windows")

    def __init__(
        self, windows: tuple[tuple[str, ...], ...], *, at_start: bool = False, whole: str = ""
    ) -> None:
        self.windows = windows
        self.at_start = at_start
        # the query as written (spaces made one), quoted as a literal of it is, when it shows
        # more than words ("keyboard cat!"): a few words alone are as often a lookup
        said = " ".join(whole.split())
        shows = any(not (c.isalnum() or c.isspace() or c == "_") for c in said)
        self._whole = tuple(f"{q}{said}{q}" for q in _QUOTES) if shows else ()
        # per window its longest word: a line holding none is passed over
        self.keys = tuple(dict.fromkeys(max(window, key=len) for window in windows))
        self._pattern: re.Pattern[str] | None = None
        # the windows by their first word, when every word is a run of word characters
        self._by_first: dict[str, list[tuple[str, ...]]] | None = {}
        for window in windows:
            if not all(_WORD.fullmatch(w) for w in window):
                self._by_first = None
                break
            self._by_first.setdefault(window[0], []).append(window)

    def narrowed(self, windows: tuple[tuple[str, ...], ...]) -> LiteralFinder:
        """This finder for some of its windows."""
        finder = LiteralFinder(windows, at_start=self.at_start)
        finder._whole = self._whole
        return finder

    def whole_in(self, text: str) -> bool:
        """Whether `text` holds a literal that is the whole query as written, punctuation and
        case as the query has them."""
        return any(quoted in text for quoted in self._whole)

    def holds(self, line: str) -> bool:
        """Whether `line` (lower-cased) holds such a literal."""
        if self._by_first is not None:
            return self._holds_words(line, self._by_first)
        return self.pattern().search(line) is not None

    def pattern(self) -> re.Pattern[str]:
        """The regular expression finding such a literal in a line (lower-cased), made once."""
        if self._pattern is None:
            found = "|".join(r"\W+".join(map(re.escape, window)) for window in self.windows)
            before = r"\s*" if self.at_start else r"[^\"'`\n]*?(?<!\w)"
            self._pattern = re.compile(
                rf"(?<![\"'`])[\"'`]{before}(?:{found})(?!\w)[^\"'`\n]*[\"'`](?![\"'`])"
            )
        return self._pattern

    def _holds_words(self, line: str, by_first: dict[str, list[tuple[str, ...]]]) -> bool:
        """`pattern` read word by word: the window's words are words of the line in a row (a
        word is a run of word characters, and only others are between them); the quote
        nearest before the first (no quote between them), not after a quote, opens the literal
        (with nothing but spaces between them, `at_start`); the quote nearest after the last
        closes it, no quote after it."""
        spans = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(line)]
        said = [w for w, _, _ in spans]
        for i, word in enumerate(said):
            for window in by_first.get(word, ()):
                j = i + len(window)
                if said[i:j] != list(window):
                    continue
                start, end = spans[i][1], spans[j - 1][2]
                opening = max(line.rfind(q, 0, start) for q in _QUOTES)
                if opening < 0 or (opening > 0 and line[opening - 1] in _QUOTES):
                    continue
                if self.at_start and line[opening + 1 : start].strip():
                    continue
                after = [at for q in _QUOTES if (at := line.find(q, end)) >= 0]
                if not after:
                    continue
                closing = min(after)
                if line[closing + 1 : closing + 2] not in _QUOTES:
                    return True
        return False


def holds_run(text: str, finder: LiteralFinder) -> bool:
    """Whether a string literal of `text` holds what `finder` finds. The pattern runs on the
    lines holding a key word and a quote alone: over a whole chunk it took a hundred times as
    long."""
    lower = text.lower()
    for key in finder.keys:
        at = lower.find(key)
        while at >= 0:
            start = lower.rfind("\n", 0, at) + 1
            end = lower.find("\n", at)
            end = len(lower) if end < 0 else end
            line = lower[start:end]
            if ('"' in line or "'" in line or "`" in line) and finder.holds(line):
                return True
            at = lower.find(key, end)
    return False


def _scanned(
    snap: Snapshot,
    ranked: Ranked,
    windows: tuple[tuple[str, ...], ...],
    phrased: tuple[npt.NDArray[np.intp] | None, ...],
) -> list[int]:
    """The chunks worth reading back: of the best files that may print a message, those
    holding every term (stop words have none) of one of `windows` and, when it has phrases,
    among the chunks holding them (`phrased`, per window: `phrased_chunks`), best file first,
    then best chunk for the query."""
    index = {t: i for i, t in enumerate(ranked.term_list[:_MASK_BITS])}
    word_masks: dict[str, int] = {}
    for word in {w for window in windows for w in window}:
        word_masks[word] = sum({1 << index[t] for t in terms(word) if t in index})
    masks: dict[tuple[int, int], npt.NDArray[np.intp] | None] = {}
    for i, window in enumerate(windows):
        mask = 0
        for word in window:
            mask |= word_masks[word]
        if mask:
            masks[mask, i] = phrased[i]
    if not masks:
        return []
    # only source, examples and scripts print messages: a test asserting one is not lifted
    top = ranked.files[:SCAN_FILES]
    classes = snap.file_class[top]
    top = top[(classes == FileClass.CODE) | (classes == FileClass.AUX)]
    in_top = np.zeros(snap.n_files, dtype=bool)
    in_top[top] = True
    hits = ranked.chunk_hits
    keep = in_top[snap.chunk_file[hits.docs]]
    if len(ranked.term_list) > _MASK_BITS:
        keep &= hits.term < _MASK_BITS
    if not reduce_any(keep):
        return []
    docs = hits.docs[keep]
    order = np.argsort(docs, kind="stable")
    docs = docs[order]
    bits = np.left_shift(np.uint64(1), hits.term[keep][order].astype(np.uint64))
    starts = np.flatnonzero(np.concatenate([[True], docs[1:] != docs[:-1]]))
    held = np.bitwise_or.reduceat(bits, starts)
    chunks = docs[starts]
    wanted = np.zeros(len(chunks), dtype=bool)
    for (mask, _), among in masks.items():
        holds = (held & np.uint64(mask)) == np.uint64(mask)
        if among is not None:
            # np.isin's result by a mask over the chunks: its Python-level work cost more
            member = np.zeros(snap.n_chunks, dtype=bool)
            member[among] = True
            holds &= member[chunks]
        wanted |= holds
    chunks = chunks[wanted]
    if not len(chunks):
        return []
    place = np.zeros(snap.n_files, dtype=np.int64)
    place[top] = np.arange(len(top))
    values = ranked.chunk_scores
    at = np.minimum(values.chunks.searchsorted(chunks), max(len(values.chunks) - 1, 0))
    found = values.chunks[at] == chunks if len(values.chunks) else np.zeros(len(chunks), bool)
    score = np.where(found, values.values[at] if len(values.chunks) else 0.0, 0.0)
    files = snap.chunk_file[chunks]
    out: list[int] = []
    per_file: dict[int, int] = {}
    order = np.lexsort((-score, place[files]))
    for chunk, file in zip(chunks[order].tolist(), files[order].tolist(), strict=True):
        if per_file.get(file, 0) < SCAN_PER_FILE:
            per_file[file] = per_file.get(file, 0) + 1
            out.append(chunk)
            if len(out) == SCAN_CHUNKS:
                break
    return out


def _cased_words(text: str) -> frozenset[str]:
    """The words of `text` (lower-cased) whose terms depend on how they are written:
    `getValue` has the terms of `get` and `value` besides its own, `getvalue` only its own."""
    return frozenset(w.lower() for w in words(text) if not _plain(w))


def _plain(word: str) -> bool:
    return word.isalpha() and (word.islower() or word.isupper() or word[1:].islower())


def window_phrases(window: tuple[str, ...], cased: frozenset[str] = frozenset()) -> set[int]:
    """The phrases (`pair_hash` of two terms in a row: the index keeps each chunk's) that a
    chunk holds wherever a literal of it holds `window`: its words' terms in a row, stop words
    having none, but none touching a word of `cased` (as pasted, it may be written otherwise
    in the literal: the regular expression is case-blind, the terms are not always)."""
    keys: set[int] = set()
    last: str | None = None  # the previous word's last term, when a phrase may follow it
    for word in window:
        held = terms(word)
        if not held:
            continue  # a stop word: the chunk's terms skip it too
        if word in cased:
            last = None
            continue
        if last is not None:
            keys.add(pair_hash(last, held[0]))
        keys.update(pair_hash(a, b) for a, b in zip(held, held[1:], strict=False))
        last = held[-1]
    return keys


def phrased_chunks(
    snap: Snapshot, windows: tuple[tuple[str, ...], ...], cased: frozenset[str] = frozenset()
) -> tuple[npt.NDArray[np.intp] | None, ...]:
    """Per window, the chunks of source, examples and scripts holding all its phrases
    (`window_phrases`), found in the index's own phrase postings before any text is read: a
    commit's subject ("printer: fix the width of wide tables") shows a colon as a message
    does, and no chunk holds its phrases together. None for a window without a phrase (one
    word besides stop words: "No such option"): any chunk holding its term may hold it."""
    masks: list[int] = []
    bit: dict[int, int] = {}
    for window in windows:
        mask = 0
        for key in window_phrases(window, cased):
            if key not in bit and len(bit) < _MASK_BITS:
                bit[key] = len(bit)
            if key in bit:
                mask |= 1 << bit[key]
        masks.append(mask)
    none = np.zeros(0, dtype=np.intp)
    if not bit:
        return tuple(None for _ in windows)
    hits = gather(snap.chunk_pairs, list(bit), snap.n_chunks)
    classes = snap.file_class[snap.chunk_file[hits.docs]]
    keep = (classes == FileClass.CODE) | (classes == FileClass.AUX)
    if not reduce_any(keep):
        return tuple(None if not mask else none for mask in masks)
    docs, term = hits.docs[keep], hits.term[keep]
    order = np.argsort(docs, kind="stable")
    docs = docs[order]
    bits = np.left_shift(np.uint64(1), term[order].astype(np.uint64))
    starts = np.flatnonzero(np.concatenate([[True], docs[1:] != docs[:-1]]))
    held = np.bitwise_or.reduceat(bits, starts)
    chunks = docs[starts]
    return tuple(
        None if not mask else chunks[(held & np.uint64(mask)) == np.uint64(mask)] for mask in masks
    )


class Printed(NamedTuple):
    """The chunks whose string literals hold a message (`literal_chunks`), and of those the
    ones with a literal that is the whole query as written ("keyboard cat!" of three
    literals opening with "keyboard cat")."""

    found: list[int]
    exact: list[int]


async def literal_chunks(
    snap: Snapshot,
    ranked: Ranked,
    query: Query,
    read: RowReader,
    allowed: npt.NDArray[np.bool_] | None = None,
) -> Printed:
    """The chunks of the best files whose string literals hold the message `query` may be.
    None found, and the message holds values, the best files for its words alone are read
    too: a value that is a common word ("No such option 'main'") ranks the files that say
    it most, not the one printing the message. None found still, the chunks of any file
    whose literal pairs hold a window whole are read (`literal_pairs.held_anywhere`): a
    message of one common word ("not allowed!") ranks its file below the best."""
    runs = message_runs(query)
    named = () if runs else named_message(snap, query)
    if not runs and not named:
        return Printed([], [])
    windows = run_windows(runs) if runs else (named,)
    # a window whose phrases no chunk holds together is not looked for: none may print it
    phrased = phrased_chunks(snap, windows, _cased_words(query.text))
    live = [i for i, among in enumerate(phrased) if among is None or len(among)]
    if not live:
        return Printed([], [])
    windows = tuple(windows[i] for i in live)
    phrased = tuple(phrased[i] for i in live)
    finder = LiteralFinder(windows, at_start=bool(named), whole=query.text)
    found, read_back = await _holding(snap, _scanned(snap, ranked, windows, phrased), finder, read)
    if found.found:
        return found
    found, again = await _reranked(snap, query, windows, phrased, read_back, finder, read, allowed)
    if found.found or len(words(query.text)) > RERANK_WORDS:
        return found  # (a request, not a line printed: its scraps are in many literals)
    # a run whole, not a share of one ("with line number" of "expected slice with line
    # number"): a file the query's words do not rank is taken on a literal holding it all
    whole = tuple(w for w in windows if w in runs or w == named)
    if not whole:
        return found
    anywhere = held_anywhere(snap, whole, ranked.files, allowed, [*read_back, *again], SCAN_CHUNKS)
    return (await _holding(snap, anywhere, finder.narrowed(whole), read))[0]


async def _reranked(
    snap: Snapshot,
    query: Query,
    windows: tuple[tuple[str, ...], ...],
    phrased: tuple[npt.NDArray[np.intp] | None, ...],
    read_back: list[int],
    finder: LiteralFinder,
    read: RowReader,
    allowed: npt.NDArray[np.bool_] | None,
) -> tuple[Printed, list[int]]:
    """A message with values: the chunks of the best files for its words alone holding a
    window not looked for in all its chunks yet (`read_back`), and those read back."""
    none = Printed([], [])
    pieces = template_pieces(query.text)
    template = " ".join(pieces)
    if template == " ".join(query.text.split()) or len(words(query.text)) > RERANK_WORDS:
        return none, []  # no value: the same ranking again; or a request, not a line printed
    # a window whose every chunk holding its phrases was read back holds in none
    # np.isin's answer by a mask over the chunks: its Python-level work cost more
    seen = np.zeros(snap.n_chunks, dtype=bool)
    seen[read_back] = True
    live = [i for i, among in enumerate(phrased) if among is None or not reduce_all(seen[among])]
    bare = parse_query(template)
    if bare.empty or not live:
        return none, []
    windows = tuple(windows[i] for i in live)
    phrased = tuple(phrased[i] for i in live)
    chunks = _scanned(snap, rank(snap, bare, allowed), windows, phrased)
    return await _holding(snap, chunks, finder.narrowed(windows), read)


async def _holding(
    snap: Snapshot, chunks: list[int], finder: LiteralFinder, read: RowReader
) -> tuple[Printed, list[int]]:
    """Of `chunks`, those with a literal `finder` finds (and whole), and all of `chunks`:
    looked for, and read back unless their literal pairs rule them out."""
    if not chunks:
        return Printed([], []), []
    held = literals_held(snap, chunks, finder.windows)
    if not held:
        return Printed([], []), chunks
    rows = await read(held)
    texts = {c: row.text for c in held if (row := rows.get(c)) is not None}
    found = [c for c, text in texts.items() if holds_run(text, finder)]
    return Printed(found, [c for c in found if finder.whole_in(texts[c])]), chunks


def lifted(snap: Snapshot, ranked: Ranked, printed: Printed) -> Ranked:
    """`ranked` with the files holding the message's literal (`printed`) first, those with a
    literal that is the whole message before the others, source before examples and
    scripts, and in each the chunk holding it shown; tests and docs stay."""
    found = printed.found
    if not found:
        return ranked
    chunk_files = snap.chunk_file[found]
    classes = snap.file_class[chunk_files]
    tiers: dict[int, int] = {}
    for file, cls in zip(chunk_files.tolist(), classes.tolist(), strict=True):
        tiers[file] = _PRINTING.index(cls)
    files = ranked.files.tolist()
    place = {f: i for i, f in enumerate(files)}
    # a file found by the message's words alone (`literal_chunks`) may not be a candidate
    whole = set(snap.chunk_file[printed.exact].tolist())
    first = sorted(tiers, key=lambda f: (f not in whole, tiers[f], place.get(f, len(files))))
    rest = [f for f in files if f not in tiers]
    top = float(ranked.scores[0]) if len(ranked.scores) else 0.0
    by_file = dict(zip(files, ranked.scores.tolist(), strict=True))
    # above every other file, in their new order, the rest as they were
    scores = [top + len(first) - i for i in range(len(first))] + [by_file[f] for f in rest]
    chunk_scores = ranked.chunk_scores
    chunks = np.asarray(sorted(set(chunk_scores.chunks.tolist()) | set(found)), dtype=np.int64)
    values = chunk_scores.values.copy()
    at = chunk_scores.chunks.searchsorted(chunks)
    present = (at < len(chunk_scores.chunks)) & (
        chunk_scores.chunks[np.minimum(at, len(chunk_scores.chunks) - 1)] == chunks
    )
    merged = np.zeros(len(chunks))
    merged[present] = values[at[present]]
    boost = float(values.max(initial=0.0)) + 1.0
    merged[chunks.searchsorted(np.asarray(found, dtype=np.int64))] += boost
    return ranked._replace(
        files=np.asarray(first + rest, dtype=ranked.files.dtype),
        scores=np.asarray(scores, dtype=np.float64),
        chunk_scores=type(chunk_scores)(chunks, merged),
    )
