"""Do windows of lines, inside long chunks or over whole files, help rank? (Measured: no; not
shipped.)

    uv run python scripts/window_features.py                 # every variant, LORO table
    uv run python scripts/window_features.py base "tile windows 10"   # some of them

BM25 over 50-line windows beats OCP on some of ripgrep's commit queries whose rare words sit in
a long data table (`default_types.rs`'s 120-line chunks): BM25's length normalisation weighs a
long chunk down. Each variant adds columns to `train_ranker.py`'s 28 features (or replaces one),
per candidate file, and the table is commits MRR@10 per held-out corpus (leave-one-repository-
out, the rows kept as `train_ranker.py features` keeps them, both regimes, doc comments too):

- text windows N: BM25 (k1 1.2, b 0.75) of the file's best window of N lines, half a window
  apart, over every indexed file's text on disk (the lexicon's terms, line by line), rel;
- tile windows T: the best chunk's BM25 where a chunk longer than T tiles
  (`lexicon.TILE_LINES` lines each) also counts as its best window of T tiles, half a window
  apart, a term's count spread evenly over the tiles holding it (the tile masks the index
  already stores), the window's length its share of the chunk's, rel;
- code IDF: file and best-chunk BM25 with IDF counted over code and test files only (the
  baseline indexes source files alone), rel;
- table b B: the best chunk's BM25 with b = B for `constant` chunks (data tables), in place
  of chunk_best;
- ranks / z: 1 / (1 + rank) among the query's candidates, or the z-score, of eight main
  features (file, chunk, block BM25, subject_window, names, coverage, path, code words).
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from ranker_corpora import (
    BENCH,
    corpus_history,
    corpus_parser,
    corpus_root,
    indexed_with_history,
    manifest_corpora,
)
from train_ranker import NEGATIVES, SETS, fit, mrr_at_10

from ocp_server.index.arrays import Floats, Ints
from ocp_server.index.features import FEATURES, candidate_features
from ocp_server.index.file_kinds import FileClass
from ocp_server.index.hits import K1, Hits, bm25_idf, bm25_postings, gather, length_norm
from ocp_server.index.lexical import Snapshot
from ocp_server.index.lexicon import TILE_LINES, term_hash, terms
from ocp_server.index.query import Query, parse_query
from ocp_server.index.ranking import query_kinds


@dataclass
class Corpus:
    snap: Snapshot
    root: Path
    chunk_lines: Ints  # per chunk: first and last line
    chunk_kind: npt.NDArray[np.str_]
    windows: dict[int, Windows] = field(default_factory=dict)


class Windows:
    """Every indexed file's text in windows of `size` lines, `size // 2` apart: postings."""

    def __init__(self, root: Path, paths: tuple[str, ...], size: int) -> None:
        post: dict[str, list[tuple[int, int]]] = defaultdict(list)
        files: list[int] = []
        lengths: list[int] = []
        for f, p in enumerate(paths):
            try:
                text = (root / p).read_text("utf-8", errors="replace")
            except OSError:
                text = ""
            lines = [terms(line) for line in text.split("\n")]
            for s in range(0, max(len(lines) - size // 2, 1), size // 2):
                counts: dict[str, int] = defaultdict(int)
                for line in lines[s : s + size]:
                    for t in line:
                        counts[t] += 1
                for t, k in counts.items():
                    post[t].append((len(files), k))
                files.append(f)
                lengths.append(sum(len(line) for line in lines[s : s + size]))
        self.file = np.array(files)
        self.norm = K1 * (0.25 + 0.75 * np.array(lengths) / max(float(np.mean(lengths)), 1.0))
        self.post = {
            t: (np.array([w for w, _ in v]), np.array([k for _, k in v])) for t, v in post.items()
        }

    def best(self, query: Query, n_files: int) -> Floats:
        score = np.zeros(len(self.file))
        for t, q in query.counts.items():
            if t in self.post:
                w, k = self.post[t]
                idf = math.log1p((len(self.file) - len(w) + 0.5) / (len(w) + 0.5))
                score[w] += q * idf * k * (K1 + 1) / (k + self.norm[w])
        out = np.zeros(n_files)
        np.maximum.at(out, self.file, score)
        return out


def _query_hits(snap: Snapshot, query: Query, table: str) -> tuple[list[int], Floats, Hits]:
    term_list = tuple(query.counts)
    keys = [term_hash(t) for t in term_list]
    post = snap.chunk_body if table == "chunk" else snap.file_body
    n = snap.n_chunks if table == "chunk" else snap.n_files
    return (
        keys,
        np.array([query.counts[t] for t in term_list], dtype=np.float64),
        gather(post, keys, n),
    )


def tile_windows(c: Corpus, query: Query, tiles: int) -> Floats:
    """Per file: `tile windows` (module docstring)."""
    snap = c.snap
    keys, qtf, ch = _query_hits(snap, query, "chunk")
    weight = qtf * ch.idf
    docs, counts, term = ch.docs, ch.counts, ch.term
    normal = bm25_postings(ch, weight, length_norm(snap, "chunk", 0.75))
    score = np.bincount(docs, weights=normal, minlength=snap.n_chunks)
    first, last = c.chunk_lines[:, 0], c.chunk_lines[:, 1]
    span = (last - 1) // TILE_LINES - (first - 1) // TILE_LINES + 1
    long = np.flatnonzero(span[docs] > tiles)
    if len(long):
        at = np.maximum(np.array(snap.chunk_body.locate(keys)), 0)
        sizes = ch.df.astype(np.intp)
        begin = snap.chunk_body.starts[at] - (sizes.cumsum() - sizes)
        masks = snap.chunk_tiles[long + begin[term[long]]].astype(np.uint64)
        chunk = docs[long]
        held = np.maximum(np.bitwise_count(masks), 1)
        length = snap.chunk_len[chunk] * tiles / span[chunk]
        best = np.zeros(snap.n_chunks)
        for s in range(0, 64, max(tiles // 2, 1)):
            window = np.uint64((((1 << tiles) - 1) << s) & ((1 << 64) - 1))
            tf = counts[long] * np.bitwise_count(masks & window) / held
            post = weight[term[long]] * tf * (K1 + 1) / (tf + K1 * (0.25 + 0.75 * length))
            post = np.where((s == 0) | (s < span[chunk] - tiles // 2), post, 0.0)
            best = np.maximum(best, np.bincount(chunk, weights=post, minlength=snap.n_chunks))
        score = np.maximum(score, best)
    out = np.zeros(snap.n_files)
    np.maximum.at(out, snap.chunk_file, score)
    return out


def code_idf(c: Corpus, query: Query) -> tuple[Floats, Floats]:
    """Per file: (`code IDF` file BM25, best chunk's)."""
    snap = c.snap
    coded = np.isin(snap.file_class, (FileClass.CODE, FileClass.TEST))
    out = []
    for table, owner, norm in (
        ("file", np.arange(snap.n_files), length_norm(snap, "file", 0.75)),
        ("chunk", snap.chunk_file, length_norm(snap, "chunk", 0.75)),
    ):
        keys, qtf, h = _query_hits(snap, query, table)
        code_docs = coded[owner]
        df = np.bincount(h.term, weights=code_docs[h.docs], minlength=len(keys))
        idf = bm25_idf(df.astype(np.float64), int(code_docs.sum()))
        post = bm25_postings(h, qtf * idf, norm)
        per_doc = np.bincount(h.docs, weights=post, minlength=len(owner))
        best = np.zeros(snap.n_files)
        np.maximum.at(best, owner, per_doc)
        out.append(best)
    return out[0], out[1]


def table_b(c: Corpus, query: Query, b: float) -> Floats:
    """Per file: the best chunk's BM25, `constant` chunks at b = `b`."""
    snap = c.snap
    _, qtf, hits = _query_hits(snap, query, "chunk")
    norm = np.where(
        c.chunk_kind == "constant",
        K1 * (1 - b + b * snap.chunk_len),
        length_norm(snap, "chunk", 0.75),
    )
    post = bm25_postings(hits, qtf * hits.idf, norm.astype(np.float32))
    per_chunk = np.bincount(hits.docs, weights=post, minlength=snap.n_chunks)
    out = np.zeros(snap.n_files)
    np.maximum.at(out, snap.chunk_file, per_chunk)
    return out


def _rel(v: Floats) -> Floats:
    top = float(v.max()) if len(v) else 0.0
    return v / top if top > 0 else v


def _ranks(v: Floats) -> Floats:
    order = np.argsort(-v, kind="stable")
    rank = np.empty(len(v))
    rank[order] = np.arange(len(v))
    return np.where(v > 0, 1.0 / (1.0 + rank), 0.0)


def _z(v: Floats) -> Floats:
    sd = float(v.std())
    return (v - v.mean()) / sd if sd > 0 else np.zeros(len(v))


MAIN = (
    "file_bm25", "chunk_best", "block_best", "subject_window",
    "names", "coverage", "path", "code_words_bm25",
)  # fmt: skip
#: A column: (corpus, query, candidates, their 28 features) -> one value per candidate.
Column = Callable[[Corpus, Query, Ints, Floats], Floats]


#: label -> (extra columns, features left out)
def _text(n: int) -> Column:
    def column(c: Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        return _rel(c.windows[n].best(q, c.snap.n_files)[cand])

    return column


def _tiles(t: int) -> Column:
    def column(c: Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        return _rel(tile_windows(c, q, t)[cand])

    return column


def _code_idf(which: int) -> Column:
    def column(c: Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        return _rel(code_idf(c, q)[which][cand])

    return column


def _table(b: float) -> Column:
    def column(c: Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        return _rel(table_b(c, q, b)[cand])

    return column


def _of_feature(name: str, how: Callable[[Floats], Floats]) -> Column:
    j = FEATURES.index(name)

    def column(c: Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        return how(x[:, j])

    return column


#: label -> (extra columns, features left out)
VARIANTS: dict[str, tuple[list[Column], tuple[str, ...]]] = {
    "base": ([], ()),
    **{f"text windows {n}": ([_text(n)], ()) for n in (20, 50, 100)},
    **{f"tile windows {t}": ([_tiles(t)], ()) for t in (7, 10, 17, 34)},
    "tile windows 10, in place of chunk_best": ([_tiles(10)], ("chunk_best",)),
    "code IDF (file, chunk)": ([_code_idf(0), _code_idf(1)], ()),
    **{
        f"table b {b:g}, in place of chunk_best": ([_table(b)], ("chunk_best",)) for b in (0.0, 0.3)
    },
    "ranks of the eight": ([_of_feature(m, _ranks) for m in MAIN], ()),
    "z-scores of the eight": ([_of_feature(m, _z) for m in MAIN], ()),
}


@dataclass
class Rows:
    x: list[Floats] = field(default_factory=list)
    y: list[Floats] = field(default_factory=list)
    query: list[Ints] = field(default_factory=list)
    corpus: list[Ints] = field(default_factory=list)
    commits: list[npt.NDArray[np.bool_]] = field(default_factory=list)  # no history, commits


async def _corpus(
    entry: dict[str, str], root: Path, mirrors: Path
) -> tuple[Corpus, dict[str, int]]:
    commits = corpus_history(entry, mirrors)
    async with indexed_with_history(root, commits) as index:
        snap = await index.snapshot()
        cursor = await index.db.execute(
            "SELECT c.start_line, c.end_line, c.kind FROM chunks c JOIN files f"
            " ON f.id = c.file_id WHERE c.terms IS NOT NULL AND f.skip_reason IS NULL"
            " ORDER BY c.file_id, c.start_line"
        )
        got = list(await cursor.fetchall())
    lines = np.array([r[:2] for r in got], dtype=np.int64).reshape(-1, 2)
    kinds = np.array([str(r[2] or "") for r in got])
    return Corpus(snap, root, lines, kinds), {c.hash: c.time for c in commits}


def collect(variants: list[str], cache: Path, mirrors: Path) -> dict[str, Rows]:
    entries = manifest_corpora()
    out = {v: Rows() for v in variants}
    n = 0
    for ci, entry in enumerate(entries):
        corpus, when = asyncio.run(_corpus(entry, corpus_root(entry, cache), mirrors))
        for size in (20, 50, 100):
            if any(v.startswith(f"text windows {size}") for v in variants):
                corpus.windows[size] = Windows(corpus.root, corpus.snap.paths, size)
        for qset in SETS:
            path = BENCH / "queries" / f"{entry['name']}.{qset}.jsonl"
            for line in path.read_text("utf-8").splitlines():
                q = json.loads(line)
                query = parse_query(q["query"])
                for regime in (0, 1) if when else (0,):
                    as_of = when.get(q.get("commit", ""), max(when.values(), default=0) + 1)
                    cand, x, *_ = candidate_features(
                        corpus.snap, query, as_of=as_of if regime else 0
                    )
                    labels = np.array(
                        [corpus.snap.paths[i] in set(q["relevant_files"]) for i in cand]
                    )
                    first = x[:, FEATURES.index("file_bm25")] + x[:, FEATURES.index("chunk_best")]
                    negatives = np.flatnonzero(~labels)
                    keep = np.concatenate(
                        [
                            np.flatnonzero(labels),
                            negatives[np.argsort(-first[negatives])[:NEGATIVES]],
                        ]
                    )
                    kinds = query_kinds(query, x).astype(np.float64)
                    for v in variants:
                        extra, dropped = VARIANTS[v]
                        base = x.astype(np.float16).astype(np.float64)  # as the stored rows
                        cols = [j for j, f in enumerate(FEATURES) if f not in dropped]
                        parts = [base[:, cols]] + [
                            col(corpus, query, cand, x)[:, None] for col in extra
                        ]
                        design = np.hstack(parts)[keep]
                        design = np.hstack([design] + [design * k for k in kinds])
                        rows = out[v]
                        rows.x.append(design)
                        rows.y.append(labels[keep].astype(np.float64))
                        rows.query.append(np.full(len(keep), n))
                        rows.corpus.append(np.full(len(keep), ci))
                        rows.commits.append(np.full(len(keep), qset == "commits" and regime == 0))
                    n += 1
        print(f"{entry['name']}: done", file=sys.stderr, flush=True)
    return out


def loro_commits(rows: Rows, n_corpora: int) -> list[float]:
    x, y, query = np.vstack(rows.x), np.concatenate(rows.y), np.concatenate(rows.query)
    corpus, commits = np.concatenate(rows.corpus), np.concatenate(rows.commits)
    out = []
    for c in range(n_corpora):
        w = fit(x[corpus != c], y[corpus != c], query[corpus != c])
        held = (corpus == c) & commits
        out.append(mrr_at_10(x[held], y[held], query[held], w))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = corpus_parser(__doc__, VARIANTS)
    args = parser.parse_args(argv)
    variants = args.variants or list(VARIANTS)
    names = [str(e["name"]) for e in manifest_corpora()]
    rows = collect(variants, args.cache, args.mirrors)
    print("| variant | " + " | ".join(names) + " | mean |")
    print("|---" * (len(names) + 2) + "|")
    for v in variants:
        r = loro_commits(rows[v], len(names))
        print(
            f"| {v} | " + " | ".join(f"{m:.3f}" for m in r) + f" | {np.mean(r):.4f} |", flush=True
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
