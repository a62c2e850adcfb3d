"""Learned per-term query weights, the candidate pool's recall, a soft maximum over chunks.
(Measured: none above the base by more than noise held out; not shipped. docs/search-rounds.md,
2026-12-07, afternoon.)

    uv run python scripts/term_weights.py [--target necessity|contrast] [variant ...]

Every BM25 feature weighs a query's terms by their count in the request (`Query.counts`,
`qtf`): "Add raku extensions to ignore types" weighs `add` as `raku`, IDF aside. Here a term's
weight is predicted from what the request and the index say of it (`term_features`: its IDF,
where it stands, written as code or capitalised, in the subject, whether paths or definition
names hold it, its length), by a logistic regression fitted to its *necessity* (Zhao & Callan
2010): the share of the query's relevant files holding it (in a chunk or in the path), over
the commit queries of the development corpora; or (`--target contrast`) to that share less the
share of the first pass's RIVALS best other candidates holding it. The predicted weight (to a
power) multiplies `qtf`, and every feature is recomputed with it (`candidate_features` on the
query with its counts so weighed: candidates, BM25 of files, chunks, blocks, names, path,
history).

Clean leave-one-repository-out: for each held-out corpus, the term model is fitted on the other
five corpora's commit queries only, applied to all six, the ranker (`train_ranker.fit`) fitted
on the five's rows and scored on the held-out corpus's commit queries (no history), as
`prior_checks.py report`, with the paired bootstrap against the base (uniform weights).

`--aggregate "soft max 0.1"` with the variant `uniform` adds, beside the uniform-weight
features, a per-file soft maximum of its chunks' BM25 (issue 9's third candidate).

It also prints, per corpus, how often a commit query's relevant file is among the candidates
at all (the pool) and where the first relevant file stands by the shipped weights.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from paired_bootstrap import gain_over_base
from ranker_corpora import (
    BENCH,
    CORPUS_CACHE,
    MIRRORS,
    corpus_history,
    corpus_root,
    indexed_snapshot,
    manifest_corpora,
)
from train_ranker import L2, NEGATIVES, SETS, fit

from ocp_server.index.features import FEATURES, candidate_features
from ocp_server.index.hits import (
    Hits,
    bm25_postings,
    distinct_docs,
    doc_sums,
    gather_all,
    length_norm,
)
from ocp_server.index.lexical import Snapshot
from ocp_server.index.lexicon import name_hash, term_hash
from ocp_server.index.query import Query, parse_query
from ocp_server.index.ranking import load_weights, query_kinds

TERM_FEATURES = (
    "bias",
    "idf",  # chunk IDF over log(1 + chunks)
    "idf squared",
    "first term",
    "place",  # first place among the query's terms, over their number
    "in subject",
    "written as code",
    "capitalised",
    "in paths",  # some file's path holds it
    "in names",  # some definition's name holds it
    "path idf",  # its IDF among paths, over log(1 + files); 0 if none
    "short",  # at most 3 characters
    "count",  # times in the request - 1
)
RIVALS = 20  # the first pass's best other candidates a term's contrast is measured against
VARIANTS = {"base": 0.0, "uniform": 0.0, "p^0.5": 0.5, "p": 1.0, "p^2": 2.0}
#: Per-file aggregations of the chunks' BM25 (over the query's best chunk), as extra columns
#: beside the uniform-weight features (`--aggregate`): soft maxima tau x log(sum exp(s / tau)).
AGGREGATES = {"soft max 0.1": 0.1, "soft max 0.3": 0.3}


def soft_max(snap: Snapshot, query: Query, ch: Hits, cand: np.ndarray, tau: float) -> np.ndarray:
    """Per candidate: tau x log(sum over its hit chunks of exp(score / best / tau)), 0 if none."""
    qtf = np.array([query.counts[t] for t in query.counts], dtype=np.float64)
    hit, where, _ = distinct_docs(ch.docs, snap.n_chunks)
    post = bm25_postings(ch, qtf * ch.idf, length_norm(snap, "chunk", 0.75))
    scores = doc_sums(where[ch.docs], post, len(hit))
    if not len(scores) or scores.max() <= 0:
        return np.zeros(len(cand))
    mass = np.zeros(snap.n_files)
    np.add.at(mass, snap.chunk_file[hit], np.exp(scores / scores.max() / tau))
    held = mass[cand]
    return np.where(held > 0, tau * np.log(np.maximum(held, 1e-300)), 0.0)


def term_features(snap: Snapshot, query: Query, chunk_idf: np.ndarray) -> np.ndarray:
    """Per term of `query` (its counts' order): TERM_FEATURES."""
    term_list = list(query.counts)
    keys = [term_hash(t) for t in term_list]
    path_h, names_h = gather_all(
        [
            (snap.file_path, snap.file_path.locate(keys), snap.n_files),
            (snap.file_names, snap.file_names.locate([name_hash(t) for t in term_list]), 1),
        ]
    )
    n = len(term_list)
    out = np.zeros((n, len(TERM_FEATURES)))
    idf = chunk_idf / np.log1p(snap.n_chunks)
    for i, t in enumerate(term_list):
        word = query.originals.get(t, t)
        out[i] = (
            1.0,
            idf[i],
            idf[i] ** 2,
            i == 0,
            i / max(n - 1, 1),
            t in query.subject,
            t in query.code,
            word[:1].isupper() and i > 0,
            path_h.df[i] > 0,
            names_h.df[i] > 0,
            path_h.idf[i] / np.log1p(snap.n_files) if path_h.df[i] > 0 else 0.0,
            len(t) <= 3,
            query.counts[t] - 1,
        )
    return out


def necessity(
    snap: Snapshot, query: Query, relevant: list[int], others: np.ndarray | None = None
) -> np.ndarray:
    """Per term: the share of the relevant files holding it in a chunk or in the path; with
    `others` (the first pass's best other candidates), less the share of those holding it
    (*contrast*: what tells the relevant files from their nearest rivals), at least 0."""
    term_list = list(query.counts)
    keys = [term_hash(t) for t in term_list]
    ch, ph = gather_all(
        [
            (snap.chunk_body, snap.chunk_body.locate(keys), snap.n_chunks),
            (snap.file_path, snap.file_path.locate(keys), snap.n_files),
        ]
    )
    held = np.zeros((len(term_list), snap.n_files), dtype=bool)
    held[ch.term, snap.chunk_file[ch.docs]] = True
    held[ph.term, ph.docs] = True
    share: np.ndarray = held[:, relevant].mean(axis=1)
    if others is None:
        return share
    return np.maximum(share - held[:, others].mean(axis=1), 0.0)  # type: ignore[no-any-return]


def weighed(query: Query, weights: np.ndarray) -> Query:
    counts: Counter[str] = Counter()
    for t, w in zip(query.counts, weights, strict=True):
        counts[t] = query.counts[t] * float(w)  # type: ignore[assignment]
    return query._replace(counts=counts)


class Corpus:
    def __init__(self, entry: dict[str, object], cache: Path, mirrors: Path, target: str) -> None:
        self.name = str(entry["name"])
        commits = corpus_history(entry, mirrors)
        self.when = {c.hash: c.time for c in commits}
        self.snap = asyncio.run(indexed_snapshot(corpus_root(entry, cache), commits))
        self.queries: list[tuple[str, dict[str, object], Query, np.ndarray]] = []
        self.targets: list[tuple[np.ndarray, np.ndarray]] = []  # commit queries: (phi, need)
        index = {p: i for i, p in enumerate(self.snap.paths)}
        pool = [0, 0, 0]  # in the pool, not, queries
        ranks: list[int] = []
        for qset in SETS:
            path = BENCH / "queries" / f"{self.name}.{qset}.jsonl"
            for line in path.read_text("utf-8").splitlines():
                q = json.loads(line)
                query = parse_query(q["query"])
                if query.empty:
                    continue
                cand, x, _, ch, *_ = candidate_features(self.snap, query, as_of=0)
                phi = term_features(self.snap, query, ch.idf)
                self.queries.append((qset, q, query, phi))
                if qset != "commits":
                    continue
                relevant = [index[p] for p in q["relevant_files"] if p in index]
                labels = np.isin(cand, relevant)
                if relevant:
                    first = x[:, FEATURES.index("file_bm25")] + x[:, FEATURES.index("chunk_best")]
                    negatives = np.flatnonzero(~labels)
                    others = cand[negatives[np.argsort(-first[negatives])[:RIVALS]]]
                    need = necessity(
                        self.snap, query, relevant, others if target == "contrast" else None
                    )
                    self.targets.append((phi, need))
                pool[0 if labels.any() else 1] += 1
                w = load_weights().kept(tuple(bool(k) for k in query_kinds(query, x)))
                order = np.argsort(-(x @ w), kind="stable")
                hit = np.flatnonzero(labels[order])
                ranks.append(int(hit[0]) + 1 if len(hit) else 0)
        r = np.array(ranks)
        print(
            f"{self.name}: {pool[0]} commit queries with a relevant candidate, {pool[1]} without;"
            f" candidates per query {len(cand)} (last); first relevant at 1: {(r == 1).sum()},"
            f" 2-10: {((r > 1) & (r <= 10)).sum()}, 11-20: {((r > 10) & (r <= 20)).sum()},"
            f" 21+: {(r > 20).sum()}, none: {(r == 0).sum()}",
            file=sys.stderr,
            flush=True,
        )


def fit_terms(targets: list[tuple[np.ndarray, np.ndarray]], l2: float = 1e-3) -> np.ndarray:
    """Logistic regression of necessity on the term features (fractional targets), by Newton."""
    phi = np.vstack([p for p, _ in targets])
    y = np.concatenate([t for _, t in targets])
    theta = np.zeros(phi.shape[1])
    for _ in range(25):
        p = 1 / (1 + np.exp(-phi @ theta))
        grad = phi.T @ (p - y) / len(y) + l2 * theta
        hess = (phi * (p * (1 - p))[:, None]).T @ phi / len(y) + l2 * np.eye(len(theta))
        theta -= np.linalg.solve(hess, grad)
    return theta


def rows_for(
    c: Corpus, ci: int, theta: np.ndarray, power: float, start: int, tau: float = 0.0
) -> tuple[list[np.ndarray], ...]:
    """The training rows of corpus `c` with term weights sigmoid(phi theta)^power, as
    `train_ranker.py features` keeps them (both regimes; commits flagged for scoring)."""
    xs, ys, qs, cs, commits = [], [], [], [], []
    n = start
    index = {p: i for i, p in enumerate(c.snap.paths)}
    snapshot_time = max(c.when.values(), default=0) + 1
    for qset, q, query, phi in c.queries:
        weights = (1 / (1 + np.exp(-phi @ theta))) ** power
        wq = weighed(query, weights)
        relevant = [index[p] for p in q["relevant_files"] if p in index]  # type: ignore[attr-defined]
        for regime in (0, 1) if c.when else (0,):
            as_of = c.when.get(str(q.get("commit", "")), snapshot_time) if regime else 0
            cand, x, _, ch, *_ = candidate_features(c.snap, wq, as_of=as_of)
            labels = np.isin(cand, relevant)
            first = x[:, FEATURES.index("file_bm25")] + x[:, FEATURES.index("chunk_best")]
            negatives = np.flatnonzero(~labels)
            keep = np.concatenate(
                [np.flatnonzero(labels), negatives[np.argsort(-first[negatives])[:NEGATIVES]]]
            )
            kinds = query_kinds(query, x).astype(np.float64)
            base = x[keep].astype(np.float16).astype(np.float64)
            if tau:
                base = np.hstack([base, soft_max(c.snap, wq, ch, cand, tau)[keep, None]])
            xs.append(np.hstack([base] + [base * k for k in kinds]))
            ys.append(labels[keep].astype(np.float64))
            qs.append(np.full(len(keep), n))
            cs.append(np.full(len(keep), ci))
            commits.append(np.full(len(keep), qset == "commits" and regime == 0))
            n += 1
    return xs, ys, qs, cs, commits


def held_rr(data: tuple[np.ndarray, ...], c: int) -> np.ndarray:
    """Corpus `c`'s commit queries' reciprocal ranks at 10, the ranker fitted without it."""
    x, y, query, corpus, commits = data
    w = fit(x[corpus != c], y[corpus != c], query[corpus != c], L2)
    held = (corpus == c) & commits
    scores, qs, yh = x[held] @ w, query[held], y[held]
    out = []
    for q in np.unique(qs):
        rows = qs == q
        order = np.argsort(-scores[rows], kind="stable")[:10]
        hit = np.flatnonzero(yh[rows][order] > 0)
        out.append(1.0 / (hit[0] + 1) if len(hit) else 0.0)
    return np.array(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--aggregate", choices=AGGREGATES, help="a column beside the base's")
    parser.add_argument("--target", choices=("necessity", "contrast"), default="necessity")
    parser.add_argument("--cache", type=Path, default=CORPUS_CACHE)
    parser.add_argument("--mirrors", type=Path, default=MIRRORS)
    args = parser.parse_args(argv)
    corpora = [Corpus(e, args.cache, args.mirrors, args.target) for e in manifest_corpora()]
    names = [c.name for c in corpora]
    thetas = []
    for c in range(len(corpora)):
        theta = fit_terms([t for o, k in enumerate(corpora) if o != c for t in k.targets])
        thetas.append(theta)
        print(
            f"term model without {names[c]}: "
            + ", ".join(f"{f} {v:+.2f}" for f, v in zip(TERM_FEATURES, theta, strict=True)),
            file=sys.stderr,
            flush=True,
        )
    rng = np.random.default_rng(0)
    base_rr: list[np.ndarray] = []
    print("| variant | " + " | ".join(names) + " | mean | vs base, 95% bootstrap |")
    print("|---" * (len(names) + 3) + "|")
    for v in args.variants:
        power = VARIANTS[v]
        tau = AGGREGATES[args.aggregate] if args.aggregate and v != "base" else 0.0
        rrs = []
        data: tuple[np.ndarray, ...] = ()
        for c in range(len(corpora)):
            if not data or power:  # the base's rows (weights 1) do not depend on the fold
                parts = [
                    rows_for(k, ci, thetas[c], power, 100000 * ci, tau)
                    for ci, k in enumerate(corpora)
                ]
                data = tuple(np.concatenate([a for p in parts for a in p[j]]) for j in range(5))
            rrs.append(held_rr(data, c))
        if v == "base":
            base_rr = rrs
        means = [float(r.mean()) for r in rrs]
        interval = gain_over_base(rrs, base_rr, rng) if base_rr and v != "base" else ""
        print(
            f"| {v} | " + " | ".join(f"{m:.3f}" for m in means) + f" | {np.mean(means):.4f} | "
            f"{interval} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
