"""The shortcuts the ranking takes for speed answer exactly as the plain computation does:
partner groups read once per group, chunk sums reduced over the candidates' own ranges, the
best chunks of many files found at once, tables sharing keys gathered together, and hit
chunks found without a search."""

from __future__ import annotations

import numpy as np
import pytest

from ocp_server.index.lexical import Snapshot, build_snapshot, partner_key
from ocp_server.index.lexicon import body_blob, defined_hash, names_blob, term_hash
from ocp_server.index.ranking import (
    CHOICE_PHRASES,
    K1,
    ChunkScores,
    Floats,
    Ints,
    _Distinct,
    _gather,
    _gather_each,
    _Located,
    _partner,
    _Ranges,
    candidate_features,
    parse_query,
)

PATHS = [f"pkg{i}/__init__.py" for i in range(30)] + ["a.py", "tests/test_a.py", "b.py"]


def _best_other(paths: list[str], bm25: list[float], file: int) -> float:
    key = partner_key(paths[file])
    others = [bm25[f] for f, p in enumerate(paths) if f != file and partner_key(p) == key]
    return max(others, default=0.0)


@pytest.mark.parametrize(
    "cand",
    [
        [0, 1, 2, 30],  # a few of a large group: the group is read once
        list(range(len(PATHS))),  # every file
        [30, 31, 32],  # small groups: read per candidate
    ],
)
@pytest.mark.parametrize("tie", [True, False])
def test_a_partner_is_the_best_other_file_of_its_group(cand: list[int], tie: bool) -> None:
    snap = build_snapshot("g", [(i + 1, p, "python") for i, p in enumerate(PATHS)], [])
    rng = np.random.default_rng(3)
    bm25 = rng.random(len(PATHS)).round(2)
    bm25[5] = 2.0  # the best __init__.py, alone or tied with another
    bm25[7] = 2.0 if tie else 1.5
    bm25[32] = 0.0
    got = _partner(snap, bm25, np.asarray(cand, dtype=np.int64)).tolist()
    assert got == [_best_other(PATHS, bm25.tolist(), c) for c in cand]


def test_ranges_reduce_each_range_and_give_zero_for_an_empty_one() -> None:
    values = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 0.0])  # the last: past every range
    edges = np.array([0, 2, 2, 2, 3, 7], dtype=np.int64)  # [0, 2), [2, 2), [3, 7)
    ranges = _Ranges.of(edges)
    assert ranges.reduce(np.maximum, values).tolist() == [3.0, 0.0, 9.0]
    assert ranges.reduce(np.add, values).tolist() == [4.0, 0.0, 17.0]


def test_the_best_chunks_of_many_files_are_each_files_own_best() -> None:
    rng = np.random.default_rng(5)
    chunks = np.sort(rng.choice(200, size=80, replace=False)).astype(np.int64)
    values = rng.integers(0, 4, size=80).astype(np.float64)  # ties and zeros
    scores = ChunkScores(chunks, values)
    bounds = np.sort(rng.choice(np.arange(1, 200), size=39, replace=False))
    lo = np.concatenate(([0], bounds)).astype(np.int64)
    hi = np.concatenate((bounds, [200])).astype(np.int64)
    order = rng.permutation(len(lo))  # files in rank order, not by position
    lo, hi = lo[order], hi[order]
    got = scores.best_of_files(lo, hi).tolist()
    assert got == [scores.best_of_file(int(a), int(b)) for a, b in zip(lo, hi, strict=True)]


WORDS = "parse token config read write stream buffer error flag value path cache".split()


def _random_snapshot(seed: int) -> Snapshot:
    """Files of chunks of random words, some defining a function named after two of them."""
    rng = np.random.default_rng(seed)
    files = [(i + 1, f"src/m{i}.py", "python") for i in range(12)]
    chunks = []
    cid = 0
    for file_id, _, _ in files:
        line = 1
        for _ in range(int(rng.integers(1, 9))):
            cid += 1
            text = " ".join(rng.choice(WORDS, size=int(rng.integers(3, 40))).tolist())
            body, pair_blob, length = body_blob(text)
            symbol = "_".join(rng.choice(WORDS, size=2).tolist()) if rng.random() < 0.5 else None
            kind = "function" if symbol else "block"
            names = names_blob(symbol, None, symbol is not None)
            end = line + int(rng.integers(5, 60))
            chunks.append((cid, file_id, end, kind, body, pair_blob, names, length, line))
            line = end + 1
    return build_snapshot("g", files, chunks)


QUERIES = [
    "parse the token config",
    "read_stream",  # a lookup naming a definition
    "write buffer error flag value path",
    "cache",
    "nothing matches here",
]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("text", QUERIES)
def test_gathering_several_tables_at_once_equals_gathering_each(seed: int, text: str) -> None:
    snap = _random_snapshot(seed)
    keys = [term_hash(t) for t in parse_query(text).counts]
    tables = [snap.chunk_body, snap.file_body, *(tiling.body for tiling in snap.blocks)]
    located = _Located(snap.chunk_body.keys, snap.chunk_body.locate(keys))
    for got, table in zip(_gather_each(tables, keys, located), tables, strict=True):
        want = _gather(table, keys)
        for field in ("docs", "counts", "term", "df"):
            a, b = getattr(got, field), getattr(want, field)
            assert a.dtype == b.dtype and a.tolist() == b.tolist(), field


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_finding_hit_documents_equals_searching_the_sorted_hits(seed: int) -> None:
    rng = np.random.default_rng(seed)
    docs = rng.integers(0, 300, size=200).astype(np.intp)
    distinct = _Distinct.of(docs, 300)
    assert distinct.hit.tolist() == sorted(set(docs.tolist()))
    others = rng.integers(0, 300, size=150).astype(np.intp)
    inside, at = distinct.find(others)
    # the plain computation: where each would go in the sorted hits, and whether it is there
    pos = np.searchsorted(distinct.hit, others)
    held = pos < len(distinct.hit)
    held[held] = distinct.hit[pos[held]] == others[held]
    assert inside.tolist() == held.tolist()
    assert at.tolist() == pos[held].tolist()


def _plain_chunk_choice(snap: Snapshot, text: str, hit: Ints, bm25: Floats) -> ChunkScores:
    """The chunk choice as first written: each table looked up alone, hits found by search."""
    query = parse_query(text)
    pairs = _gather(snap.chunk_pairs, list(query.pair_keys))
    at = np.searchsorted(hit, pairs.docs)
    inside = at < len(hit)
    inside[inside] = hit[at[inside]] == pairs.docs[inside]
    phrase = np.bincount(at[inside], minlength=len(hit)).astype(np.float64)
    score = bm25 * (1.0 + CHOICE_PHRASES * (phrase / max(len(query.pair_keys), 1)))
    if query.identifiers and query.lookup:
        dc = _gather(snap.chunk_names, [defined_hash(i) for i in query.identifiers])
        if len(dc.docs):
            boost = float(score.max(initial=0.0)) + 1.0
            at = np.searchsorted(hit, dc.docs)
            inside = at < len(hit)
            inside[inside] = hit[at[inside]] == dc.docs[inside]
            score[at[inside]] += boost
            extra = np.unique(dc.docs[~inside])
            where = np.searchsorted(hit, extra)
            return ChunkScores(np.insert(hit, where, extra), np.insert(score, where, boost))
    return ChunkScores(hit, score)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("text", QUERIES)
def test_ranking_chooses_chunks_as_the_plain_computation(seed: int, text: str) -> None:
    snap = _random_snapshot(seed)
    query = parse_query(text)
    *_, got, hits, _ = candidate_features(snap, query)
    hit = np.unique(hits.docs).astype(np.int64)
    # the chunks' BM25 as the ranking sums it, then chosen the plain way
    keys = [term_hash(t) for t in query.counts]
    ch = _gather(snap.chunk_body, keys)
    where = np.searchsorted(hit, ch.docs)
    idf = np.where(ch.df > 0, np.log1p((snap.n_chunks - ch.df + 0.5) / (ch.df + 0.5)), 0.0)
    qtf = np.array([query.counts[t] for t in query.counts], dtype=np.float64)
    tf = ch.counts
    norm = K1 * (1.0 - 0.75 + 0.75 * snap.chunk_len[ch.docs])
    post = (qtf * idf)[ch.term] * tf * (K1 + 1.0) / (tf + norm)
    bm25 = np.bincount(where, weights=post, minlength=len(hit) + 1)[: len(hit)]
    want = _plain_chunk_choice(snap, text, hit, bm25)
    assert got.chunks.tolist() == want.chunks.tolist()
    assert [v.hex() for v in got.values.tolist()] == [v.hex() for v in want.values.tolist()]
