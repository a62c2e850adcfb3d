"""Ranking: which files answer a query, and which chunk of each to show.

Files are ranked, not chunks, because an agent's next step is to open a file and because
evidence spread over a file (five matching definitions, the words of the question in its tests)
is what a single best chunk hides. Each candidate file gets the features below, and a linear
model learned on the development queries of `../shared/bench/retrieval` (commit message ->
files it changed, doc comment -> function; see `scripts/train_ranker.py`) weighs them. The
weights ship as data (`ranker_weights.json`): one vector for every query, and one added for each
kind of query that weighs the evidence its own way (`query_kinds`: it writes code, it names a
file).

The features, all per (query, file), scaled by their maximum over the query's candidates where
marked "rel" so that long and short queries weigh alike:

- BM25 of the file as one document (k1 1.2, b 0.75 and b 0.3), rel;
- the best chunk's BM25 and the best block's (about BLOCK_LINES lines of whole chunks), rel;
- BM25 over the words of the first sentence only, over the rest, and over words written as
  code (`backticked`, snake_case, camelCase), rel;
- the best chunk's BM25 over words written as code, rel;
- coverage: the IDF-weighted share of the query's terms in the file, and in its best chunk;
  the share of the query's rarest terms in the file;
- phrases: the share of the query's adjacent term pairs found adjacent in the file;
- names: BM25 over the names of the file's definitions, rel; identifiers written as code in
  the query that the file defines (1/number of files defining each). A short query (a lookup,
  at most LOOKUP_WORDS words) names identifiers with any word or adjacent pair of words, and
  the files defining them rank first;
- the path: BM25 over the path's words, rel; the file's stem named as a word in the query;
- what it is: code, test, code beside the product (docs/, examples/), prose, config, a
  changelog (unless the query asks for one); size in lines and definitions (log).

Stemming, identifier splitting and the query-term counts follow `lexicon`. A query that asks for
documentation or configuration ("docs", "readme", "yaml", ...) does not hold prose or config
back.

Over 600 lines: the features and the sums over postings they come from (only over the chunks
and blocks a query hits) read best side by side; splitting them would hide what each feature
is computed from.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from ocp_server.index.lexical import FileClass, Snapshot
from ocp_server.index.lexicon import (
    MAX_QUERY_CHARS,
    STOPWORDS,
    TILE_LINES,
    code_words,
    defined_hash,
    first_sentence,
    name_hash,
    pair_hash,
    pairs,
    term_hash,
    terms,
    terms_by_word,
)
from ocp_server.index.postings import Postings, records_counts, records_docs

__all__ = [
    "FEATURES",
    "QUERY_KINDS",
    "Query",
    "Ranked",
    "RankerWeights",
    "candidate_features",
    "load_weights",
    "parse_query",
    "query_kinds",
    "rank",
    "subject_window",
]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

FEATURES: tuple[str, ...] = (
    "file_bm25",
    "file_bm25_flat",
    "chunk_best",
    "path",
    "names",
    "coverage",
    "rare_coverage",
    "stem_named",
    "code",
    "test",
    "aux",
    "prose",
    "config",
    "log_lines",
    "log_definitions",
    "subject_bm25",
    "body_bm25",
    "code_words_bm25",
    "code_words_chunk",
    "defines_named",
    "phrases",
    "chunk_coverage",
    "test_asked",
    "block_best",
    "history_similar",
    "history_changes",
    "changelog",
    "subject_window",
)

#: The features scaled by their maximum over the query's candidates ("rel" above).
_RELATIVE = np.array(
    [
        FEATURES.index(name)
        for name in (
            "file_bm25",
            "file_bm25_flat",
            "chunk_best",
            "path",
            "names",
            "subject_bm25",
            "body_bm25",
            "code_words_bm25",
            "code_words_chunk",
            "block_best",
            "history_similar",
        )
    ]
)
K1 = 1.2
#: BM25's b for the names field, normalised by the file's definitions (`_definitions_length`):
#: LORO commits MRR@10 at 0 / 0.25 / 0.5 / 0.75 / 1: 0.8145 / 0.8168 / 0.8177 / 0.8175 / 0.8167.
NAMES_B = 0.5
CANDIDATES = 80
#: The past commits most like the query that vote for the files they changed.
HISTORY_COMMITS = 30
#: Choosing a file's chunk: how much the share of the query's phrases it holds adds to BM25
#: (doc comment -> function on the dev sets: chunk hits 0.91 without, 0.97 with).
CHOICE_PHRASES = 2.0
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
#: A prose file that is a changelog or release notes (CHANGES.md, History.md, NEWS, a fragment
#: in changelog/): it restates commit messages nearly word for word, so it matches a request
#: about code better than the code does (express: History.md in the top 6 of 25 of 150 commit
#: queries before it was a feature).
_CHANGELOG_PATH = re.compile(
    r"(?:^|/)(?:change[-_]?log|changes|history|news|release[-_]?notes|releases)"
    r"(?:/|\.[\w.]+$|$)",
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
    identifiers: tuple[str, ...]  # written as code, whole
    words: frozenset[str]  # lower-cased words, for file stems
    wants_docs: bool
    wants_tests: bool
    wants_changelog: bool
    lookup: bool  # a few words naming something: files defining what it names go first
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
    if lookup:
        # "verify token" names verify_token as surely as `verify_token` does
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
        originals=originals,
    )


# What every search makes (the query, ten _Hits, the chunk scores, the ranking) are
# NamedTuples: a frozen dataclass's __init__ sets each field through object.__setattr__,
# several times the cost.
class _Hits(NamedTuple):
    """The postings of the query's terms in one postings table, flattened."""

    docs: npt.NDArray[np.intp]  # indexes: numpy casts int32 indexes on every use
    counts: Floats
    term: npt.NDArray[np.int64]  # which query term (index into the query's term list)
    df: Floats  # per query term: documents holding it (0: none)
    idf: Floats  # per query term: its IDF among the table's documents


def _gather(post: Postings, keys: list[int], n: int) -> _Hits:
    """The postings of `keys` in `post`, a table of `n` documents."""
    return _gather_all([(post, post.locate(keys), n)])[0]


def _gather_all(wanted: list[tuple[Postings, list[int], int]]) -> list[_Hits]:
    """The postings of a query's keys in several tables at once: per table, where each key is
    among its keys (`Postings.locate`; tables rolled up from one another share their keys, so
    a query looks them up once for all) and how many documents it has (for the IDF). One
    concatenation for every table's postings and one IDF over every table's keys, not one
    per table: numpy's per-call cost, not the copying, is what a query of a few terms pays."""
    records: list[npt.NDArray[np.int64]] = []
    ids: list[int] = []  # per key found: which of its table's keys it is
    sizes: list[int] = []  # per key found: its postings
    df: list[int] = []  # per key of every table: its postings (0: none)
    bounds: list[tuple[int, int]] = []  # per table: where its postings and keys end
    total = 0
    for post, at, _ in wanted:
        item, held = post.starts.item, post.records
        # a query has a few terms: Python over them beats numpy's per-call cost, and copying
        # their slices beats indexing every posting
        for j, i in enumerate(at):
            if i < 0:
                df.append(0)
                continue
            a, b = item(i), item(i + 1)
            records.append(held[a:b])
            ids.append(j)
            sizes.append(b - a)
            df.append(b - a)
            total += b - a
        bounds.append((total, len(df)))
    every = np.concatenate(records) if records else np.zeros(0, dtype=np.int64)
    all_docs = records_docs(every).astype(np.intp)
    all_counts = records_counts(every).astype(np.float64)
    term = np.array(ids, dtype=np.int64).repeat(sizes)
    all_df = np.array(df, dtype=np.float64)
    n_docs = np.array([n for _, _, n in wanted], dtype=np.float64).repeat(
        [len(at) for _, at, _ in wanted]
    )
    all_idf = _idf(all_df, n_docs)
    out = []
    post_lo = key_lo = 0
    for post_hi, key_hi in bounds:
        out.append(
            _Hits(
                all_docs[post_lo:post_hi],
                all_counts[post_lo:post_hi],
                term[post_lo:post_hi],
                all_df[key_lo:key_hi],
                all_idf[key_lo:key_hi],
            )
        )
        post_lo, key_lo = post_hi, key_hi
    return out


# The reductions that `ndarray.any`, `.all`, `.sum` and `.max` run, called straight: those
# methods (like np.searchsorted, np.repeat, np.flatnonzero, np.argsort beside the array's own
# methods) go through Python-level wrappers in numpy that cost more than reducing a query's few
# values. The same routines over the same 1-d arrays: the same values.
_any = np.logical_or.reduce
_all = np.logical_and.reduce
_add = np.add.reduce
_max = np.maximum.reduce


def _distinct(
    docs: npt.NDArray[np.intp], n: int
) -> tuple[Ints, npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """The documents (0..n-1) that postings `docs` hit, ascending; per document, where it is
    among them (only for those hit); and whether it is hit. Sums over the hit documents only,
    not over every document."""
    seen = np.zeros(n, dtype=bool)
    seen[docs] = True
    hit = seen.nonzero()[0]
    where = np.empty(n, dtype=np.intp)
    where[hit] = np.arange(len(hit))
    return hit, where, seen


def _idf(df: Floats, n: int | Floats) -> Floats:
    """BM25's IDF among `n` documents (per term, or for all); 0 for a term no document
    holds. Elementwise: the same floats whether `n` is one count or an array of it."""
    return np.where(df > 0, np.log1p((n - df + 0.5) / (df + 0.5)), 0.0)


def _definitions_length(snap: Snapshot) -> npt.NDArray[np.float32]:
    """A file's definitions over their mean among the files defining something: the length
    of its names field. A file defining nothing but holding names (a Markdown file's headings)
    has length 0: its names weigh as the shortest file's. Its chunks naming something as the
    length instead, headings counted, measured lower (LORO 0.8174, nested 0.8149, against
    0.8178 and 0.8170)."""
    defs = snap.file_defs
    mean = float(defs[defs > 0].mean()) if bool((defs > 0).any()) else 1.0
    return (defs / mean).astype(np.float32)


#: The documents' lengths (over their mean) per table, as `_length_norm` names them.
_LENGTHS: dict[str, Callable[[Snapshot], npt.NDArray[np.float32]]] = {
    "chunk": lambda snap: snap.chunk_len,
    "file": lambda snap: snap.file_len,
    "block": lambda snap: snap.blocks.length,
    "history": lambda snap: snap.history.length,
    "names": _definitions_length,
}


def _length_norm(snap: Snapshot, table: str, b: float) -> npt.NDArray[np.float32]:
    """Per document of `table` (`_LENGTHS`): BM25's K1 x (1 - b + b x length over the mean);
    computed on a snapshot's first search, not on each."""
    key = ("length_norm", table, b)
    norm = snap.derived.get(key)
    if norm is None:
        norm = snap.derived[key] = K1 * (1.0 - b + b * _LENGTHS[table](snap))
    return norm


def _tf_weight(hits: _Hits, term_weight: Floats) -> Floats:
    """Per posting: the term's weight (query count x IDF, or 0 to leave it out) x its count
    x (K1 + 1), BM25's numerator."""
    return term_weight[hits.term] * hits.counts * (K1 + 1.0)


def _bm25(hits: _Hits, term_weight: Floats, norm: npt.NDArray[np.float32]) -> Floats:
    """Per posting: the term's weight x BM25's saturated, length-normalised term frequency
    (`norm`: per document, `_length_norm`)."""
    return _tf_weight(hits, term_weight) / (hits.counts + norm[hits.docs])


def _sum(
    docs: npt.NDArray[np.intp] | npt.NDArray[np.int32], weights: Floats | None, n: int
) -> Floats:
    """Per document 0..n-1: the sum of `weights` over its postings (their count without)."""
    return np.bincount(docs, weights=weights, minlength=n).astype(np.float64, copy=False)


def _saturated(hits: _Hits, term_weight: Floats, n: int) -> Floats:
    """Per document: sum of weight x tf / (tf + K1) (no length normalisation: paths)."""
    tf = hits.counts
    return _sum(hits.docs, term_weight[hits.term] * tf * (K1 + 1.0) / (tf + K1), n)


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
        if not _any(held):
            return best
        a, sizes, firsts = a[held], sizes[held], firsts[held]
        total = int(sizes.sum())
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


class Ranked(NamedTuple):
    files: Ints  # file indexes, best first
    scores: Floats  # their scores
    chunk_scores: ChunkScores  # per chunk: how well it answers (for picking chunks in a file)
    chunk_hits: _Hits  # body-term postings of the query over chunks (for matched terms)
    term_list: tuple[str, ...]


class _Ranges(NamedTuple):
    """Ascending ranges [lo, hi) of an array that do not overlap, each reduced to one value
    by one reduceat over the ranges asked for, not over every file's (the files that answer
    a query on a large repository are a few hundred of its thousands)."""

    edges: Ints  # lo0, hi0, lo1, hi1, ...
    filled: npt.NDArray[np.bool_]  # hi > lo

    @classmethod
    def of(cls, edges: Ints) -> _Ranges:
        return cls(edges, edges[1::2] > edges[0::2])

    def reduce(self, how: np.ufunc, values: Floats) -> Floats:
        """Per range: `how` over its values, 0 for an empty one. `values` must reach past the
        last range's end (reduceat's edges fall inside the array)."""
        if not len(self.filled):
            return np.zeros(0)
        return np.where(self.filled, how.reduceat(values, self.edges)[0::2], 0.0)


def _history(
    snap: Snapshot, keys: list[int], qtf: Floats, as_of: int | None
) -> tuple[Floats, Floats]:
    """Per file: (what the past commits most like the query changed, how often it changed).

    `as_of` (epoch seconds) keeps only older commits: for measuring on past queries."""
    hist, n_files = snap.history, snap.n_files
    similar, changes = np.zeros(n_files), np.zeros(n_files)
    if not hist.n_commits:
        return similar, changes
    older = None if as_of is None else hist.time < as_of
    if older is None:  # the same for every search of a snapshot: counted on its first
        kept = snap.derived.get(("history_changes",))
        if kept is None:
            kept = snap.derived[("history_changes",)] = _sum(hist.files, None, n_files)
        changes = kept
    else:
        per_file = np.repeat(np.arange(hist.n_commits), np.diff(hist.file_starts))
        changes = _sum(hist.files[older[per_file]], None, n_files)
    hh = _gather(hist.body, keys, hist.n_commits)
    if older is not None:
        keep = older[hh.docs]
        # df still counts the newer commits (as it always has: measuring only)
        idf = _idf(hh.df, max(int(older.sum()), 1))
        hh = _Hits(hh.docs[keep], hh.counts[keep], hh.term[keep], hh.df, idf)
    post = _bm25(hh, qtf * hh.idf, _length_norm(snap, "history", 0.75))
    score = _sum(hh.docs, post, hist.n_commits)
    top = np.argsort(-score)[:HISTORY_COMMITS]
    top = top[score[top] > 0]
    if len(top):
        # each similar commit votes for the files it changed, less so when it changed many
        lo, hi = hist.file_starts[top], hist.file_starts[top + 1]
        sizes = hi - lo
        at = np.repeat(lo, sizes) + (
            np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        )
        votes = np.repeat(score[top] / np.sqrt(np.maximum(sizes, 1)), sizes)
        similar = _sum(hist.files[at], votes, n_files)
    return similar, changes


#: The subject terms a window weighs at most, the rarest first.
_WINDOW_TERMS = 64
_ONE = np.uint64(1)
#: A window's share of the weight is counted in steps of one part in this many.
_SHARE_STEPS = 1 << 14
_LOW_SIX = np.uint64(63)


def _tile_bytes(snap: Snapshot) -> Ints:
    """Per file: the bytes its tiles take in `subject_window`'s bit strings, 8 tiles a byte,
    with an empty tile before and after them (a window, a tile and one either side, about
    any of its tiles holds its own terms only, and no byte holds two files' tiles); computed
    on a snapshot's first search, not on each."""
    key = ("tile_bytes",)
    room = snap.derived.get(key)
    if room is None:
        tiles = (np.maximum(snap.file_lines.astype(np.int64), 1) - 1) // TILE_LINES + 1
        room = snap.derived[key] = (tiles + 2 + 7) // 8
    return room


def subject_window(
    snap: Snapshot, at: list[int], hits: _Hits, weight: Floats, cand: Ints
) -> Floats:
    """Per candidate file (`cand`, ascending): the largest share of `weight` (per query term,
    above 0 for the query's subject terms) that one window of lines holds: a tile
    (`lexicon.TILE_LINES` lines) and one either side, 9 lines, anywhere in the file, across its
    chunks' edges (windows of 6 to 9 lines ranked alike held out; scripts/train_ranker.py).
    `at`: per query term, where it is among `snap.chunk_body`'s keys (`Postings.locate`);
    `hits`: their postings there (`_gather_all`), which the ranking has gathered already.

    Per term, a bit string over the candidates' tiles laid end to end, each posting's tile
    mask ORed in at its chunk's place; the strings widened by a tile either side; then byte
    by byte (8 tiles), the weight of its heaviest term near, and its best tile's sum where the
    terms near could together beat the best byte of its file; the maximum per file. Its cost
    follows the query's chunk postings, the candidates' lines and the places where terms
    meet."""
    out = np.zeros(len(cand))
    total = float(_add(weight))
    if not snap.tiles_complete or not len(cand) or total <= 0:
        return out
    if len(weight) > _WINDOW_TERMS and np.count_nonzero(weight) > _WINDOW_TERMS:
        # the rarest only: a query of many terms
        top = np.zeros(len(weight), dtype=bool)
        top[np.argsort(-weight, kind="stable")[:_WINDOW_TERMS]] = True
        weight = np.where(top, weight, 0.0)
    subject = weight > 0
    # per posting: which candidate holds its chunk (-1: none); kept for a subject term's
    at_cand = np.full(snap.n_files, -1, dtype=np.intp)
    at_cand[cand] = np.arange(len(cand))
    which = at_cand.take(snap.chunk_file[hits.docs])  # take: indexing by int32 is slower
    inside = which >= 0
    if not _all(subject | (hits.df == 0)):  # else every term found is the subject's
        inside &= subject[hits.term]
    keep = inside.nonzero()[0]
    if not len(keep):
        return out
    term, docs, which = hits.term[keep], hits.docs[keep], which[keep]
    # a posting's tile mask sits at its place in the table: where its term's postings begin
    # there, and its place among them
    sizes = hits.df.astype(np.intp)
    begin = snap.chunk_body.starts[at] - (sizes.cumsum() - sizes)
    mask = snap.chunk_tiles[keep + begin[term]]
    # the candidates' tiles end to end (`_tile_bytes`); a candidate none of the terms are in
    # takes a byte of empty tiles: its window is 0
    held = np.bincount(which, minlength=len(cand)) > 0
    room = np.where(held, _tile_bytes(snap)[cand], 1)
    ends = np.cumsum(room)
    edges = ends - room  # each file's first byte
    # a word to spare: a mask read from disk that reached past its file's lines (the indexer
    # writes none) must not index past the array
    n_words = int(ends[-1]) // 8 + 3
    first = (edges * 8 + 1)[which] + snap.chunk_first_tile[docs]  # after the empty tile
    word, shift = first >> 6, (first & 63).astype(np.uint64)
    # where each mask goes: ascending, as the postings are (term by term, chunks in file and
    # line order, the candidates laid out in file order), so the masks that meet in one word
    # are neighbours, ORed by one reduceat
    flat = ((subject.cumsum() - 1) * n_words)[term] + word  # a bit string per subject term
    head = np.empty(len(flat), dtype=bool)
    head[:1] = True
    np.not_equal(flat[1:], flat[:-1], out=head[1:])
    heads = head.nonzero()[0]
    at_word = flat[heads]
    strings = np.zeros((int(np.count_nonzero(subject)), n_words), dtype=np.uint64)
    flat_strings = strings.reshape(-1)
    flat_strings[at_word] = np.bitwise_or.reduceat(mask << shift, heads)
    # the bits a shift of up to 63 carries into the next word (>> 64 is undefined): few masks
    # reach past their word
    carry = (mask >> _ONE) >> (_LOW_SIX - shift)
    over = carry.nonzero()[0]
    np.bitwise_or.at(flat_strings, flat[over] + 1, carry[over])
    # a tile either side: the strings shifted by one bit each way, carrying across words
    wide = strings | (strings << _ONE) | (strings >> _ONE)
    wide[:, 1:] |= strings[:, :-1] >> _LOW_SIX
    wide[:, :-1] |= strings[:, 1:] << _LOW_SIX
    # weighed in integer steps of 1/_SHARE_STEPS, byte by byte (8 tiles)
    steps = np.rint(weight[subject] / total * _SHARE_STEPS).astype(np.uint16)
    by_byte = wide.astype("<u8", copy=False).view(np.uint8)  # (terms, bytes)
    weighed = (by_byte != 0) * steps[:, None]
    # a byte's best tile holds at least its heaviest term near, at most all of them: the
    # tiles themselves are summed only where that could beat the file's heaviest term
    best = _max(weighed, axis=0)
    bound = np.maximum.reduceat(best, edges)
    room[-1] += by_byte.shape[1] - int(ends[-1])  # the spare words count as the last file's
    could = (_add(weighed, axis=0, dtype=np.uint16) > bound.repeat(room)).nonzero()[0]
    if len(could):
        tiles = np.unpackbits(by_byte.take(could, axis=1), axis=1, bitorder="little")
        share = _add(tiles * steps[:, None], axis=0, dtype=np.uint16)
        best[could] = np.maximum.reduceat(share, np.arange(0, len(share), 8))
        bound = np.maximum.reduceat(best, edges)
    return bound / _SHARE_STEPS


def candidate_features(
    snap: Snapshot,
    query: Query,
    allowed: npt.NDArray[np.bool_] | None = None,
    as_of: int | None = None,
) -> tuple[Ints, Floats, ChunkScores, _Hits, tuple[str, ...]]:
    """(candidate files, their feature matrix, chunk scores, chunk hits, query terms).

    `as_of` (epoch seconds) limits the history evidence to older commits."""
    term_list = tuple(query.counts)
    qtf = np.array([query.counts[t] for t in term_list], dtype=np.float64)
    n_files, n_chunks = snap.n_files, snap.n_chunks
    keys = [term_hash(t) for t in term_list]
    is_code = np.array([t in query.code for t in term_list], dtype=bool)
    in_subject = np.array([t in query.subject for t in term_list], dtype=bool)

    # ---- every table's postings of the query at once; a table rolled up from another
    # (chunks to files and blocks) shares its keys: looked up once for both
    body_at = snap.chunk_body.locate(keys)
    pair_keys = list(query.pair_keys)
    pair_at = snap.chunk_pairs.locate(pair_keys)
    name_keys = [name_hash(t) for t in term_list]
    names_at = snap.chunk_names.locate(name_keys + [defined_hash(i) for i in query.identifiers])
    name_at, defined_at = names_at[: len(name_keys)], names_at[len(name_keys) :]
    lookup = bool(query.identifiers and query.lookup)
    blocks = snap.blocks
    n_blocks = len(blocks.length)
    ch, fh, bh, ph, cph, nh, dh, path_h, *lk = _gather_all(
        [
            (snap.chunk_body, body_at, n_chunks),
            (snap.file_body, body_at, n_files),
            (blocks.body, body_at, n_blocks),
            (snap.file_pairs, pair_at, n_files),
            (snap.chunk_pairs, pair_at, n_chunks),
            (snap.file_names, name_at, n_files),
            (snap.file_names, defined_at, n_files),
            (snap.file_path, snap.file_path.locate(keys), n_files),
            *(
                [(snap.chunk_names, defined_at, n_chunks), (snap.chunk_names, name_at, n_chunks)]
                if lookup
                else []
            ),
        ]
    )

    # ---- chunks: sums over the chunks holding a query term only
    hit, where, seen = _distinct(ch.docs, n_chunks)
    at = where[ch.docs]
    n_hit = len(hit)
    chunk_idf = ch.idf
    chunk_post = _bm25(ch, qtf * chunk_idf, _length_norm(snap, "chunk", 0.75))
    chunk_scores = _sum(at, chunk_post, n_hit)
    chunk_best = np.zeros(n_files)  # scores are not negative: the maximum of 0 and theirs
    np.maximum.at(chunk_best, snap.chunk_file[hit], chunk_scores)

    # ---- files
    file_idf = fh.idf
    w_file = qtf * file_idf
    # b 0.75 and 0.3: one numerator
    tf_weight = _tf_weight(fh, w_file)
    post = tf_weight / (fh.counts + _length_norm(snap, "file", 0.75)[fh.docs])
    file_bm25 = _sum(fh.docs, post, n_files)
    flat = tf_weight / (fh.counts + _length_norm(snap, "file", 0.3)[fh.docs])
    file_flat = _sum(fh.docs, flat, n_files)
    # a query of one sentence has no body; one in plain words, no words written as code
    # (the sums they skip would be file_bm25 itself, or zeros: the same floats)
    if _all(in_subject):
        subject, body = file_bm25, np.zeros(n_files)
    else:
        subject = _sum(fh.docs, post * in_subject[fh.term], n_files)
        body = _sum(fh.docs, post * ~in_subject[fh.term], n_files)
    if _any(is_code):
        code_words = _sum(fh.docs, post * is_code[fh.term], n_files)
    else:
        code_words = np.zeros(n_files)
    file_cover_w = file_idf / max(float(_add(file_idf)), 1e-9)
    coverage = _sum(fh.docs, file_cover_w[fh.term], n_files)
    rare_mask = (file_idf > 0) & (file_idf >= 0.7 * float(_max(file_idf, initial=0.0)))
    rare_w = rare_mask / max(int(_add(rare_mask)), 1)
    rare = _sum(fh.docs, rare_w[fh.term], n_files)

    phrases = _sum(ph.docs, None, n_files) / max(len(query.pair_keys), 1)

    # A file defining hundreds of things (a flags table) names most common words: its names
    # field is length-normalised by its definitions (LORO 0.8145 -> 0.818, b 0.25-1 alike)
    names = _sum(nh.docs, _bm25(nh, qtf * nh.idf, _length_norm(snap, "names", NAMES_B)), n_files)
    defines = _sum(dh.docs, 1.0 / np.maximum(dh.df, 1.0)[dh.term], n_files)

    path = _saturated(path_h, qtf * path_h.idf, n_files)
    stem_named = np.zeros(n_files)
    for word in query.words:
        found = snap.stems.get(word)
        if found is not None and len(word) > 2:
            stem_named[found] = 1.0

    similar, changes = _history(snap, keys, qtf, as_of)

    # ---- candidates: the best by each of the main signals
    evidence = (file_bm25 > 0) | (path > 0) | (defines > 0) | (similar > 0)
    if allowed is not None:
        evidence &= allowed
    pool = evidence.nonzero()[0]
    chosen = np.zeros(n_files, dtype=bool)
    for signal in (file_bm25, chunk_best, path, defines, similar):
        values = signal[pool]
        positive = values > 0
        if len(pool) > CANDIDATES and np.count_nonzero(positive) > CANDIDATES:
            top = (-values).argpartition(CANDIDATES)[:CANDIDATES]
            chosen[pool[top[values[top] > 0]]] = True
        else:  # the best CANDIDATES hold every positive one
            chosen[pool[positive]] = True
    cand = chosen.nonzero()[0]

    # ---- the candidates' best chunks and blocks: reduced over their own chunks only
    # each candidate's first file and the next: its chunks, its blocks
    bounds = (cand[:, None] + np.arange(2)).ravel()
    own = _Ranges.of(hit.searchsorted(snap.file_chunks[bounds]))
    cover_w = chunk_idf / max(float(_add(chunk_idf)), 1e-9)
    # sums over one more than the hit chunks: a range may end at the last (_Ranges.reduce)
    chunk_cov_best = own.reduce(np.maximum, _sum(at, cover_w[ch.term], n_hit + 1))
    if _any(is_code):
        chunk_code = _sum(at, chunk_post * is_code[ch.term], n_hit + 1)
        chunk_code_best = own.reduce(np.maximum, chunk_code)
    else:
        chunk_code_best = np.zeros(len(cand))
    # blocks: neighbouring chunks together
    block_post = _bm25(bh, qtf * bh.idf, _length_norm(snap, "block", 0.75))
    per_block = _sum(bh.docs, block_post, n_blocks + 1)
    block_best = _Ranges.of(blocks.file_blocks[bounds]).reduce(np.maximum, per_block)

    cls = snap.file_class[cand]
    prose = cls == FileClass.PROSE
    config = cls == FileClass.CONFIG
    if query.wants_docs:
        prose = np.zeros(len(cand), dtype=bool)
        config = prose
    if query.wants_changelog:
        changelog = np.zeros(len(cand), dtype=bool)
    else:
        changelog = _changelogs(snap)[cand]

    columns = {
        "file_bm25": file_bm25[cand],
        "file_bm25_flat": file_flat[cand],
        "chunk_best": chunk_best[cand],
        "path": path[cand],
        "names": names[cand],
        "coverage": coverage[cand],
        "rare_coverage": rare[cand],
        "stem_named": stem_named[cand],
        "code": cls == FileClass.CODE,
        "test": cls == FileClass.TEST,
        "aux": cls == FileClass.AUX,
        "prose": prose,
        "config": config,
        "log_lines": np.log1p(snap.file_lines[cand]) / 8.0,
        "log_definitions": np.log1p(snap.file_defs[cand]) / 5.0,
        "subject_bm25": subject[cand],
        "body_bm25": body[cand],
        "code_words_bm25": code_words[cand],
        "code_words_chunk": chunk_code_best,
        "defines_named": np.log1p(defines[cand]),
        "phrases": phrases[cand],
        "chunk_coverage": chunk_cov_best,
        "test_asked": (cls == FileClass.TEST) & query.wants_tests,
        "block_best": block_best,
        "history_similar": similar[cand],
        "history_changes": np.log1p(changes[cand]) / 5.0,
        "changelog": changelog,
        # a changelog's lines restate requests word for word: how close its words sit says
        # nothing of the code they describe
        "subject_window": np.where(
            changelog,
            0.0,
            subject_window(snap, body_at, ch, np.where(in_subject, file_idf, 0.0), cand),
        ),
    }
    x = np.empty((len(cand), len(FEATURES)))
    for j, name in enumerate(FEATURES):
        x[:, j] = columns[name]
    # the "rel" columns over their maximum among the candidates (when above 0), all at once
    relative = x[:, _RELATIVE]
    top = _max(relative, axis=0, initial=0.0)
    x[:, _RELATIVE] = relative / np.where(top > 0, top, 1.0)
    named = _NameEvidence(lk[0], lk[1], cover_w) if lk else None
    choice = _chunk_choice(query, (hit, where, seen), chunk_scores, cph, named)
    return cand, x, choice, ch, term_list


def _changelogs(snap: Snapshot) -> npt.NDArray[np.bool_]:
    """Per file: whether it is a changelog (prose, its path a changelog's); found on a
    snapshot's first search, not on each."""
    key = ("changelogs",)
    found = snap.derived.get(key)
    if found is None:
        found = snap.file_class == FileClass.PROSE
        at = found.nonzero()[0]  # the path checked for the prose files alone
        found[at] = [_is_changelog(snap.paths[f]) for f in at.tolist()]
        snap.derived[key] = found
    return found


@lru_cache(maxsize=65536)
def _is_changelog(path: str) -> bool:
    return _CHANGELOG_PATH.search(path) is not None


class _NameEvidence(NamedTuple):
    """What a lookup knows of the chunks' names (`_chunk_choice`)."""

    defined: _Hits  # chunk postings of the identifiers the query names
    names: _Hits  # chunk postings of the query's terms as name terms
    share: Floats  # each query term's share of the query's IDF


def _chunk_choice(
    query: Query,
    hits: tuple[Ints, npt.NDArray[np.intp], npt.NDArray[np.bool_]],
    bm25: Floats,
    pairs: _Hits,
    lookup: _NameEvidence | None,
) -> ChunkScores:
    """A chunk's own score, for choosing what to show of a file: BM25 (`bm25`, of the chunks
    `hit`, as `_distinct` gives them) scaled up by the share of the query's phrases (adjacent
    term pairs, their chunk postings `pairs`) it holds.

    In a lookup (`lookup`: what it knows of the chunks' names) a chunk gains the top score x
    how much of the query its definitions' names hold: 1 for defining an identifier the query
    names, else the IDF share of the query's terms among its name terms (its symbol's and
    scope's words). So a name holding every query term gains as much as the definition of an
    identifier two adjacent query words spell: "sets help template" spells HelpTemplate, and
    SetHelpTemplate's name holds all three; their own words then decide (a flat boost for
    named identifiers alone showed HelpTemplate)."""
    hit, where, seen = hits
    # a chunk holding a pair holds its terms: one outside `hit` has BM25 0 and stays 0
    inside = seen[pairs.docs]
    phrase = _sum(where[pairs.docs[inside]], None, len(hit)) / max(len(query.pair_keys), 1)
    score = bm25 * (1.0 + CHOICE_PHRASES * phrase)
    if lookup is None:
        return ChunkScores(hit, score)
    defined, names, share = lookup
    # a chunk holding a name term holds the term: one outside `hit` has no body score either
    inside = seen[names.docs]
    named = _sum(where[names.docs[inside]], share[names.term[inside]], len(hit))
    inside = seen[defined.docs]
    named[where[defined.docs[inside]]] = 1.0
    boost = float(_max(score, initial=0.0)) + 1.0
    score += boost * named
    if len(defined.docs):
        # definitions that hold no query term (score 0) join the chunks held
        extra = _ascending_distinct(defined.docs[~inside])
        slots = hit.searchsorted(extra)
        return ChunkScores(np.insert(hit, slots, extra), np.insert(score, slots, boost))
    return ChunkScores(hit, score)


def _ascending_distinct(values: Ints) -> Ints:
    """`np.unique(values)`, which a search must not call: its first call imports numpy.ma,
    40 ms in the first lookup query of a server."""
    out = np.sort(values)
    keep = np.ones(len(out), dtype=bool)
    np.not_equal(out[1:], out[:-1], out=keep[1:])
    return out[keep]


#: Kinds of query that weigh the features their own way (`query_kinds`).
QUERY_KINDS: tuple[str, ...] = ("writes_code", "names_file")


def query_kinds(query: Query, x: Floats) -> npt.NDArray[np.bool_]:
    """Per QUERY_KINDS: whether the query is of that kind, given its candidates' features.

    A query that writes code (`parseBody`, snake_case, `x.y()`) says what it is about in
    identifiers; one that names a file by its stem ("the cookie helper") points at a place.
    In both, the evidence weighs differently than in a request in plain words ("Add USD to
    the default file types"): definitions and file names count for more, bag-of-words
    coverage for less."""
    stem = FEATURES.index("stem_named")
    return np.array([bool(query.code), bool(len(x) and x[:, stem].any())], dtype=bool)


@dataclass(frozen=True, slots=True)
class RankerWeights:
    """The shipped model: weights per feature (in FEATURES order) for every query, and per
    query kind (QUERY_KINDS) the weights added for queries of that kind. One vector for all
    queries ranked 0.017 commit MRR@10 lower leave-one-repository-out (scripts/train_ranker.py)."""

    base: Floats
    kinds: tuple[Floats, ...]  # in QUERY_KINDS order

    def for_kinds(self, kinds: npt.NDArray[np.bool_]) -> Floats:
        w = self.base.copy()
        for extra, on in zip(self.kinds, kinds.tolist(), strict=True):
            if on:
                w += extra
        return w


@cache
def load_weights() -> RankerWeights:
    data = json.loads(
        resources.files("ocp_server.index").joinpath("ranker_weights.json").read_text("utf-8")
    )
    base = np.asarray(data["weights"], dtype=np.float64)
    by_kind = data.get("query_kinds", {})
    kinds = tuple(
        np.asarray(by_kind.get(k, np.zeros(len(base))), dtype=np.float64) for k in QUERY_KINDS
    )
    if tuple(data["features"]) != FEATURES or any(len(k) != len(base) for k in kinds):
        raise RuntimeError(
            "ranker_weights.json was trained for other features: run "
            "`uv run python scripts/train_ranker.py`"
        )
    return RankerWeights(base, kinds)


def rank(
    snap: Snapshot,
    query: Query,
    allowed: npt.NDArray[np.bool_] | None = None,
    weights: Floats | None = None,
) -> Ranked:
    cand, x, chunk_scores, ch, term_list = candidate_features(snap, query, allowed)
    w = load_weights().for_kinds(query_kinds(query, x)) if weights is None else weights
    scores = x @ w if len(cand) else np.zeros(0)
    if query.lookup and len(cand):
        # A lookup ("verifyToken", "where is parse_config defined") wants the definition
        # first; in longer requests a named identifier is one clue among others, and the
        # learned weight of `defines_named` already counts it.
        defines = x[:, FEATURES.index("defines_named")] > 0
        scores = scores + defines * (float(np.ptp(scores)) + 1.0)
    order = (-scores).argsort(kind="stable")
    return Ranked(cand[order], scores[order], chunk_scores, ch, term_list)
