"""Evidence aimed at where held-out weights lose on ripgrep: the body beyond the path's words,
the query's rarest terms, tests asked in the subject, phrases by IDF, the best chunk's kind,
the path against the body's evidence, the request's flags.
(Measured: none above the yardstick; not shipped. docs/search-rounds.md, 2026-12-05 night and
2026-12-06.)

    uv run python scripts/miss_features.py                  # every variant, LORO table
    uv run python scripts/miss_features.py base "residual chunk"
    uv run python scripts/miss_features.py --blame          # which features lose, per corpus

Read with held-out weights, the features by which the first wrong file beats the first
relevant one, summed over a corpus's misses, are led by `path` in ripgrep and hono (`escape.rs`
for "Escape `{` and `}` in `escape`", `types.rs` for "Add raku extensions to ignore types"),
then `phrases`, `subject_window` and `chunk_best`. Each variant adds columns to
`train_ranker.py`'s 28 features (or replaces one), per candidate file, on the rows
`train_ranker.py features` keeps (through `window_features.collect`, both regimes, doc
comments too); the table is commits MRR@10 per held-out corpus, and ripgrep's commits MRR@10
with weights fitted on its own rows (in sample: what the columns could give it at most):

- residual file / chunk / coverage: file BM25, best chunk BM25, IDF-weighted coverage over
  the query terms that are not among the words of the file's own path, rel (coverage not);
- path split: the path's saturated BM25 (as `path`) over the directories' words and over the
  file name's words, two columns in place of `path`;
- coverage with IDF squared / to the 4th as the term weights; whether the file holds the
  query's rarest term (highest IDF among those some file holds); the best chunk's BM25 with
  IDF squared, rel;
- tests asked in the subject: a test file, and the first sentence asks for tests
  (`query._TEST_QUERY`), as a column or in place of `test_asked` (any sentence);
- phrases IDF-weighted: the IDF-weighted share of the query's adjacent pairs the file holds
  adjacent (`phrases` counts each pair alike), as a column or in place of `phrases`;
- best chunk's kind: whether the file's best BM25 chunk is a function or method, a type, a
  preamble or module header, a data table (four columns);
- (2026-12-06) the path against the body: `path` times the file's evidence for the request's
  other words (coverage, residual coverage, the residual best chunk), or only outside the
  three best by body BM25; the request's `--flags`: `path` without their words, `path` when
  it writes one, the share of them the file holds (`flags_held`). None above the yardstick.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import window_features as wf
from ranker_corpora import corpus_parser, manifest_corpora
from train_ranker import Data, fit, mrr_at_10

from ocp_server.index.arrays import Floats, Ints
from ocp_server.index.features import FEATURES
from ocp_server.index.hits import K1, bm25_postings, doc_sums, gather, length_norm
from ocp_server.index.lexicon import pair_hash, term_hash, terms
from ocp_server.index.query import _TEST_QUERY, Query

#: Per snapshot (held, so that its id is not reused by the next corpus's: a freed snapshot's
#: id given to another would hand it the first's path terms), per file: (directories' terms,
#: file name's terms).
_PATH_TERMS: dict[int, tuple[object, tuple[list[set[str]], list[set[str]]]]] = {}


def _path_terms(c: wf.Corpus) -> tuple[list[set[str]], list[set[str]]]:
    """Per file: (its directories' terms, its file name's terms)."""
    held = _PATH_TERMS.get(id(c.snap))
    got = held[1] if held is not None and held[0] is c.snap else None
    if got is None:
        dirs, names = [], []
        for p in c.snap.paths:
            head, _, tail = p.rpartition("/")
            dirs.append(set(terms(head.replace("/", " ").replace(".", " ").replace("-", " "))))
            names.append(set(terms(tail.replace(".", " ").replace("-", " "))))
        got = (dirs, names)
        _PATH_TERMS[id(c.snap)] = (c.snap, got)
    return got


def _in_path(c: wf.Corpus, term_list: tuple[str, ...], docs: Ints, term: Ints) -> np.ndarray:
    dirs, names = _path_terms(c)
    return np.array(
        [
            term_list[t] in names[d] or term_list[t] in dirs[d]
            for d, t in zip(docs.tolist(), term.tolist(), strict=True)
        ],
        dtype=bool,
    )


def _rel(v: Floats) -> Floats:
    top = float(v.max()) if len(v) else 0.0
    return v / top if top > 0 else v


def residual(c: wf.Corpus, q: Query, table: str) -> Floats:
    """Per file: BM25 (file or best chunk) or coverage over the query terms outside its path."""
    snap = c.snap
    term_list = tuple(q.counts)
    keys = [term_hash(t) for t in term_list]
    qtf = np.array([q.counts[t] for t in term_list], dtype=np.float64)
    if table == "chunk":
        h = gather(snap.chunk_body, keys, snap.n_chunks)
        owner = snap.chunk_file[h.docs].astype(np.int64)
    else:
        h = gather(snap.file_body, keys, snap.n_files)
        owner = h.docs.astype(np.int64)
    keep = ~_in_path(c, term_list, owner, h.term)
    if table == "coverage":
        w = h.idf / max(float(h.idf.sum()), 1e-9)
        return doc_sums(h.docs, w[h.term] * keep, snap.n_files)
    norm = length_norm(snap, "chunk" if table == "chunk" else "file", 0.75)
    post = bm25_postings(h, qtf * h.idf, norm) * keep
    if table == "chunk":
        per_chunk = doc_sums(h.docs, post, snap.n_chunks)
        out = np.zeros(snap.n_files)
        np.maximum.at(out, snap.chunk_file, per_chunk)
        return out
    return doc_sums(h.docs, post, snap.n_files)


def path_split(c: wf.Corpus, q: Query, part: int) -> Floats:
    """Per file: the path's saturated BM25 over its directories' (0) or name's (1) terms."""
    snap = c.snap
    term_list = tuple(q.counts)
    keys = [term_hash(t) for t in term_list]
    qtf = np.array([q.counts[t] for t in term_list], dtype=np.float64)
    h = gather(snap.file_path, keys, snap.n_files)
    sets = _path_terms(c)[part]
    keep = np.array(
        [term_list[t] in sets[d] for d, t in zip(h.docs.tolist(), h.term.tolist(), strict=True)],
        dtype=bool,
    )
    tf = h.counts
    w = (qtf * h.idf)[h.term] * tf * (K1 + 1.0) / (tf + K1) * keep
    return doc_sums(h.docs, w, snap.n_files)


def rare_power(c: wf.Corpus, q: Query, table: str, power: float) -> Floats:
    """Per file: coverage with IDF**power as the term weights (file), the best chunk's BM25
    with IDF**power (chunk), or whether it holds the query's rarest term (rarest)."""
    snap = c.snap
    term_list = tuple(q.counts)
    keys = [term_hash(t) for t in term_list]
    qtf = np.array([q.counts[t] for t in term_list], dtype=np.float64)
    if table == "chunk":
        h = gather(snap.chunk_body, keys, snap.n_chunks)
        post = bm25_postings(h, qtf * h.idf**power, length_norm(snap, "chunk", 0.75))
        per_chunk = doc_sums(h.docs, post, snap.n_chunks)
        out = np.zeros(snap.n_files)
        np.maximum.at(out, snap.chunk_file, per_chunk)
        return out
    h = gather(snap.file_body, keys, snap.n_files)
    if table == "rarest":
        idf = np.where(h.df > 0, h.idf, -1.0)
        return doc_sums(h.docs, (h.term == int(np.argmax(idf))).astype(np.float64), snap.n_files)
    w = h.idf**power / max(float((h.idf**power).sum()), 1e-9)
    return doc_sums(h.docs, w[h.term], snap.n_files)


def tests_in_subject(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    """Per candidate: a test file, and the request's first sentence asks for tests ("Test
    that ...", "Fix flaky test"); a body that mentions a regression test asks less."""
    subject = re.split(r"(?<=[.!?])\s", q.text.strip(), maxsplit=1)[0]
    asks = _TEST_QUERY.search(subject) is not None
    return ((x[:, FEATURES.index("test")] > 0) & asks).astype(np.float64)


def phrase_idf(c: wf.Corpus, q: Query) -> Floats:
    """Per file: the IDF-weighted share of the query's adjacent term pairs it holds adjacent
    (`phrases` counts each pair alike: "when possible" as much as "msbuild solution")."""
    snap = c.snap
    keys = list(q.pair_keys)
    if not keys:
        return np.zeros(snap.n_files)
    h = gather(snap.file_pairs, keys, snap.n_files)
    w = h.idf / max(float(h.idf.sum()), 1e-9)
    return doc_sums(h.docs, w[h.term], snap.n_files)


_KIND_GROUPS = {
    "callable": ("function", "method", "macro"),
    "type": ("class", "struct", "enum", "trait", "type", "impl", "interface"),
    "preamble": ("preamble", "module"),
    "data": ("constant",),
}


def best_chunk_kind(c: wf.Corpus, q: Query, group: str) -> Floats:
    """Per file: whether its best chunk (BM25) is of the kind group (`_KIND_GROUPS`): a
    request's words in a function's body, in a type, in the imports and module header, in a
    data table."""
    snap = c.snap
    term_list = tuple(q.counts)
    keys = [term_hash(t) for t in term_list]
    qtf = np.array([q.counts[t] for t in term_list], dtype=np.float64)
    h = gather(snap.chunk_body, keys, snap.n_chunks)
    post = bm25_postings(h, qtf * h.idf, length_norm(snap, "chunk", 0.75))
    per_chunk = doc_sums(h.docs, post, snap.n_chunks)
    # per file, the chunk of the highest score: sort by (file, score)
    order = np.lexsort((per_chunk, snap.chunk_file))
    last = np.r_[snap.chunk_file[order][1:] != snap.chunk_file[order][:-1], True]
    best = order[last]
    out = np.zeros(snap.n_files)
    hit = per_chunk[best] > 0
    out[snap.chunk_file[best][hit]] = np.isin(c.chunk_kind[best][hit], _KIND_GROUPS[group])
    return out


#: A request's long flags as it writes them (`-z/--search-zip`, `--stats`), not `--` alone.
_FLAG = re.compile(r"(?:^|[\s`(/\"'=])--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)")
_PATH = FEATURES.index("path")


def _flags(q: Query) -> list[tuple[str, ...]]:
    """The terms of each long flag the request writes, once each."""
    got = (tuple(terms(f.replace("-", " "))) for f in _FLAG.findall(q.text))
    return list(dict.fromkeys(f for f in got if f))


def path_x(c: wf.Corpus, q: Query, cand: Ints, x: Floats, by: str) -> Floats:
    """Per candidate: `path` times the body's evidence `by` (coverage, chunk coverage, the
    residual coverage or its complement, the residual best chunk rel), or `path` where the
    file is not among the three best by file + best chunk BM25 ("outside top 3"): the path
    counting only beside (or only without) evidence for the request's other words."""
    path = x[:, _PATH]
    if by == "outside top 3":
        body = x[:, FEATURES.index("file_bm25")] + x[:, FEATURES.index("chunk_best")]
        rank = np.empty(len(body))
        rank[np.argsort(-body, kind="stable")] = np.arange(len(body))
        return path * (rank >= 3)
    if by in ("coverage", "chunk_coverage"):
        return path * x[:, FEATURES.index(by)]
    if by == "residual chunk":
        return path * _rel(residual(c, q, "chunk")[cand])
    cover = residual(c, q, "coverage")[cand]
    return path * (cover if by == "residual coverage" else 1.0 - cover)


def path_without_flags(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    """Per candidate: `path` with the words of the request's long flags left out (`--stats`
    names stats.rs, `--search-zip` search.rs), rel."""
    flag_terms = {t for f in _flags(q) for t in f}
    if not flag_terms:
        return x[:, _PATH]
    snap = c.snap
    term_list = tuple(q.counts)
    qtf = np.array([q.counts[t] * (t not in flag_terms) for t in term_list], dtype=np.float64)
    h = gather(snap.file_path, [term_hash(t) for t in term_list], snap.n_files)
    tf = h.counts
    w = (qtf * h.idf)[h.term] * tf * (K1 + 1.0) / (tf + K1)
    return _rel(doc_sums(h.docs, w, snap.n_files)[cand])


def path_if_flags(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    """Per candidate: `path` when the request writes a long flag, else 0."""
    return x[:, _PATH] * float(bool(_flags(q)))


def flags_held(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    """Per candidate: the share of the request's long flags the file holds, a flag of several
    words as adjacent pairs (`search zip`), one of one word as its term: where the flags are
    defined, documented and parsed."""
    flags = _flags(q)
    if not flags:
        return np.zeros(len(cand))
    snap = c.snap
    held = np.zeros(snap.n_files)
    for f in flags:
        if len(f) > 1:
            keys = [pair_hash(a, b) for a, b in zip(f, f[1:], strict=False)]
            h = gather(snap.file_pairs, keys, snap.n_files)
        else:
            keys = [term_hash(f[0])]
            h = gather(snap.file_body, keys, snap.n_files)
        held += doc_sums(h.docs, None, snap.n_files) >= len(keys)
    return held[cand] / len(flags)


def _path_x(by: str) -> wf.Column:
    def column(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        return path_x(c, q, cand, x, by)

    return column


def _col(fn: Callable[..., Floats], *args: object, rel: bool = True) -> wf.Column:
    def column(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        v = fn(c, q, *args)[cand]
        return _rel(v) if rel else v

    return column


VARIANTS: dict[str, tuple[list[wf.Column], tuple[str, ...]]] = {
    "base": ([], ()),
    "residual file": ([_col(residual, "file")], ()),
    "residual file, in place of file_bm25": ([_col(residual, "file")], ("file_bm25",)),
    "residual chunk": ([_col(residual, "chunk")], ()),
    "residual coverage": ([_col(residual, "coverage", rel=False)], ()),
    "residual file, chunk, coverage": (
        [_col(residual, "file"), _col(residual, "chunk"), _col(residual, "coverage", rel=False)],
        (),
    ),
    "coverage, IDF squared": ([_col(rare_power, "file", 2.0, rel=False)], ()),
    "coverage, IDF to the 4th": ([_col(rare_power, "file", 4.0, rel=False)], ()),
    "holds the rarest term": ([_col(rare_power, "rarest", 1.0, rel=False)], ()),
    "best chunk BM25, IDF squared": ([_col(rare_power, "chunk", 2.0)], ()),
    "tests asked in the subject": ([tests_in_subject], ()),
    "tests asked in the subject, in place of test_asked": ([tests_in_subject], ("test_asked",)),
    "phrases IDF-weighted": ([_col(phrase_idf, rel=False)], ()),
    "phrases IDF-weighted, in place of phrases": ([_col(phrase_idf, rel=False)], ("phrases",)),
    "coverage IDF squared, residual chunk": (
        [_col(rare_power, "file", 2.0, rel=False), _col(residual, "chunk")],
        (),
    ),
    "coverage IDF squared, residual chunk, holds the rarest term": (
        [
            _col(rare_power, "file", 2.0, rel=False),
            _col(residual, "chunk"),
            _col(rare_power, "rarest", 1.0, rel=False),
        ],
        (),
    ),
    "best chunk's kind": (
        [_col(best_chunk_kind, g, rel=False) for g in ("callable", "type", "preamble", "data")],
        (),
    ),
    "path split, in place of path": ([_col(path_split, 0), _col(path_split, 1)], ("path",)),
    # 2026-12-06: the path against the body's evidence for the other words, and flags
    "path x residual coverage, path x (1 - it)": (
        [_path_x("residual coverage"), _path_x("residual uncovered")],
        (),
    ),
    "path x coverage": ([_path_x("coverage")], ()),
    "path x chunk coverage": ([_path_x("chunk_coverage")], ()),
    "path, the body outside the top 3": ([_path_x("outside top 3")], ()),
    "path x residual chunk": ([_path_x("residual chunk")], ()),
    "path without flag words, in place of path": ([path_without_flags], ("path",)),
    "path without flag words": ([path_without_flags], ()),
    "path x writes a flag": ([path_if_flags], ()),
    "flags held": ([flags_held], ()),
    "flags held, path without flag words in place of path": (
        [flags_held, path_without_flags],
        ("path",),
    ),
}


def _in_sample(rows: wf.Rows, c: int) -> float:
    """Commits MRR@10 of corpus `c` with weights fitted on its own rows (every set and regime):
    the most any weighting of the columns can give it."""
    x, y, query = np.vstack(rows.x), np.concatenate(rows.y), np.concatenate(rows.query)
    corpus, commits = np.concatenate(rows.corpus), np.concatenate(rows.commits)
    own = corpus == c
    w = fit(x[own], y[own], query[own])
    held = own & commits
    return mrr_at_10(x[held], y[held], query[held], w)


def blame_report() -> None:
    """Per corpus, on its commit queries without history whose first file is not relevant
    (held-out weights, the stored rows of `train_ranker.py features`): the features by which
    the first file beats the first relevant one, (x_top - x_relevant) x weight, the per-kind
    weights folded onto their feature, as a mean over those queries."""
    data = Data()
    n = len(FEATURES)
    print("| corpus | misses | features by which the wrong file wins (mean per miss) |")
    print("|---|---|---|")
    for c, name in enumerate(data.corpora):
        w = fit(*data.subset(data.corpus != c))
        x, y, query = data.subset((data.corpus == c) & (data.qset == 0) & (data.regime == 0))
        scores = x @ w
        blame, misses = np.zeros(n), 0
        for q in np.unique(query):
            rows = query == q
            order = np.argsort(-scores[rows], kind="stable")
            relevant = np.flatnonzero(y[rows][order] > 0)
            if not len(relevant) or relevant[0] == 0:
                continue
            top, first = order[0], order[relevant[0]]
            blame += ((x[rows][top] - x[rows][first]) * w).reshape(-1, n).sum(axis=0)
            misses += 1
        worst = np.argsort(-blame)[:6]
        listed = ", ".join(f"{FEATURES[j]} {blame[j] / max(misses, 1):+.2f}" for j in worst)
        print(f"| {name} | {misses} | {listed} |")


def main(argv: list[str] | None = None) -> int:
    parser = corpus_parser(__doc__, VARIANTS)
    parser.add_argument("--blame", action="store_true", help="only the per-feature blame table")
    args = parser.parse_args(argv)
    if args.blame:
        blame_report()
        return 0
    print_held_out(args.variants or list(VARIANTS), VARIANTS, args.cache, args.mirrors)
    return 0


def print_held_out(
    variants: list[str],
    columns: dict[str, tuple[list[wf.Column], tuple[str, ...]]],
    cache: Path,
    mirrors: Path,
) -> None:
    """The table of `variants`' commit MRR@10, each corpus held out, and ripgrep in sample."""
    wf.VARIANTS = columns  # collect() reads the columns from there
    names = [str(e["name"]) for e in manifest_corpora()]
    rows = wf.collect(variants, cache, mirrors)
    print("| variant | " + " | ".join(names) + " | mean | ripgrep in sample |")
    print("|---" * (len(names) + 3) + "|")
    for v in variants:
        r = wf.loro_commits(rows[v], len(names))
        print(
            f"| {v} | " + " | ".join(f"{m:.3f}" for m in r) + f" | {np.mean(r):.4f} | "
            f"{_in_sample(rows[v], names.index('ripgrep')):.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    raise SystemExit(main())
