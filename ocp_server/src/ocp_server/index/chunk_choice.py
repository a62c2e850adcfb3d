"""Which chunks of a file to show: each chunk's own score for a query (`ChunkScores`).

Files are ranked by `features.py` and `ranking.py`; within a file, the chunk shown first is
the one that answers best on its own: its BM25, raised by the share of the query's phrases it
holds; the chunk holding the whole of a message pasted as the query before any other; in a
lookup, the definitions the query names, ordered by how much of the query their names hold.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from ocp_server.index.arrays import Floats, Ints
from ocp_server.index.hits import Hits, doc_sums, reduce_add, reduce_any, reduce_max
from ocp_server.index.lexical import Snapshot
from ocp_server.index.lexicon import TILE_LINES
from ocp_server.index.query import Query

__all__ = [
    "CHOICE_NAMES_ORDER",
    "CHOICE_PHRASES",
    "CHOICE_SPELT",
    "CHOICE_TAIL",
    "ChunkScores",
    "NameEvidence",
    "ascending_distinct",
    "chunk_choice",
    "shown_from",
    "whole_message",
]

#: Choosing a file's chunk: how much the share of the query's phrases it holds adds to BM25
#: (doc comment -> function on the dev sets: chunk hits 0.91 without, 0.97 with).
CHOICE_PHRASES = 2.0
#: In a query of nothing but names (`Query.only_names`), how much a chunk's names outweigh its
#: words: a tenth of a name's share is worth more than any chunk's BM25.
CHOICE_NAMES_ORDER = 10.0
#: ...and how much a definition spelt as the query spells it adds to its name's share: a
#: tie-break between definitions alike in all else (`echo` and `_echo`), less than a word's
#: share of a longer name ("usage func": UsageFunc before `Usage`), more than a chunk's BM25.
CHOICE_SPELT = 0.05
#: ...and how much a definition of a longer name the query is the tail of (`Query.tails`)
#: adds: less than defining the name itself, more than a name holding its words.
CHOICE_TAIL = 0.5


class ChunkScores(NamedTuple):
    """How well each chunk answers, for picking chunks in a file: `values` of the chunks
    `chunks` (ascending), every other chunk 0. Only the chunks a query hits are held."""

    chunks: Ints
    values: Floats

    def best_of_file(self, lo: int, hi: int) -> int:
        """`lo + of_file(lo, hi).argmax()`, without building the file's array."""
        a, b = self.chunks.searchsorted((lo, hi)).tolist()
        if a == b:
            return lo
        at = int(self.values[a:b].argmax())
        return int(self.chunks[a + at]) if self.values[a + at] > 0 else lo

    def best_of_files(self, lo: Ints, hi: Ints) -> Ints:
        """`best_of_file` of each file (chunks lo[i]..hi[i]-1), all at once."""
        a = self.chunks.searchsorted(lo)
        sizes = self.chunks.searchsorted(hi) - a
        firsts = sizes.cumsum() - sizes
        held = sizes > 0
        best = lo.copy()
        if not reduce_any(held):
            return best
        a, sizes, firsts = a[held], sizes[held], firsts[held]
        total = int(reduce_add(sizes))
        at = np.arange(total) + (a - firsts).repeat(sizes)  # the files' chunks, one run each
        values = self.values[at]
        top = np.maximum.reduceat(values, firsts)
        # the first chunk holding its file's best value, as argmax takes
        first = np.minimum.reduceat(
            np.where(values == top.repeat(sizes), np.arange(total), total), firsts
        )
        best[held] = np.where(top > 0, self.chunks[at[first]], lo[held])
        return best

    def of_file(self, lo: int, hi: int) -> Floats:
        """The scores of chunks lo..hi-1 (one file's)."""
        out = np.zeros(hi - lo)
        a, b = self.chunks.searchsorted((lo, hi)).tolist()
        out[self.chunks[a:b] - lo] = self.values[a:b]
        return out


def shown_from(snap: Snapshot, named: dict[int, int | None]) -> ChunkScores:
    """For a query of file names alone: each file's chunk holding the line it points at (to a
    tile's precision), else its first (a file with no chunk scored shows its first): a file
    shorter than the line is not the one meant, or has changed."""
    chunks = []
    for file, line in named.items():
        if line is not None and line <= snap.file_lines[file]:
            lo, hi = int(snap.file_chunks[file]), int(snap.file_chunks[file + 1])
            tiles = snap.chunk_first_tile[lo:hi]
            at = int(tiles.searchsorted((line - 1) // TILE_LINES, side="right")) - 1
            chunks.append(lo + max(at, 0))
    held = np.array(sorted(chunks), dtype=np.intp)
    return ChunkScores(held, np.ones(len(held)))


class NameEvidence(NamedTuple):
    """What a lookup knows of the chunks' names (`chunk_choice`)."""

    defined: Hits  # chunk postings of the identifiers the query names
    names: Hits  # chunk postings of the query's terms as name terms
    spelt: Hits  # chunk postings of those identifiers as the query spells them
    tails: Hits  # chunk postings of those identifiers as tails of longer names
    share: Floats  # each query term's share of the query's IDF


def whole_message(
    query: Query, phrase: Floats, pairs: Hits, at: tuple[Ints, npt.NDArray[np.bool_]]
) -> tuple[npt.NDArray[np.bool_] | None, int]:
    """Per hit chunk: whether it holds the whole of a query that may be a message
    (`Query.message`), and how many phrases that took. "Failed to lookup view" pasted from an
    error is found whole where the code raises it, and in the tests asserting it: every
    phrase (`phrase`: the share of the query's a chunk holds) is there. Seen with the values
    the program filled in ("Config file '/home/me/x.toml' is a directory"), no chunk holds the
    phrases that touch a value; then the chunks holding the rest are the ones
    (`Query.message_pairs`, `at`: where each pair posting's chunk is among the hit chunks,
    whether it is). None when no chunk holds it."""
    if not query.message or not query.pair_keys:
        return None, 0
    whole = phrase >= 1.0 - 1e-9
    if reduce_any(whole):
        return whole, len(query.pair_keys)
    wanted = query.message_pairs
    if not wanted or len(wanted) == len(query.pair_keys):
        return None, 0
    where, inside = at
    # a few keys: a set over them costs a tenth of np.isin's Python-level work
    kept = set(wanted)
    template = np.array([key in kept for key in query.pair_keys], dtype=bool)
    held = inside & template[pairs.term]
    whole = doc_sums(where[pairs.docs[held]], None, len(phrase)) >= len(wanted) - 1e-9
    return (whole, len(wanted)) if reduce_any(whole) else (None, 0)


def chunk_choice(
    query: Query,
    hits: tuple[Ints, npt.NDArray[np.intp], npt.NDArray[np.bool_]],
    bm25: Floats,
    phrase: Floats,
    whole: npt.NDArray[np.bool_] | None,
    lookup: NameEvidence | None,
) -> ChunkScores:
    """A chunk's own score, for choosing what to show of a file: BM25 (`bm25`, of the chunks
    `hit`, as `distinct_docs` gives them) scaled up by the share of the query's phrases
    (adjacent term pairs) it holds (`phrase`). A chunk holding the whole of a message
    (`whole`) comes before any other: it is where the message is written, and a definition
    named by one of its words ("Command has no name": `Command`) is not.

    In a lookup (`lookup`: what it knows of the chunks' names) a chunk gains the top score x
    how much of the query its definitions' names hold: 1 for defining an identifier the query
    names, else the IDF share of the query's terms among its name terms (its symbol's and
    scope's words). So a name holding every query term gains as much as the definition of an
    identifier two adjacent query words spell: "sets help template" spells HelpTemplate, and
    SetHelpTemplate's name holds all three; their own words then decide (a flat boost for
    named identifiers alone showed HelpTemplate)."""
    hit, where, seen = hits
    score = bm25 * (1.0 + CHOICE_PHRASES * phrase)
    if lookup is None:
        return ChunkScores(hit, _lift(score, whole, 0.0))
    defined, names, spelt, tails, share = lookup
    # a chunk holding a name term holds the term: one outside `hit` has no body score either
    inside = seen[names.docs]
    named = doc_sums(where[names.docs[inside]], share[names.term[inside]], len(hit))
    inside = seen[defined.docs]
    exact = where[defined.docs[inside]]
    if query.only_names:
        # a query of nothing but names wants exactly what it names: a definition of it gains
        # on top of its name's share, so "status" shows `status` before `sendStatus` and
        # "Context.invoke" the `invoke` scoped in Context before Command's (with plain words
        # besides, a name holding more of them wins: "GenMarkdownTree custom filePrepender"
        # shows GenMarkdownTreeCustom); and what a chunk's names hold orders the chunks, its
        # words only break ties: `LocalPath.dirpath` must not show the LocalPath class, whose
        # names hold less of the query but whose body more of its words
        defines = np.zeros(len(hit))
        # a definition of a longer name the query is the tail of, less than one of the name
        # itself: "WorkerBuilder" (nothing defines it) shows `SearchWorkerBuilder`, not a
        # `new` scoped in it, whose names hold as much of the query
        tails_inside = seen[tails.docs]
        defines[where[tails.docs[tails_inside]]] = CHOICE_TAIL
        defines[exact] = 1.0
        # of two definitions alike in that, the one spelt as the query spells it: "echo"
        # shows `echo`, then `_echo`, which `identifier_key` spells alike (a tie-break only:
        # "usage func" still shows UsageFunc, not `Usage`)
        spelt_inside = seen[spelt.docs]
        defines[where[spelt.docs[spelt_inside]]] += CHOICE_SPELT
        named = (named + defines) * CHOICE_NAMES_ORDER
    else:
        named[exact] = 1.0
    boost = float(reduce_max(score, initial=0.0)) + 1.0
    score += boost * named
    if len(defined.docs):
        # definitions that hold no query term (score 0) join the chunks held
        extra = ascending_distinct(defined.docs[~inside])
        slots = hit.searchsorted(extra)
        alone = boost * (CHOICE_NAMES_ORDER if query.only_names else 1.0)
        score = _lift(score, whole, alone)
        return ChunkScores(np.insert(hit, slots, extra), np.insert(score, slots, alone))
    return ChunkScores(hit, _lift(score, whole, 0.0))


def _lift(score: Floats, whole: npt.NDArray[np.bool_] | None, others: float) -> Floats:
    """`score` with the chunks `whole` lifted above every other chunk, those scoring up to
    `others` besides."""
    if whole is None:
        return score
    return score + whole * (max(float(reduce_max(score, initial=0.0)), others) + 1.0)


def ascending_distinct(values: Ints) -> Ints:
    """`np.unique(values)`, which a search must not call: its first call imports numpy.ma,
    40 ms in the first lookup query of a server."""
    out = np.sort(values)
    keep = np.ones(len(out), dtype=bool)
    np.not_equal(out[1:], out[:-1], out=keep[1:])
    return out[keep]
