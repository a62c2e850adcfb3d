"""A file's import lines apart from its own code, the names of its public definitions, and
where it sits (a folder's index file, its depth, its folder's size). (Measured: none above the
yardstick; not shipped. docs/search-rounds.md, 2026-12-07, morning.)

    uv run python scripts/import_features.py                  # every variant, LORO table
    uv run python scripts/import_features.py base "imports out of file bm25"

A hub imports many modules, and each import names one (`use crate::stats::Stats;`,
`from .core import Option`, `import { Context } from './context'`, `mod stats;`): the request's
word "stats" then counts in every file that only imports `stats` as in the one that is it.
Each variant adds columns to `train_ranker.py`'s 28 features (or replaces one), per candidate
file, on the rows `train_ranker.py features` keeps (through `window_features.collect`); the
table is commits MRR@10 per held-out corpus and ripgrep's fitted on its own rows
(`miss_features.print_held_out`).

- Import lines: a statement that starts a line with `use`, `pub use`, `pub(crate) use`,
  `mod x;`, `extern crate` (Rust), `import` / `from x import` (Python, JS/TS, Go's `import`
  and its `( ... )` block), `export ... from`, or holds `require(`; it runs on to the line that
  closes its brackets (a `use x::{...}` or `from x import (...)` over several lines).
- imports out of file BM25: the file's BM25 with the terms on its import lines taken out of
  its counts and its length, rel; as a column or in place of `file_bm25`;
- imports out of the best chunk: the same for each chunk (its import lines), the best, rel;
- import-only share: the IDF share of the request's terms that the file holds only on import
  lines (it names them, it does not use them in its own code);
- index file: a folder's index file (`lib.rs`, `main.rs`, `mod.rs`, `__init__.py`,
  `__main__.py`, `index.*`, `main.go`, `doc.go`) as a class column, alone or times `path`
  (the request names its folder).
- public names: `names` (the request's terms among the names of the file's definitions) over
  its public definitions only, by its language's rule (Rust `pub`, Go a capital, Python no
  leading underscore, JS/TS `export` or a class member not `private`), and over its private
  ones: what a request names is more often a module's surface than its helpers;
- path depth, files beside it: log(1 + the folders above the file), log(1 + the other indexed
  files in its folder): priors of where a file sits, the same for every query.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import numpy.typing as npt
import window_features as wf
from miss_features import _rel, print_held_out
from ranker_corpora import (
    corpus_history,
    corpus_parser,
    indexed_with_history,
)

from ocp_server.index.arrays import Floats, Ints
from ocp_server.index.features import FEATURES
from ocp_server.index.file_kinds import FileClass
from ocp_server.index.hits import K1, doc_sums, gather
from ocp_server.index.lexicon import name_hash, term_hash, terms, unpack_text
from ocp_server.index.query import Query

_IMPORT = re.compile(
    r"^\s*(?:(?:pub(?:\([^)]*\))?\s+)?use\s|(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*;|extern\s+crate\s"
    r"|import\b|from\s+[\w.]+\s+import\b|export\s.*\bfrom\s)"
    r"|\brequire\(\s*['\"]"
)
_INDEX_STEMS = {"lib", "main", "mod", "__init__", "__main__", "index", "doc"}


_ATTRIBUTE_OR_COMMENT = re.compile(r"^\s*(?:#\[|//|/\*|\*|#|@|\"\"\"|$)")


def _is_public(path: str, symbol: str | None, text: str) -> bool:
    """Whether a defining chunk's definition is visible outside its module, by its language's
    rule: Rust and Go's own (`pub`, a capital), Python's (no leading underscore), JS/TS's
    (`export`, or a class member that is not `private` or `#`)."""
    name = (symbol or "").rsplit(".", 1)[-1]
    suffix = PurePosixPath(path).suffix
    if suffix == ".go":
        return name[:1].isupper()
    if suffix == ".py":
        return not name.startswith("_") or name.endswith("__")
    head = next((ln.strip() for ln in text.split("\n") if not _ATTRIBUTE_OR_COMMENT.match(ln)), "")
    if suffix == ".rs":
        return head.startswith("pub ") or head.startswith("pub(crate)")
    if suffix in (".ts", ".tsx", ".js", ".mjs", ".cjs", ".jsx"):
        if head.startswith("export"):
            return True
        return "." in (symbol or "") and not head.startswith(("private", "#"))
    return True


def import_lines(text: str) -> set[int]:
    """The 1-based numbers of the lines of `text` inside import statements."""
    out: set[int] = set()
    depth = 0
    for n, line in enumerate(text.split("\n"), start=1):
        if depth > 0 or _IMPORT.search(line):
            out.add(n)
            depth = max(0, depth + line.count("{") + line.count("(") - line.count("}"))
            depth = max(0, depth - line.count(")"))
    return out


@dataclass
class Corpus(wf.Corpus):
    #: per file: the term counts on its import lines, and their number of terms
    file_imports: list[Counter[str]] = field(default_factory=list)
    #: per chunk: the same for the chunk's lines
    chunk_imports: list[Counter[str]] = field(default_factory=list)
    index_file: Floats = field(default_factory=lambda: np.zeros(0))
    #: per file: log(1 + its folders' number), log(1 + the indexed files beside it)
    depth: Floats = field(default_factory=lambda: np.zeros(0))
    folder_size: Floats = field(default_factory=lambda: np.zeros(0))
    #: per chunk: it defines something public (`_is_public`)
    public: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    #: per chunk: its symbol as stored ("" for none), for `reference_columns.py`
    chunk_symbol: list[str] = field(default_factory=list)


async def _corpus(
    entry: dict[str, str], root: Path, mirrors: Path
) -> tuple[Corpus, dict[str, int]]:
    commits = corpus_history(entry, mirrors)
    async with indexed_with_history(root, commits) as index:
        snap0 = await index.snapshot()
        cursor = await index.db.execute(
            "SELECT c.start_line, c.end_line, c.kind, c.symbol, c.text FROM chunks c"
            " JOIN files f ON f.id = c.file_id WHERE c.terms IS NOT NULL"
            " AND f.skip_reason IS NULL ORDER BY c.file_id, c.start_line"
        )
        got = list(await cursor.fetchall())
    assert len(got) == snap0.n_chunks, (len(got), snap0.n_chunks)
    c = wf.Corpus(
        snap0,
        root,
        np.array([r[:2] for r in got], dtype=np.int64).reshape(-1, 2),
        np.array([str(r[2] or "") for r in got]),
    )
    when = {cm.hash: cm.time for cm in commits}
    public = np.array(
        [
            bool(snap0.chunk_defines[i])
            and _is_public(snap0.paths[int(snap0.chunk_file[i])], r[3], unpack_text(r[4]))
            for i, r in enumerate(got)
        ]
    )
    snap = c.snap
    file_imports: list[Counter[str]] = []
    lines_of: list[dict[int, list[str]]] = []
    for f, p in enumerate(snap.paths):
        counts: Counter[str] = Counter()
        at: dict[int, list[str]] = {}
        if snap.file_class[f] in (FileClass.CODE, FileClass.TEST, FileClass.AUX):
            try:
                text = (root / p).read_text("utf-8", errors="replace")
            except OSError:
                text = ""
            split = text.split("\n")
            for n in import_lines(text):
                t = terms(split[n - 1])
                at[n] = t
                counts.update(t)
        file_imports.append(counts)
        lines_of.append(at)
    chunk_imports: list[Counter[str]] = []
    for i in range(snap.n_chunks):
        at = lines_of[int(snap.chunk_file[i])]
        counts = Counter()
        if at:
            lo, hi = (int(v) for v in c.chunk_lines[i])
            for n, t in at.items():
                if lo <= n <= hi:
                    counts.update(t)
        chunk_imports.append(counts)
    index_files = np.array([PurePosixPath(p).stem in _INDEX_STEMS for p in snap.paths], dtype=float)
    index_files *= np.isin(snap.file_class, [FileClass.CODE, FileClass.AUX])
    folders = [str(PurePosixPath(p).parent) for p in snap.paths]
    size = Counter(folders)
    depth = np.log1p([len(PurePosixPath(p).parts) - 1 for p in snap.paths])
    folder_size = np.log1p([size[d] - 1 for d in folders])
    out = Corpus(
        snap,
        root,
        c.chunk_lines,
        c.chunk_kind,
        file_imports=file_imports,
        chunk_imports=chunk_imports,
        index_file=index_files,
        depth=depth,
        folder_size=folder_size,
        public=public,
        chunk_symbol=[str(r[3] or "") for r in got],
    )
    return out, when


def _less_imports(
    c: Corpus,
    q: Query,
    table: str,
) -> tuple[Floats, Floats]:
    """Per document of `table` (file or chunk): BM25 without its import lines' terms, and the
    IDF share of the request's terms it holds only there."""
    snap = c.snap
    term_list = tuple(q.counts)
    keys = [term_hash(t) for t in term_list]
    qtf = np.array([q.counts[t] for t in term_list], dtype=np.float64)
    if table == "file":
        post, n, length, imports = snap.file_body, snap.n_files, snap.file_len, c.file_imports
        avg = 1.0  # file_len is already over the mean (length_norm's form)
    else:
        post, n, imports = snap.chunk_body, snap.n_chunks, c.chunk_imports
        length = snap.chunk_length.astype(np.float64)
        avg = max(float(length.mean()), 1.0)
    h = gather(post, keys, n)
    removed = np.array(
        [imports[int(d)][term_list[int(t)]] for d, t in zip(h.docs, h.term, strict=True)]
    )
    tf = np.maximum(h.counts - removed, 0.0)
    cut = np.array([sum(m.values()) for m in imports], dtype=np.float64)
    if table == "file":
        raw = doc_sums(snap.chunk_file, snap.chunk_length.astype(np.float64), snap.n_files)
        share = np.where(raw > 0, np.maximum(raw - cut, 0.0) / np.maximum(raw, 1e-9), 1.0)
        norm = K1 * (0.25 + 0.75 * length * share)
    else:
        norm = K1 * (0.25 + 0.75 * np.maximum(length - cut, 0.0) / avg)
    w = qtf[h.term] * h.idf[h.term]
    score = doc_sums(h.docs, w * tf * (K1 + 1.0) / (tf + norm[h.docs]), n)
    idf = np.where(h.df > 0, h.idf, 0.0)
    only = doc_sums(h.docs, idf[h.term] * ((tf == 0) & (h.counts > 0)), n)
    return score, only / max(float(idf.sum()), 1e-9)


def file_less(c: Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    return _rel(_less_imports(c, q, "file")[0][cand])


def import_only(c: Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    return _less_imports(c, q, "file")[1][cand]


def chunk_less(c: Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    score = _less_imports(c, q, "chunk")[0]
    best = np.zeros(c.snap.n_files)
    np.maximum.at(best, c.snap.chunk_file, score)
    return _rel(best[cand])


def public_names(c: Corpus, q: Query, cand: Ints, x: Floats, public: bool) -> Floats:
    """Per candidate: saturated BM25 (as `path`, no length norm) of the request's terms among
    the names of its public (or its private) definitions, rel."""
    snap = c.snap
    term_list = tuple(q.counts)
    qtf = np.array([q.counts[t] for t in term_list], dtype=np.float64)
    h = gather(snap.chunk_names, [name_hash(t) for t in term_list], snap.n_chunks)
    keep = c.public[h.docs] == public
    owner = snap.chunk_file[h.docs[keep]].astype(np.int64)
    cell = owner * len(term_list) + h.term[keep]
    tf = np.bincount(cell, minlength=snap.n_files * len(term_list)).reshape(snap.n_files, -1)
    w = qtf * np.where(h.df > 0, h.idf, 0.0)
    score = (w * tf * (K1 + 1.0) / (tf + K1)).sum(axis=1)
    return _rel(score[cand])


def _names(public: bool) -> wf.Column:
    def column(c: Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        return public_names(c, q, cand, x, public)

    return column  # type: ignore[return-value]


def index_file(c: Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    return c.index_file[cand]


def index_x_path(c: Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    return c.index_file[cand] * x[:, FEATURES.index("path")]


def depth(c: Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    return c.depth[cand]


def folder_size(c: Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    return c.folder_size[cand]


VARIANTS: dict[str, tuple[list[wf.Column], tuple[str, ...]]] = {
    "base": ([], ()),
    "imports out of file bm25": ([file_less], ()),  # type: ignore[list-item]
    "imports out of file bm25, in place of file_bm25": ([file_less], ("file_bm25",)),  # type: ignore[list-item]
    "imports out of the best chunk": ([chunk_less], ()),  # type: ignore[list-item]
    "imports out of the best chunk, in place of chunk_best": ([chunk_less], ("chunk_best",)),  # type: ignore[list-item]
    "both in place": ([file_less, chunk_less], ("file_bm25", "chunk_best")),  # type: ignore[list-item]
    "import-only share": ([import_only], ()),  # type: ignore[list-item]
    "index file": ([index_file], ()),  # type: ignore[list-item]
    "index file, and x path": ([index_file, index_x_path], ()),  # type: ignore[list-item]
    "public names": ([_names(True)], ()),
    "public names, in place of names": ([_names(True)], ("names",)),
    "public and private names, in place of names": ([_names(True), _names(False)], ("names",)),
    "path depth": ([depth], ()),  # type: ignore[list-item]
    "files beside it": ([folder_size], ()),  # type: ignore[list-item]
}


def main(argv: list[str] | None = None) -> int:
    parser = corpus_parser(__doc__, VARIANTS)
    args = parser.parse_args(argv)
    wf._corpus = _corpus  # collect() indexes through it
    print_held_out(args.variants or list(VARIANTS), VARIANTS, args.cache, args.mirrors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
