"""A code file's own test module, the request's rarest term in the path or names, definitions
named exactly by a request word. (Measured: none above the yardstick; not shipped.
docs/search-rounds.md, 2026-12-06, small hours.)

    uv run python scripts/test_module_features.py                  # every variant, LORO table
    uv run python scripts/test_module_features.py base "code chunks best"
    uv run python scripts/test_module_features.py --count          # test-module chunks per corpus

Each variant adds columns to `train_ranker.py`'s 28 features (or replaces one), per candidate
file, on the rows `train_ranker.py features` keeps (through `window_features.collect`); the
table is commits MRR@10 per held-out corpus and ripgrep's fitted on its own rows
(`miss_features.print_held_out`).

- Test module: a chunk of a code file inside a test module or a test function (Rust's
  `#[cfg(test)] mod tests { ... }`, a `#[test]` function, a Python `test_` function or `Test`
  class in a source file): its scope or name is `test`/`tests`, or `test_...`/`Test...`, or it
  carries the `#[cfg(test)]`/`#[test]` attribute. Columns: the best chunk's BM25 over the
  chunks outside test modules (rel), as a column or in place of `chunk_best`; file BM25 over
  them (the file's counts and length less its test chunks', rel), as a column or in place of
  `file_bm25`; the share of the file's chunk BM25 in its test chunks; whether its best chunk
  is one.
- The rarest term: whether the file's path, or the names it defines, hold the request's term
  of highest IDF (among the terms some file holds), or the IDF of the rarest request term
  they hold over the request's highest (the maximum, against `path` and `names`' sums).
- Exact names: the IDF-weighted share of the request's terms that the file defines as a whole
  name (a definition whose name is that term: `escape` for "escape", not `escape_bytes`;
  `escape_bytes` for a written `escape_bytes`), case-blind, against `names` (any definition
  holding the word).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import window_features as wf
from miss_features import _rel, print_held_out
from ranker_corpora import (
    corpus_history,
    corpus_parser,
    corpus_root,
    indexed_with_history,
    manifest_corpora,
)

from ocp_server.index.arrays import Floats, Ints
from ocp_server.index.file_kinds import FileClass
from ocp_server.index.hits import K1, bm25_postings, doc_sums, gather, length_norm
from ocp_server.index.lexicon import name_hash, term_hash, terms, unpack_text
from ocp_server.index.query import Query

_TEST_NAME = re.compile(r"^(?:tests?|test_\w*|Test\w*)$")
_TEST_ATTRIBUTE = re.compile(r"#\[(?:cfg\(test\)|test)\]")


@dataclass
class Corpus(wf.Corpus):
    in_test: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    #: per file: the whole-name terms of its definitions (first term of each symbol)
    whole_names: dict[int, set[str]] = field(default_factory=dict)


def _in_test(symbol: str | None, scope: str | None, text: str) -> bool:
    parts = re.split(r"\W+", f"{scope or ''} {symbol or ''}")
    if any(_TEST_NAME.match(p) for p in parts if p):
        return True
    return _TEST_ATTRIBUTE.search(text) is not None


async def _corpus(
    entry: dict[str, str], root: Path, mirrors: Path
) -> tuple[Corpus, dict[str, int]]:
    commits = corpus_history(entry, mirrors)
    async with indexed_with_history(root, commits) as index:
        snap = await index.snapshot()
        cursor = await index.db.execute(
            "SELECT c.start_line, c.end_line, c.kind, c.symbol, c.scope, c.text FROM chunks c"
            " JOIN files f ON f.id = c.file_id WHERE c.terms IS NOT NULL"
            " AND f.skip_reason IS NULL ORDER BY c.file_id, c.start_line"
        )
        got = list(await cursor.fetchall())
    assert len(got) == snap.n_chunks, (len(got), snap.n_chunks)
    lines = np.array([r[:2] for r in got], dtype=np.int64).reshape(-1, 2)
    kinds = np.array([str(r[2] or "") for r in got])
    code = snap.file_class[snap.chunk_file] == FileClass.CODE
    in_test = np.array([_in_test(r[3], r[4], unpack_text(r[5])) for r in got]) & code
    whole: dict[int, set[str]] = {}
    for i, r in enumerate(got):
        if r[3] and snap.chunk_defines[i]:
            t = terms(str(r[3]))
            if t:
                whole.setdefault(int(snap.chunk_file[i]), set()).add(t[0])
    c = Corpus(snap, root, lines, kinds, in_test=in_test, whole_names=whole)
    return c, {cm.hash: cm.time for cm in commits}


def _query(q: Query) -> tuple[tuple[str, ...], list[int], Floats]:
    term_list = tuple(q.counts)
    qtf = np.array([q.counts[t] for t in term_list], dtype=np.float64)
    return term_list, [term_hash(t) for t in term_list], qtf


def chunk_scores(c: Corpus, q: Query) -> Floats:
    _, keys, qtf = _query(q)
    h = gather(c.snap.chunk_body, keys, c.snap.n_chunks)
    post = bm25_postings(h, qtf * h.idf, length_norm(c.snap, "chunk", 0.75))
    return doc_sums(h.docs, post, c.snap.n_chunks)


def code_chunk_best(c: Corpus, q: Query) -> Floats:
    """Per file: the best chunk's BM25 among its chunks outside test modules."""
    score = np.where(c.in_test, 0.0, chunk_scores(c, q))
    out = np.zeros(c.snap.n_files)
    np.maximum.at(out, c.snap.chunk_file, score)
    return out


def test_share(c: Corpus, q: Query) -> Floats:
    """Per file: the share of its chunks' BM25 that its test-module chunks hold."""
    score = chunk_scores(c, q)
    n = c.snap.n_files
    total = doc_sums(c.snap.chunk_file, score, n)
    tested = doc_sums(c.snap.chunk_file, score * c.in_test, n)
    return np.where(total > 0, tested / np.maximum(total, 1e-12), 0.0)


def best_is_test(c: Corpus, q: Query) -> Floats:
    """Per file: whether its best chunk is in a test module."""
    score = chunk_scores(c, q)
    best = code_chunk_best(c, q)
    every = np.zeros(c.snap.n_files)
    np.maximum.at(every, c.snap.chunk_file, score)
    return ((every > best) & (every > 0)).astype(np.float64)


def code_file_bm25(c: Corpus, q: Query) -> Floats:
    """Per file: BM25 of the file as one document with its test-module chunks left out (their
    term counts and their share of its length)."""
    snap = c.snap
    _, keys, qtf = _query(q)
    fh = gather(snap.file_body, keys, snap.n_files)  # the IDF as the file table's
    ch = gather(snap.chunk_body, keys, snap.n_chunks)
    keep = ~c.in_test[ch.docs]
    n_terms = len(keys)
    owner = snap.chunk_file[ch.docs].astype(np.int64)
    cell = owner * n_terms + ch.term
    tf = np.bincount(cell[keep], weights=ch.counts[keep], minlength=snap.n_files * n_terms)
    length = doc_sums(snap.chunk_file, snap.chunk_length.astype(np.float64), snap.n_files)
    kept = doc_sums(snap.chunk_file, snap.chunk_length * ~c.in_test, snap.n_files)
    share = np.where(length > 0, kept / np.maximum(length, 1e-9), 1.0)
    norm = K1 * (0.25 + 0.75 * snap.file_len * share)
    tf = tf.reshape(snap.n_files, n_terms)
    w = qtf * fh.idf
    out: Floats = (w * tf * (K1 + 1.0) / (tf + norm[:, None])).sum(axis=1)
    return out


def rarest_in(c: Corpus, q: Query, table: str, how: str) -> Floats:
    """Per file: whether its path / names / either hold the request's rarest term ("holds"),
    or the highest IDF of a request term they hold over the request's highest ("max idf")."""
    snap = c.snap
    term_list, keys, _ = _query(q)
    fh = gather(snap.file_body, keys, snap.n_files)
    idf = np.where(fh.df > 0, fh.idf, 0.0)
    if not len(idf) or idf.max() <= 0:
        return np.zeros(snap.n_files)
    out = np.zeros(snap.n_files)
    # the names table is keyed by `name_hash`, the path table by `term_hash`
    path = (snap.file_path, keys)
    names = (snap.file_names, [name_hash(t) for t in term_list])
    for post, post_keys in (
        [path, names] if table == "either" else [path if table == "path" else names]
    ):
        h = gather(post, post_keys, snap.n_files)
        if how == "holds":
            v = (h.term == int(np.argmax(idf))).astype(np.float64)
            out = np.maximum(out, doc_sums(h.docs, v, snap.n_files))
        else:
            m = np.zeros(snap.n_files)
            np.maximum.at(m, h.docs, idf[h.term] / idf.max())
            out = np.maximum(out, m)
    return np.minimum(out, 1.0)


def exact_names(c: Corpus, q: Query, how: str) -> Floats:
    """Per file: the IDF-weighted share of the request's terms it defines as a whole name
    ("share"), or whether it defines one of the request's two rarest so ("rare")."""
    snap = c.snap
    term_list, keys, _ = _query(q)
    fh = gather(snap.file_body, keys, snap.n_files)
    idf = np.where(fh.df > 0, fh.idf, 0.0)
    if how == "rare":
        top = set(np.argsort(-idf)[:2].tolist())
        idf = np.array([v if i in top else 0.0 for i, v in enumerate(idf)])
    w = idf / max(float(idf.sum()), 1e-9)
    out = np.zeros(snap.n_files)
    for f, names in c.whole_names.items():
        out[f] = sum(w[i] for i, t in enumerate(term_list) if t in names)
    return out


def _col(fn: Callable[..., Floats], *args: object, rel: bool = True) -> wf.Column:
    def column(c: Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        v = fn(c, q, *args)[cand]
        return _rel(v) if rel else v

    return column  # type: ignore[return-value]


VARIANTS: dict[str, tuple[list[wf.Column], tuple[str, ...]]] = {
    "base": ([], ()),
    "code chunks best": ([_col(code_chunk_best)], ()),
    "code chunks best, in place of chunk_best": ([_col(code_chunk_best)], ("chunk_best",)),
    "code file bm25": ([_col(code_file_bm25)], ()),
    "code file bm25, in place of file_bm25": ([_col(code_file_bm25)], ("file_bm25",)),
    "test-module share": ([_col(test_share, rel=False)], ()),
    "best chunk in a test module": ([_col(best_is_test, rel=False)], ()),
    "code chunks best and file bm25, in place": (
        [_col(code_chunk_best), _col(code_file_bm25)],
        ("chunk_best", "file_bm25"),
    ),
    "rarest term in path": ([_col(rarest_in, "path", "holds", rel=False)], ()),
    "rarest term in names": ([_col(rarest_in, "names", "holds", rel=False)], ()),
    "rarest term in path or names": ([_col(rarest_in, "either", "holds", rel=False)], ()),
    "max IDF held in path or names": ([_col(rarest_in, "either", "max idf", rel=False)], ()),
    "max IDF held in path, in names (two)": (
        [
            _col(rarest_in, "path", "max idf", rel=False),
            _col(rarest_in, "names", "max idf", rel=False),
        ],
        (),
    ),
    "exact names share": ([_col(exact_names, "share", rel=False)], ()),
    "exact names, the two rarest": ([_col(exact_names, "rare", rel=False)], ()),
    # picked after seeing the rows above (flattered): the three best single columns
    "the three best: code file bm25 in place, rarest term in names, exact names share": (
        [
            _col(code_file_bm25),
            _col(rarest_in, "names", "holds", rel=False),
            _col(exact_names, "share", rel=False),
        ],
        ("file_bm25",),
    ),
}


def count_report(cache: Path, mirrors: Path) -> None:
    entries = manifest_corpora()
    print("| corpus | code files | with a test module | code chunks | in test modules |")
    print("|---|---|---|---|---|")
    for entry in entries:
        c, _ = asyncio.run(_corpus(entry, corpus_root(entry, cache), mirrors))
        code = c.snap.file_class == FileClass.CODE
        files = np.unique(c.snap.chunk_file[c.in_test])
        n_code_chunks = int(code[c.snap.chunk_file].sum())
        print(
            f"| {entry['name']} | {int(code.sum())} | {len(files)} | {n_code_chunks} |"
            f" {int(c.in_test.sum())} |",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = corpus_parser(__doc__, VARIANTS)
    parser.add_argument("--count", action="store_true", help="test-module chunks per corpus")
    args = parser.parse_args(argv)
    if args.count:
        count_report(args.cache, args.mirrors)
        return 0
    wf._corpus = _corpus  # collect() indexes through it
    print_held_out(args.variants or list(VARIANTS), VARIANTS, args.cache, args.mirrors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
