"""Does a file's neighbours' score for the query help rank it? (Measured: no; not shipped.)

    uv run python scripts/neighbour_scores.py              # every variant, LORO table
    uv run python scripts/neighbour_scores.py base "partner max"   # some of them

A commit often changes a file and its neighbours: its test, the files that use what it defines
or that it uses, its folder's index file (mod.rs, __init__.py, index.ts). Each variant adds
columns to `train_ranker.py`'s 28 features: per candidate, the best (or mean) score among its
neighbours that are candidates of the same query, where the score is the first stage (file
plus best-chunk BM25, both rel, halved) or, "stacked", the base model's softmax probability
with weights fitted without the file's own corpus (or exp of its score less the query's
best). The rows are recomputed as `train_ranker.py features` keeps them (checked equal to
`tests/data/ranker_features.npz` before anything is added), and the table is commits MRR@10
per held-out corpus. The figures are in docs/search-rounds.md (2026-12-05): no variant above
the base (0.8179) by more than the yardstick (0.0027), most below it.

The neighbours, from the paths and the texts on disk (nothing here is in the index):
- partner: the same stem less a test affix (`termui.py`, `test_termui.py`, `foo_test.go`,
  `foo.test.ts`), groups of at most GROUP_MAX, index files and common stems left out;
- stem: the same file stem in another folder (`src/foo.rs`, `tests/foo.rs`), the same limits;
- index: a folder's index file and the other files of the folder, both ways; index_heads:
  the index file gets its folder's files, one way (2026-12-07);
- declares: a file gets the modules it declares or re-exports (`mod x;`, `pub use x::`,
  `from .x import`, `from './x'`, `require('./x')`), one way (2026-12-07: no variant above
  the base either, docs/search-rounds.md);
- refs_out / refs_in: g refers to f when g's text holds an identifier f defines (a definition
  chunk's symbol of 4+ characters defined in at most 2 files and written in at most
  max(10, files / 20) files);
- tests_of_code / code_of_test: partner or stem, from test files to code files or back.
"""

from __future__ import annotations

import asyncio
import json
import posixpath
import re
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
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
from train_ranker import NEGATIVES, SETS, Data, fit, mrr_at_10

from ocp_server.index.arrays import Floats
from ocp_server.index.features import FEATURES, candidate_features
from ocp_server.index.file_kinds import FileClass, file_stem
from ocp_server.index.history import Commit
from ocp_server.index.lexical import Snapshot
from ocp_server.index.query import parse_query
from ocp_server.index.ranking import QUERY_KINDS, query_kinds

Graph = list[set[int]]
FILE_BM25, CHUNK_BEST = FEATURES.index("file_bm25"), FEATURES.index("chunk_best")
INDEX_NAMES = frozenset({"__init__", "mod", "lib", "index", "main", "doc"})
COMMON_STEMS = INDEX_NAMES | {"conftest", "readme", "setup", "types", "utils", "test", "tests"}
GROUP_MAX = 6
_TEST_AFFIX = re.compile(r"^(?:test_|tests_)|(?:_test|_tests|_spec|\.test|\.spec)$")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Query:
    text: str
    qset: str
    regime: int
    kinds: npt.NDArray[np.bool_]
    cand: npt.NDArray[np.int64]
    x: Floats
    labels: npt.NDArray[np.bool_]


@dataclass
class Corpus:
    paths: tuple[str, ...]
    graphs: dict[str, Graph]
    queries: list[Query]


# ---- the corpora, indexed as `train_ranker.py features` does ------------------------------
async def _indexed(root: Path, commits: list[Commit]) -> tuple[Snapshot, list[tuple[str, str]]]:
    """The snapshot, and each definition chunk's (path, symbol)."""
    async with indexed_with_history(root, commits) as index:
        snap = await index.snapshot()
        cursor = await index.db.execute(
            "SELECT f.path, c.symbol FROM chunks c JOIN files f ON f.id = c.file_id "
            "WHERE c.symbol IS NOT NULL"
        )
        symbols = [(str(p), str(s)) for p, s in await cursor.fetchall()]
        return snap, symbols


#: A module a file declares or re-exports by a relative name: Rust `mod x;` / `pub use x::...`
#: / `pub use self::x::...`, Python `from .x import`, JS/TS `export ... from './x'`,
#: `import ... from './x'`, `require('./x')`.
_DECLARED = {
    ".rs": re.compile(
        r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:mod\s+(\w+)\s*;|use\s+(?:self::|crate::)?(\w+)::)",
        re.M,
    ),
    ".py": re.compile(r"^\s*from\s+\.(\w+)(?:\.\w+)*\s+import\b", re.M),
    ".js": re.compile(r"""(?:from\s+|require\(\s*)['"]\./([\w./-]+)['"]"""),
}
_DECLARED[".ts"] = _DECLARED[".tsx"] = _DECLARED[".mjs"] = _DECLARED[".js"]
_CHILD_FORMS = {
    ".rs": ("{}.rs", "{}/mod.rs"),
    ".py": ("{}.py", "{}/__init__.py"),
    ".js": ("{}", "{}.js", "{}.ts", "{}.tsx", "{}.mjs", "{}/index.js", "{}/index.ts"),
}


def declared(paths: tuple[str, ...], texts: list[str]) -> Graph:
    """Per file: the files of the modules it declares or re-exports (`_DECLARED`), resolved
    beside it (a Rust `foo.rs` declares into `foo/`); one direction, declarer -> module."""
    at = {p: i for i, p in enumerate(paths)}
    out: Graph = [set() for _ in paths]
    for i, (p, text) in enumerate(zip(paths, texts, strict=True)):
        ext = posixpath.splitext(p)[1]
        pattern = _DECLARED.get(ext)
        if pattern is None:
            continue
        here = posixpath.dirname(p)
        if ext == ".rs" and file_stem(p) not in {"lib", "main", "mod"}:
            here = posixpath.join(here, file_stem(p))
        forms = _CHILD_FORMS.get(ext, _CHILD_FORMS[".js"])
        for m in pattern.finditer(text):
            name = next(g for g in m.groups() if g)
            for form in forms:
                j = at.get(posixpath.normpath(posixpath.join(here, form.format(name))))
                if j is not None and j != i:
                    out[i].add(j)
                    break
    return out


def _partner_key(path: str) -> str:
    stem = file_stem(path)
    return path if stem in COMMON_STEMS else _TEST_AFFIX.sub("", stem)


def _groups(paths: tuple[str, ...], key: Callable[[str], str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(paths):
        out[key(p)].append(i)
    return out


def graphs(
    paths: tuple[str, ...],
    classes: npt.NDArray[np.int8],
    symbols: list[tuple[str, str]],
    identifiers: list[set[str]],
    texts: list[str] | None = None,
) -> dict[str, Graph]:
    n = len(paths)
    partners = _groups(paths, _partner_key)
    partner = [
        set(partners[_partner_key(p)]) - {i}
        if len(partners[_partner_key(p)]) <= GROUP_MAX
        else set()
        for i, p in enumerate(paths)
    ]
    stems = _groups(paths, file_stem)
    stem: Graph = []
    for p in paths:
        same = stems[file_stem(p)]
        keep = file_stem(p) not in COMMON_STEMS and len(same) <= GROUP_MAX
        here = posixpath.dirname(p)
        stem.append({j for j in same if posixpath.dirname(paths[j]) != here} if keep else set())
    index: Graph = [set() for _ in range(n)]
    for members in _groups(paths, posixpath.dirname).values():
        for head in (i for i in members if file_stem(paths[i]) in INDEX_NAMES):
            for m in members:
                if m != head:
                    index[head].add(m)
                    index[m].add(head)
    at = {p: i for i, p in enumerate(paths)}
    defined: dict[str, set[int]] = defaultdict(set)
    for p, symbol in symbols:
        if p in at and len(symbol) >= 4 and _IDENTIFIER.fullmatch(symbol):
            defined[symbol].add(at[p])
    holders: dict[str, int] = defaultdict(int)
    for words in identifiers:
        for w in words:
            holders[w] += 1
    usable = {s: fs for s, fs in defined.items() if len(fs) <= 2 and holders[s] <= max(10, n // 20)}
    refs_out: Graph = [set() for _ in range(n)]
    refs_in: Graph = [set() for _ in range(n)]
    for g, words in enumerate(identifiers):
        for w in words & usable.keys():
            for f in usable[w] - {g}:
                refs_out[g].add(f)
                refs_in[f].add(g)
    refs = [a | b for a, b in zip(refs_out, refs_in, strict=True)]
    named = [a | b for a, b in zip(partner, stem, strict=True)]
    code, test = FileClass.CODE, FileClass.TEST
    index_heads: Graph = [
        index[i] if file_stem(p) in INDEX_NAMES else set() for i, p in enumerate(paths)
    ]
    declares = declared(paths, texts) if texts is not None else [set() for _ in paths]
    return {
        "index_heads": index_heads,
        "declares": declares,
        "partner": partner,
        "stem": stem,
        "index": index,
        "refs_out": refs_out,
        "refs_in": refs_in,
        "refs": refs,
        "all": [a | b | c | d for a, b, c, d in zip(partner, stem, index, refs, strict=True)],
        "tests_of_code": [
            {j for j in named[i] if classes[j] == test} if classes[i] == code else set()
            for i in range(n)
        ],
        "code_of_test": [
            {j for j in named[i] if classes[j] == code} if classes[i] == test else set()
            for i in range(n)
        ],
        "code_refs": [
            {j for j in refs[i] if classes[j] == code} if classes[i] == code else set()
            for i in range(n)
        ],
    }


async def load_corpus(entry: dict[str, str], root: Path, mirrors: Path) -> Corpus:
    commits = corpus_history(entry, mirrors)
    when = {c.hash: c.time for c in commits}
    snapshot_time = max(when.values(), default=0) + 1
    snap, symbols = await _indexed(root, commits)
    identifiers, texts = [], []
    for p in snap.paths:
        try:
            texts.append((root / p).read_text("utf-8", "replace"))
        except OSError:
            texts.append("")
        identifiers.append(set(_IDENTIFIER.findall(texts[-1])))
    queries = []
    for qset in SETS:
        for line in (BENCH / "queries" / f"{entry['name']}.{qset}.jsonl").read_text().splitlines():
            q = json.loads(line)
            relevant = set(q["relevant_files"])
            for regime in (0, 1) if commits else (0,):
                as_of = when.get(q.get("commit", ""), snapshot_time) if regime else 0
                query = parse_query(q["query"])
                cand, x, *_ = candidate_features(snap, query, as_of=as_of)
                labels = np.array([snap.paths[i] in relevant for i in cand], dtype=bool)
                kinds = query_kinds(query, x)
                queries.append(Query(q["query"], qset, regime, kinds, cand, x, labels))
    classes = np.asarray(snap.file_class)
    return Corpus(snap.paths, graphs(snap.paths, classes, symbols, identifiers, texts), queries)


# ---- the columns and the table ------------------------------------------------------------
def neighbour_column(cand: npt.NDArray[np.int64], score: Floats, graph: Graph, how: str) -> Floats:
    """Per candidate: the best / mean score of its neighbours among the candidates, whether one
    is among the query's three best, or the log of how many there are."""
    position = {int(f): k for k, f in enumerate(cand)}
    out = np.zeros(len(cand))
    for k, f in enumerate(cand):
        values = [score[position[j]] for j in graph[int(f)] if j in position]
        if not values:
            continue
        if how == "max":
            out[k] = max(values)
        elif how == "mean":
            out[k] = sum(values) / len(values)
        elif how == "top3":  # a neighbour among the query's three best by the score
            out[k] = float(max(values) >= np.sort(score)[-min(3, len(score))])
        else:  # "count"
            out[k] = np.log1p(len(values))
    return out


Scorer = Callable[[int, Query], Floats]


def first_stage(corpus: int, q: Query) -> Floats:
    return np.asarray((q.x[:, FILE_BM25] + q.x[:, CHUNK_BEST]) / 2, dtype=np.float64)


def design(q: Query) -> Floats:
    """`Data`'s design for one query's candidates: the features, then again per query kind."""
    return np.hstack([q.x] + [q.x * float(q.kinds[j]) for j in range(len(QUERY_KINDS))])


def build(
    corpora: list[Corpus],
    columns: list[tuple[str, str]],
    scorer: Scorer,
    extra_columns: Callable[[int, Query], Floats] | None = None,
) -> Data:
    """The kept rows as `train_ranker.py features` keeps them, the variant's columns added
    (and `extra_columns`' own, one row per candidate, for other scripts' variants)."""
    xs, ys, cs, sets, regimes, kinds = [], [], [], [], [], []
    query_ids: list[npt.NDArray[np.int64]] = []
    for c, corpus in enumerate(corpora):
        for q in corpus.queries:
            first = q.x[:, FILE_BM25] + q.x[:, CHUNK_BEST]
            negatives = np.flatnonzero(~q.labels)
            keep = np.concatenate(
                [np.flatnonzero(q.labels), negatives[np.argsort(-first[negatives])[:NEGATIVES]]]
            )
            x = q.x[keep].astype(np.float16).astype(np.float64)
            if columns:
                score = scorer(c, q)
                extra = [neighbour_column(q.cand, score, corpus.graphs[g], h) for g, h in columns]
                x = np.hstack([x, np.stack(extra, 1)[keep]])
            if extra_columns is not None:
                x = np.hstack([x, extra_columns(c, q)[keep]])
            xs.append(x)
            ys.append(q.labels[keep])
            n = len(keep)
            query_ids.append(np.full(n, len(query_ids)))
            cs.append(np.full(n, c))
            sets.append(np.full(n, SETS.index(q.qset)))
            regimes.append(np.full(n, q.regime))
            kinds.append(np.repeat(q.kinds[None, :].astype(np.float64), n, 0))
    data = Data.__new__(Data)
    x, k = np.concatenate(xs), np.concatenate(kinds)
    data.x = np.hstack([x] + [x * k[:, [j]] for j in range(len(QUERY_KINDS))])
    data.y = np.concatenate(ys).astype(np.float64)
    data.query = np.concatenate(query_ids)
    data.corpus = np.concatenate(cs)
    data.qset = np.concatenate(sets)
    data.regime = np.concatenate(regimes)
    data.corpora = []
    return data


def loro_commits(data: Data, n_corpora: int) -> list[float]:
    out = []
    for c in range(n_corpora):
        w = fit(*data.subset(data.corpus != c))
        held = (data.corpus == c) & (data.qset == SETS.index("commits")) & (data.regime == 0)
        out.append(mrr_at_10(*data.subset(held), w))
    return out


def stacked_scorer(corpora: list[Corpus], to_best: bool = False) -> Scorer:
    """The base model's softmax probability over a query's candidates, with the weights fitted
    without the file's own corpus (they saw the held-out corpus when the file's corpus is a
    training one: a mild leak in the variant's favour); `to_best`: exp(s - the query's best s)."""
    base = build(corpora, [], first_stage)
    weights = [fit(*base.subset(base.corpus != c)) for c in range(len(corpora))]

    def probability(corpus: int, q: Query) -> Floats:
        s = design(q) @ weights[corpus]
        e = np.exp(s - s.max())
        return np.asarray(e if to_best else e / e.sum(), dtype=np.float64)

    return probability


#: label: (columns, scorer: "" first stage, "p" stacked probability, "best" stacked to best)
VARIANTS: dict[str, tuple[list[tuple[str, str]], str]] = {
    "base": ([], ""),
    "partner max": ([("partner", "max")], ""),
    "stem max": ([("stem", "max")], ""),
    "index max": ([("index", "max")], ""),
    "refs_out max": ([("refs_out", "max")], ""),
    "refs_in max": ([("refs_in", "max")], ""),
    "refs max": ([("refs", "max")], ""),
    "refs mean": ([("refs", "mean")], ""),
    "all max": ([("all", "max")], ""),
    "all mean": ([("all", "mean")], ""),
    "partner, index, refs max": ([("partner", "max"), ("index", "max"), ("refs", "max")], ""),
    "tests_of_code max": ([("tests_of_code", "max")], ""),
    "code_of_test max": ([("code_of_test", "max")], ""),
    "tests_of_code, code_of_test max": (
        [("tests_of_code", "max"), ("code_of_test", "max")],
        "",
    ),
    "code_refs max": ([("code_refs", "max")], ""),
    "all count": ([("all", "count")], ""),
    "stacked: all max": ([("all", "max")], "p"),
    "stacked: refs max": ([("refs", "max")], "p"),
    "stacked: partner max": ([("partner", "max")], "p"),
    "all top3": ([("all", "top3")], ""),
    "stacked to best: all max": ([("all", "max")], "best"),
    # 2026-12-07: the file declaring or re-exporting a module gets that module's score
    "index heads max": ([("index_heads", "max")], ""),
    "declares max": ([("declares", "max")], ""),
    "stacked: declares max": ([("declares", "max")], "p"),
    "stacked to best: partner, index, refs max": (
        [("partner", "max"), ("index", "max"), ("refs", "max")],
        "best",
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = corpus_parser(__doc__, VARIANTS)
    args = parser.parse_args(argv)
    entries = manifest_corpora()
    names = [str(e["name"]) for e in entries]
    corpora = []
    for entry in entries:
        root = corpus_root(entry, args.cache)
        corpora.append(asyncio.run(load_corpus(entry, root, args.mirrors)))
        print(f"{entry['name']}: indexed", file=sys.stderr, flush=True)
    scorers: dict[str, Scorer] = {"": first_stage}
    print("| variant | " + " | ".join(names) + " | mean |")
    print("|---" * (len(names) + 2) + "|")
    for label in args.variants or list(VARIANTS):
        columns, kind = VARIANTS[label]
        if kind not in scorers:
            scorers[kind] = stacked_scorer(corpora, to_best=kind == "best")
        r = loro_commits(build(corpora, columns, scorers[kind]), len(corpora))
        row = " | ".join(f"{v:.3f}" for v in r)
        print(f"| {label} | {row} | {np.mean(r):.4f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
