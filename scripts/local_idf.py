"""Do the request's words weigh by how few of the query's leading files hold them? (Measured:
no column above the base held out; not shipped. docs/search-rounds.md, 2026-12-07, night.)

    uv run python scripts/local_idf.py collect   # index the six corpora, store the rows
    uv run python scripts/local_idf.py report    # LORO table, paired bootstrap
    uv run python scripts/local_idf.py report "local chunk 10"   # against the stored base

`report` with variants and no `base` reads the base's reciprocal ranks from its last run on the
same rows (a variant takes minutes on a loaded machine).

ripgrep's misses are orderings among the first ten, where hub files (`flags/defs.rs`,
`walk.rs`, `hiargs.rs`) hold most of the request's words alike. Every BM25 feature weighs a
word by its IDF over the whole workspace, which says how rare it is, not whether it tells the
files in contention apart: a word every leading candidate holds adds the same to each. Here a
word's weight is its IDF among the query's K leading candidates (the first stage, file plus
best-chunk BM25, as `train_ranker.py` picks negatives), log(1 + (K - df + 0.5) / (df + 0.5)),
times its count in the request:

- local coverage K: per file, the share of the request's words (each by its global IDF times
  its local one) the file holds;
- local file BM25 K / local chunk K: file BM25, the best chunk's BM25, with the local IDF in
  place of the global one (k1 1.2, b 0.75), over their maximum among the candidates;
- local only K: the share (global IDF) of the request's words the file holds that at most
  K / 5 leaders hold.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import prior_checks as pc
import window_features as wf
from paired_bootstrap import gain_over_base
from ranker_corpora import CORPUS_CACHE, MIRRORS
from train_ranker import L2

from ocp_server.index.arrays import Floats, Ints
from ocp_server.index.features import FEATURES
from ocp_server.index.hits import bm25_postings, doc_sums, gather, length_norm
from ocp_server.index.lexicon import term_hash
from ocp_server.index.query import Query

SIZES = (5, 10, 20)
_FILE, _CHUNK = FEATURES.index("file_bm25"), FEATURES.index("chunk_best")


def _held(c: wf.Corpus, q: Query, cand: Ints) -> tuple[np.ndarray, Floats, Floats]:
    """Per candidate and request term: the file holds it; per term: its weight in the request
    (count) and its global IDF among files."""
    snap = c.snap
    term_list = tuple(q.counts)
    qtf = np.array([q.counts[t] for t in term_list], dtype=np.float64)
    h = gather(snap.file_body, [term_hash(t) for t in term_list], snap.n_files)
    at = np.full(snap.n_files, -1)
    at[cand] = np.arange(len(cand))
    held = np.zeros((len(cand), len(term_list)), dtype=bool)
    row = at[h.docs]
    held[row[row >= 0], h.term[row >= 0]] = True
    return held, qtf, h.idf


def _leaders(x: Floats, k: int) -> Ints:
    return np.argsort(-(x[:, _FILE] + x[:, _CHUNK]), kind="stable")[:k]


def _local_idf(held: np.ndarray, lead: Ints) -> Floats:
    df: Floats = held[lead].sum(axis=0).astype(np.float64)
    local: Floats = np.log1p((len(lead) - df + 0.5) / (df + 0.5))
    return local


def _rel(v: Floats) -> Floats:
    top = float(v.max()) if len(v) else 0.0
    return v / top if top > 0 else v


def coverage(k: int) -> wf.Column:
    def column(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        held, qtf, idf = _held(c, q, cand)
        w = qtf * idf * _local_idf(held, _leaders(x, k))
        total = float(w.sum())
        return held @ w / total if total > 0 else np.zeros(len(cand))

    return column


def only(k: int) -> wf.Column:
    def column(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        held, qtf, idf = _held(c, q, cand)
        few = held[_leaders(x, k)].sum(axis=0) <= k // 5
        w = qtf * idf
        total = float(w.sum())
        return held @ (w * few) / total if total > 0 else np.zeros(len(cand))

    return column


def bm25(k: int, table: str) -> wf.Column:
    def column(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        snap = c.snap
        held, qtf, _ = _held(c, q, cand)
        weight = qtf * _local_idf(held, _leaders(x, k))
        keys = [term_hash(t) for t in q.counts]
        if table == "file":
            h = gather(snap.file_body, keys, snap.n_files)
            norm = length_norm(snap, "file", 0.75)
            per_file = doc_sums(h.docs, bm25_postings(h, weight, norm), snap.n_files)
        else:
            h = gather(snap.chunk_body, keys, snap.n_chunks)
            norm = length_norm(snap, "chunk", 0.75)
            per_chunk = doc_sums(h.docs, bm25_postings(h, weight, norm), snap.n_chunks)
            per_file = np.zeros(snap.n_files)
            np.maximum.at(per_file, snap.chunk_file, per_chunk)
        return _rel(per_file[cand])

    return column


COLUMNS: dict[str, wf.Column] = {
    **{f"local coverage {k}": coverage(k) for k in SIZES},
    **{f"local file BM25 {k}": bm25(k, "file") for k in SIZES},
    **{f"local chunk {k}": bm25(k, "chunk") for k in SIZES},
    **{f"local only {k}": only(k) for k in SIZES},
}


#: variants whose column stands in place of one of the 28 features
IN_PLACE = {"local chunk 10, in place of chunk_best": "chunk_best"}


def _setup() -> None:
    rngs = [np.random.default_rng(seed) for seed in (1, 2)]

    def rand(i: int) -> wf.Column:
        def column(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
            return rngs[i].random(len(cand))

        return column

    pc.EXTRA = ("random 1", "random 2", *COLUMNS)
    pc.VARIANTS = {
        "base": (),
        "random 1": ("random 1",),
        "random 2": ("random 2",),
        **{name: (name,) for name in COLUMNS},
        "local chunk 10, in place of chunk_best": ("local chunk 10",),
        **{
            f"local file and chunk {k}": (f"local file BM25 {k}", f"local chunk {k}") for k in SIZES
        },
    }
    pc._columns = lambda: [rand(0), rand(1), *COLUMNS.values()]


def main(argv: list[str] | None = None) -> int:
    _setup()
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("step", choices=("collect", "report", "nested"))
    parser.add_argument("variants", nargs="*", default=[])
    parser.add_argument("--cache", type=Path, default=CORPUS_CACHE)
    parser.add_argument("--mirrors", type=Path, default=MIRRORS)
    parser.add_argument("--rows", type=Path, default=Path("/tmp/local_idf_rows.npz"))
    args = parser.parse_args(argv)
    pc.ROWS, pc.RR = args.rows, args.rows.with_name(f"{args.rows.stem}-rr.npz")
    if args.step == "collect":
        wf.VARIANTS = {"all": (pc._columns(), ())}
        rows = wf.collect(["all"], args.cache, args.mirrors)["all"]
        np.savez_compressed(
            pc.ROWS,
            x=np.vstack(rows.x),
            y=np.concatenate(rows.y),
            query=np.concatenate(rows.query),
            corpus=np.concatenate(rows.corpus),
            commits=np.concatenate(rows.commits),
        )
        return 0
    variants = args.variants or list(pc.VARIANTS)
    unknown = [v for v in variants if v not in pc.VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}: expected some of {list(pc.VARIANTS)}")
    if args.step == "report" and _base_rr().exists() and "base" not in variants:
        _report_against_stored_base(variants)
        return 0
    if "base" not in variants:
        variants = ["base", *variants]
    pc.report(args.step == "nested", variants)
    return 0


def _base_rr() -> Path:
    return pc.RR.with_name(f"{pc.RR.stem}-loro-base.npz")


def _report_against_stored_base(variants: list[str]) -> None:
    """`prior_checks.report`'s LORO rows, the base's reciprocal ranks read from its last run
    on the same rows (a variant costs minutes on a loaded machine)."""
    data = dict(np.load(pc.ROWS))
    stored = np.load(_base_rr())
    base_rr = [stored[f"arr_{i}"] for i in range(len(stored.files))]
    rng = np.random.default_rng(0)
    print(f"base (stored): {np.mean([b.mean() for b in base_rr]):.4f}", flush=True)
    for v in variants:
        x = pc._design(data, pc.VARIANTS[v])
        if v in IN_PLACE:  # the replaced feature's column out of every kind's block
            width = len(FEATURES) + len(pc.VARIANTS[v])
            out = FEATURES.index(IN_PLACE[v])
            x = np.delete(x, [b * width + out for b in range(x.shape[1] // width)], axis=1)
        rrs = [pc._held_rr(x, data, c, L2) for c in range(len(base_rr))]
        np.savez(pc.RR.with_name(f"{pc.RR.stem}-loro-{v}.npz"), *rrs)
        means = [float(r.mean()) for r in rrs]
        print(
            f"| {v} | "
            + " | ".join(f"{m:.3f}" for m in means)
            + f" | {np.mean(means):.4f} | {gain_over_base(rrs, base_rr, rng)} |",
            flush=True,
        )


if __name__ == "__main__":
    raise SystemExit(main())
