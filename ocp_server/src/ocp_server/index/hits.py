"""A query's postings in the index's tables, and the BM25 sums over them.

Every feature of the ranking (`features.py`) is a sum over the postings of the query's terms in
one table (chunks, files, blocks, paths, names, pairs, past commits): `gather_all` fetches them
for several tables at once as `Hits`, and the functions here weigh and sum them per document,
over the documents a query hits only, never over every document of a large repository.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from ocp_server.index.arrays import Floats, Ints
from ocp_server.index.lexical import Snapshot
from ocp_server.index.postings import Postings, records_counts, records_docs

__all__ = [
    "Hits",
    "K1",
    "Ranges",
    "bm25_idf",
    "bm25_numerators",
    "bm25_postings",
    "distinct_docs",
    "doc_sums",
    "gather",
    "gather_all",
    "length_norm",
    "reduce_add",
    "reduce_all",
    "reduce_any",
    "reduce_max",
    "saturated_weights",
]


K1 = 1.2


# What every search makes (the query, ten Hits, the chunk scores, the ranking) are
# NamedTuples: a frozen dataclass's __init__ sets each field through object.__setattr__,
# several times the cost.
class Hits(NamedTuple):
    """The postings of the query's terms in one postings table, flattened."""

    docs: npt.NDArray[np.intp]  # indexes: numpy casts int32 indexes on every use
    counts: Floats
    term: npt.NDArray[np.int64]  # which query term (index into the query's term list)
    df: Floats  # per query term: documents holding it (0: none)
    idf: Floats  # per query term: its IDF among the table's documents


def gather(post: Postings, keys: list[int], n: int) -> Hits:
    """The postings of `keys` in `post`, a table of `n` documents."""
    return gather_all([(post, post.locate(keys), n)])[0]


def gather_all(wanted: list[tuple[Postings, list[int], int]]) -> list[Hits]:
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
    all_idf = bm25_idf(all_df, n_docs)
    out = []
    post_lo = key_lo = 0
    for post_hi, key_hi in bounds:
        out.append(
            Hits(
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
reduce_any = np.logical_or.reduce
reduce_all = np.logical_and.reduce
reduce_add = np.add.reduce
reduce_max = np.maximum.reduce


def distinct_docs(
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


def bm25_idf(df: Floats, n: int | Floats) -> Floats:
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


#: The documents' lengths (over their mean) per table, as `length_norm` names them.
_LENGTHS: dict[str, Callable[[Snapshot], npt.NDArray[np.float32]]] = {
    "chunk": lambda snap: snap.chunk_len,
    "file": lambda snap: snap.file_len,
    "block": lambda snap: snap.blocks.length,
    "history": lambda snap: snap.history.length,
    "names": _definitions_length,
}


def length_norm(snap: Snapshot, table: str, b: float) -> npt.NDArray[np.float32]:
    """Per document of `table` (`_LENGTHS`): BM25's K1 x (1 - b + b x length over the mean);
    computed on a snapshot's first search, not on each."""
    key = ("length_norm", table, b)
    norm = snap.derived.get(key)
    if norm is None:
        norm = snap.derived[key] = K1 * (1.0 - b + b * _LENGTHS[table](snap))
    return norm


def bm25_numerators(hits: Hits, term_weight: Floats) -> Floats:
    """Per posting: the term's weight (query count x IDF, or 0 to leave it out) x its count
    x (K1 + 1), BM25's numerator."""
    return term_weight[hits.term] * hits.counts * (K1 + 1.0)


def bm25_postings(hits: Hits, term_weight: Floats, norm: npt.NDArray[np.float32]) -> Floats:
    """Per posting: the term's weight x BM25's saturated, length-normalised term frequency
    (`norm`: per document, `length_norm`)."""
    return bm25_numerators(hits, term_weight) / (hits.counts + norm[hits.docs])


def doc_sums(
    docs: npt.NDArray[np.intp] | npt.NDArray[np.int32], weights: Floats | None, n: int
) -> Floats:
    """Per document 0..n-1: the sum of `weights` over its postings (their count without)."""
    return np.bincount(docs, weights=weights, minlength=n).astype(np.float64, copy=False)


def saturated_weights(hits: Hits, term_weight: Floats) -> Floats:
    """Per posting: weight x tf / (tf + K1) (no length normalisation: paths)."""
    tf = hits.counts
    return term_weight[hits.term] * tf * (K1 + 1.0) / (tf + K1)


class Ranges(NamedTuple):
    """Ascending ranges [lo, hi) of an array that do not overlap, each reduced to one value
    by one reduceat over the ranges asked for, not over every file's (the files that answer
    a query on a large repository are a few hundred of its thousands)."""

    edges: Ints  # lo0, hi0, lo1, hi1, ...
    filled: npt.NDArray[np.bool_]  # hi > lo

    @classmethod
    def of(cls, edges: Ints) -> Ranges:
        return cls(edges, edges[1::2] > edges[0::2])

    def reduce(self, how: np.ufunc, values: Floats) -> Floats:
        """Per range: `how` over its values, 0 for an empty one. `values` must reach past the
        last range's end (reduceat's edges fall inside the array)."""
        if not len(self.filled):
            return np.zeros(0)
        return np.where(self.filled, how.reduceat(values, self.edges)[0::2], 0.0)
