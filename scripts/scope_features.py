"""The commit's scope, its package, retrievability, path words split in two, as ranker evidence
(docs/search-rounds.md, 2026-12-06, evening). (Measured held out: none kept; the scope is not
in the benchmark's queries. Not shipped.)

    uv run python scripts/scope_features.py                      # every variant, LORO table
    uv run python scripts/scope_features.py base "scope in"
    uv run python scripts/scope_features.py --keep-scopes base "scope in"  # prefixes put back
    uv run python scripts/scope_features.py --scopes             # the commits' scopes
    uv run python scripts/scope_features.py --misses ripgrep     # its held-out misses

Each variant adds columns to `train_ranker.py`'s 28 features (or replaces one), per candidate
file, on the rows `train_ranker.py features` keeps (through `window_features.collect`, both
regimes, doc comments too); the table is commits MRR@10 per held-out corpus and ripgrep's with
weights fitted on its own rows (in sample), as `miss_features.py` prints it:

- scope in / out: the share of the commit subject's scope parts (`printer:`, `fix(jsx/dom):`,
  `ignore/types:`; a type alone, `fix:`, is none) that the file's folders or stem name, and
  "a scope naming some file, but none of this file's". Read from the query's stored
  `raw_subject`, since the benchmark's cleaning removes the prefix from every query
  (`--scopes` prints how often there is one, and where the changed files sit);
  `--keep-scopes` puts the prefix back into each query, as a request that keeps it;
- package: per candidate, from the candidates of its package (the nearest folder holding a
  Cargo.toml, package.json, go.mod, pyproject.toml or setup.py): the best first-pass score
  of the others, the package's share of the candidates' first-pass score, its rank;
- retrievability: how often the file is among the 10 best by file BM25 for 600 pseudo-queries
  made of the rarest terms of 40-line windows of the workspace's own code (not its own
  window's), a count or by 1 / rank: a hub that comes up for anything;
- path words split in two (`pathutil` as path and util) where both parts are common terms of
  the workspace and the whole is not: as a column, or in `path`'s place.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import miss_features as mf
import numpy as np
import window_features as wf
from ranker_corpora import (
    BENCH,
    corpus_parser,
    corpus_root,
    indexed_snapshot,
    manifest_corpora,
)
from request_features import _per_snapshot
from train_ranker import Data, fit

from ocp_server.index.arrays import Floats, Ints
from ocp_server.index.features import FEATURES, candidate_features
from ocp_server.index.file_kinds import FileClass
from ocp_server.index.hits import K1, bm25_postings, doc_sums, gather, length_norm
from ocp_server.index.lexicon import term_hash, terms
from ocp_server.index.query import Query, parse_query
from ocp_server.index.ranking import query_kinds

#: The benchmark's queries have the commit subject's `area:` / `type(scope):` prefix removed
#: (its README, "Cleaning"); the scope columns read it from the stored `raw_subject`, as a
#: server would read it from a request that keeps it: what the scope would give if it came.
_CONVENTIONAL = re.compile(r"^\s*(\w+)\s*\(([^)]{1,40})\)!?:\s")  # fix(jsx/dom):
_PLAIN_SCOPE = re.compile(r"^\s*([\w.,/ -]{1,30}):\s+")  # printer: / ignore/types:
#: Conventional-commit types: a prefix of one of these alone is a kind of change, not a place.
_TYPES = frozenset(
    "fix fixes feat feature chore docs doc test tests refactor perf ci build style revert".split()
)


def _norm(s: str) -> str:
    return re.sub(r"[-_.\s]", "", s.lower())


def raw_prefix(subject: str) -> tuple[str, list[str]]:
    """The subject's prefix as written (`fix(jsx): `, `printer: `, '' if none) and the scope's
    parts, normalised (`ignore/types` -> ignore, types; a type alone (`fix: `) has none)."""
    m = _CONVENTIONAL.match(subject)
    if m:
        scope = m.group(2)
    else:
        m = _PLAIN_SCOPE.match(subject)
        if not m:
            return "", []
        scope = "" if _norm(m.group(1)) in _TYPES else m.group(1)
    parts = [_norm(p) for p in re.split(r"[,/\s]+", scope) if _norm(p)]
    return m.group(0), parts


def _raw_subjects() -> dict[str, str]:
    """Each commit query's text (as `parse_query` keeps it) -> its commit's raw subject."""
    out: dict[str, str] = {}
    for path in sorted((BENCH / "queries").glob("*.commits.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            q = json.loads(line)
            out[parse_query(q["query"]).text] = q["raw_subject"]
    return out


_RAW: dict[str, str] = {}


def scope_parts(q: Query) -> list[str]:
    """The scope's parts: its commit's raw subject's, or as the request writes it (a query
    with the prefix put back, `--keep-scopes`, is not among the stored texts). A cleaned
    query that keeps a colon ("Set Vary: ...") takes its commit's scope (`compress`)."""
    if not _RAW:
        _RAW.update(_raw_subjects())
    raw = _RAW.get(q.text)
    return raw_prefix(raw if raw is not None else q.text)[1]


def _path_components(path: str) -> frozenset[str]:
    *dirs, name = path.split("/")
    return frozenset({_norm(d) for d in dirs} | {_norm(name.split(".")[0])})


def _with_prefix(text: str) -> Query:
    """`parse_query` of a commit query with its raw subject's prefix put back, if removed."""
    if not _RAW:
        _RAW.update(_raw_subjects())
    prefix = raw_prefix(_RAW.get(parse_query(text).text, ""))[0]
    return parse_query(text if not prefix or raw_prefix(text)[0] else prefix + text)


def _components(c: wf.Corpus) -> list[frozenset[str]]:
    """Per file: its folders' names and its stem (up to the first dot), normalised."""

    def make(c: wf.Corpus) -> list[frozenset[str]]:
        return [_path_components(p) for p in c.snap.paths]

    return _per_snapshot(c, "components", make)  # type: ignore[arg-type,return-value]


def scope_match(c: wf.Corpus, q: Query) -> Floats | None:
    """Per file: the share of the scope's parts its folders or stem name; None without a scope
    that names some file of the workspace."""
    parts = scope_parts(q)
    if not parts:
        return None
    got = np.array([sum(p in comp for p in parts) / len(parts) for comp in _components(c)])
    return got if got.any() else None


def scope_in(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    got = scope_match(c, q)
    return np.zeros(len(cand)) if got is None else got[cand]


def scope_out(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    got = scope_match(c, q)
    return np.zeros(len(cand)) if got is None else (got[cand] == 0).astype(np.float64)


_MANIFESTS = ("Cargo.toml", "package.json", "go.mod", "pyproject.toml", "setup.py")


def _packages(c: wf.Corpus) -> Ints:
    """Per file: the id of its package, the nearest folder holding a manifest (the root's 0)."""

    def make(c: wf.Corpus) -> Floats:
        ids: dict[str, int] = {"": 0}
        out = []
        for p in c.snap.paths:
            parts = p.split("/")[:-1]
            home = ""
            for i in range(len(parts), 0, -1):
                folder = "/".join(parts[:i])
                if any((c.root / folder / m).is_file() for m in _MANIFESTS):
                    home = folder
                    break
            out.append(ids.setdefault(home, len(ids)))
        return np.array(out, dtype=np.float64)

    return _per_snapshot(c, "packages", make).astype(np.int64)


_FIRST = (FEATURES.index("file_bm25"), FEATURES.index("chunk_best"))


def _package_evidence(how: str) -> wf.Column:
    """Per candidate, from its package's candidates' first-pass scores (file + best chunk
    BM25, rel): the best of the others (best), the package's share of the sum over the
    candidates (share), 1 / (1 + the package's rank by its best candidate) (rank)."""

    def column(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        pkg = _packages(c)[cand]
        first = x[:, _FIRST[0]] + x[:, _FIRST[1]]
        ids = np.unique(pkg)
        best = {p: float(first[pkg == p].max()) for p in ids}
        if how == "best":
            out = np.zeros(len(cand))
            for p in ids:
                rows = np.flatnonzero(pkg == p)
                for r in rows:
                    others = first[rows[rows != r]]
                    out[r] = float(others.max()) if len(others) else 0.0
            return out / max(float(first.max()), 1e-9)
        if how == "share":
            total = max(float(first.sum()), 1e-9)
            return np.array([float(first[pkg == p].sum()) / total for p in pkg])
        order = sorted(ids, key=lambda p: -best[p])
        at = {p: i for i, p in enumerate(order)}
        return np.array([1.0 / (1.0 + at[p]) for p in pkg])

    return column


#: Retrievability (Azzopardi and Vinay, 2008): how often a file comes up for pseudo-queries
#: made from the workspace's own code, not its own: a hub that matches any request (ripgrep's
#: flags file, its shell completions) comes up often. The pseudo-queries: windows of
#: RETRIEVABLE_LINES lines of code and test files, RETRIEVABLE_QUERIES of them drawn with a
#: fixed seed, each its RETRIEVABLE_TERMS rarest terms that another file holds too.
RETRIEVABLE_LINES = 40
RETRIEVABLE_QUERIES = 600
RETRIEVABLE_TERMS = 6
RETRIEVABLE_TOP = 10


def _retrievability(c: wf.Corpus) -> Floats:
    snap = c.snap
    code = np.flatnonzero(np.isin(snap.file_class, (FileClass.CODE, FileClass.TEST)))
    windows: list[tuple[int, list[str]]] = []
    for f in code.tolist():
        try:
            lines = (c.root / snap.paths[f]).read_text("utf-8", errors="replace").split("\n")
        except OSError:
            continue
        for s in range(0, len(lines), RETRIEVABLE_LINES):
            windows.append((f, lines[s : s + RETRIEVABLE_LINES]))
    rng = np.random.default_rng(47)
    pick = rng.choice(len(windows), size=min(RETRIEVABLE_QUERIES, len(windows)), replace=False)
    norm = length_norm(snap, "file", 0.75)
    got = np.zeros((2, snap.n_files))
    for i in pick.tolist():
        own, lines = windows[i]
        ts = list(dict.fromkeys(terms("\n".join(lines))))
        if not ts:
            continue
        h = gather(snap.file_body, [term_hash(t) for t in ts], snap.n_files)
        ok = np.flatnonzero(h.df >= 2)
        if not len(ok):
            continue
        chosen = ok[np.argsort(-h.idf[ok], kind="stable")[:RETRIEVABLE_TERMS]]
        q = [term_hash(ts[j]) for j in chosen.tolist()]
        hq = gather(snap.file_body, q, snap.n_files)
        score = doc_sums(hq.docs, bm25_postings(hq, hq.idf, norm), snap.n_files)
        score[own] = 0.0
        top = np.argsort(-score, kind="stable")[:RETRIEVABLE_TOP]
        top = top[score[top] > 0]
        got[0, top] += 1.0
        got[1, top] += 1.0 / (1.0 + np.arange(len(top)))
    out: Floats = got / np.maximum(got.max(axis=1, keepdims=True), 1e-9)
    return out


def _retrievable(which: int) -> wf.Column:
    def column(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        r = _per_snapshot(c, "retrievability", lambda c: _retrievability(c).ravel())
        out: Floats = r.reshape(2, -1)[which][cand]
        return out

    return column


#: A path word written as one word of two (`pathutil`, `cacheprovider`, `hiargs`): split in
#: two where each part is a term at least SPLIT_DF files hold, and SPLIT_RATIO times as many
#: as the whole, the split whose rarer part is commonest; the parts count as the file's path
#: words besides the whole.
SPLIT_DF = 3
SPLIT_MIN = 3
SPLIT_RATIO = 4.0


def _split_terms(c: wf.Corpus) -> list[frozenset[str]]:
    snap = c.snap
    df_of: dict[str, float] = {}

    def df(t: str) -> float:
        if t not in df_of:
            df_of[t] = float(gather(snap.file_body, [term_hash(t)], snap.n_files).df[0])
        return df_of[t]

    def split(word: str) -> tuple[str, str] | None:
        whole = terms(word)
        if len(whole) != 1:
            return None
        best: tuple[float, tuple[str, str]] | None = None
        for i in range(SPLIT_MIN, len(word) - SPLIT_MIN + 1):
            a, b = terms(word[:i]), terms(word[i:])
            if len(a) != 1 or len(b) != 1:
                continue
            score = min(df(a[0]), df(b[0]))
            # a word of its own (`improvement`, `template`) is not two
            common = score >= SPLIT_DF and score >= SPLIT_RATIO * df(whole[0])
            if common and (best is None or score > best[0]):
                best = (score, (a[0], b[0]))
        return None if best is None else best[1]

    out = []
    for p in snap.paths:
        own = set(terms(p.replace("/", " ").replace(".", " ").replace("-", " ")))
        extra: set[str] = set()
        for word in re.findall(r"[a-z]+", p.lower()):
            if len(word) >= 2 * SPLIT_MIN:
                got = split(word)
                if got:
                    extra.update(got)
        out.append(frozenset(extra - own))
    return out


def split_path(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    """Per candidate: the body IDF of the request's terms among its path's split words, rel."""
    extra = _per_snapshot(c, "split terms", _split_terms)  # type: ignore[arg-type]
    term_list = tuple(q.counts)
    idf = gather(c.snap.file_body, [term_hash(t) for t in term_list], c.snap.n_files).idf
    w = dict(zip(term_list, idf.tolist(), strict=True))
    got = np.array([sum(w[t] for t in extra[f] if t in w) for f in cand.tolist()])
    return mf._rel(got)


def path_with_split(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    """Per candidate: `path`'s saturated BM25 (each term once) with the split words counted
    as path words too (their IDF among paths, or among bodies for a word no path holds), rel."""
    snap = c.snap
    extra = _per_snapshot(c, "split terms", _split_terms)  # type: ignore[arg-type]
    term_list = tuple(q.counts)
    keys = [term_hash(t) for t in term_list]
    qtf = np.array([q.counts[t] for t in term_list], dtype=np.float64)
    h = gather(snap.file_path, keys, snap.n_files)
    tf = h.counts
    raw = doc_sums(h.docs, (qtf * h.idf)[h.term] * tf * (K1 + 1.0) / (tf + K1), snap.n_files)
    body = gather(snap.file_body, keys, snap.n_files).idf
    idf = np.where(h.df > 0, h.idf, body)
    w = dict(zip(term_list, (qtf * idf).tolist(), strict=True))
    got = raw[cand] + np.array([sum(w[t] for t in extra[f] if t in w) for f in cand.tolist()])
    return mf._rel(got)


VARIANTS: dict[str, tuple[list[wf.Column], tuple[str, ...]]] = {
    "base": ([], ()),
    "scope in, scope out": ([scope_in, scope_out], ()),
    "scope in": ([scope_in], ()),
    "package best of the others": ([_package_evidence("best")], ()),
    "package share": ([_package_evidence("share")], ()),
    "package rank": ([_package_evidence("rank")], ()),
    "retrievability": ([_retrievable(0)], ()),
    "retrievability, by rank": ([_retrievable(1)], ()),
    "path words split in two": ([split_path], ()),
    "path with its words split in two, in place of path": ([path_with_split], ("path",)),
}


def scope_table(cache: Path) -> None:
    """Per corpus: commit subjects with a scope (a type alone, `fix: `, apart), those whose
    scope names a folder or stem of the corpus, and those with any / every changed file under
    it (its folders or stem naming a part of the scope); the benchmark's queries keep none."""
    print(
        "| corpus | queries | a type alone | a scope | naming some file | any changed file under it"
        " | every changed file | scope left in the query |"
    )
    print("|---" * 8 + "|")
    entries = manifest_corpora()
    for entry in entries:
        root = corpus_root(entry, cache)
        files = [
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file() and ".git" not in p.parts
        ]
        comps = {f: _path_components(f) for f in files}
        n = typed = scoped = named = anyr = allr = kept = 0
        for line in (BENCH / "queries" / f"{entry['name']}.commits.jsonl").read_text().splitlines():
            q = json.loads(line)
            n += 1
            prefix, parts = raw_prefix(q["raw_subject"])
            kept += bool(raw_prefix(q["query"])[1])
            if prefix and not parts:
                typed += 1
            if not parts:
                continue
            scoped += 1
            if not any(p in c for c in comps.values() for p in parts):
                continue
            named += 1
            under = [any(p in _path_components(f) for p in parts) for f in q["relevant_files"]]
            anyr += any(under)
            allr += all(under)
        print(
            f"| {entry['name']} | {n} | {typed} | {scoped} | {named} | {anyr} | {allr} | {kept} |"
        )


def misses(name: str, cache: Path) -> None:
    """`name`'s commit queries whose first file is not relevant, ranked with weights fitted
    without it (`train_ranker.py`'s stored rows, every candidate, no history): the raw
    subject, the first four files and the relevant ones; then how many have a scope and
    whether it names a folder or stem of a changed file, of the wrong first file."""
    data = Data()
    w = fit(*data.subset(data.corpus != data.corpora.index(name)))
    n = len(FEATURES)
    entries = manifest_corpora()
    entry = next(e for e in entries if e["name"] == name)
    snap = asyncio.run(indexed_snapshot(corpus_root(entry, cache), []))
    rr, missed, scoped, changed_under, top_under = [], 0, 0, 0, 0
    for line in (BENCH / "queries" / f"{name}.commits.jsonl").read_text("utf-8").splitlines():
        q = json.loads(line)
        query = parse_query(q["query"])
        cand, x, *_ = candidate_features(snap, query)
        kinds = query_kinds(query, x)
        ww = w[:n] + sum((w[n * (j + 1) : n * (j + 2)] for j in np.flatnonzero(kinds)), 0.0)
        scores = x @ ww
        paths = [snap.paths[cand[i]] for i in np.argsort(-scores, kind="stable")]
        relevant = set(q["relevant_files"])
        first = next((i for i, p in enumerate(paths) if p in relevant), None)
        rr.append(1.0 / (first + 1) if first is not None and first < 10 else 0.0)
        if first == 0:
            continue
        missed += 1
        parts = raw_prefix(q["raw_subject"])[1]
        if parts:
            scoped += 1
            changed_under += any(
                any(p in _path_components(f) for p in parts) for f in q["relevant_files"]
            )
            top_under += any(p in _path_components(paths[0]) for p in parts)
        print(f"## rank {first} | {q['raw_subject'][:90]}")
        print("   top:", ", ".join(paths[:4]))
        print("   relevant:", ", ".join(sorted(relevant)))
    print(
        f"{name}: commits MRR@10 {np.mean(rr):.3f} held out; {missed} misses, {scoped} with a"
        f" scope, naming a changed file's folder or stem in {changed_under}, the first file's"
        f" in {top_under}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = corpus_parser(__doc__, VARIANTS)
    parser.add_argument("--scopes", action="store_true", help="only the scope table")
    parser.add_argument("--misses", metavar="CORPUS", help="only CORPUS's held-out misses")
    parser.add_argument(
        "--keep-scopes",
        action="store_true",
        help="each commit query with its subject's prefix put back (`printer: `, `fix(jsx): `)",
    )
    args = parser.parse_args(argv)
    if args.keep_scopes:
        setattr(wf, "parse_query", _with_prefix)  # noqa: B010 (collect() reads it there)
    if args.scopes:
        scope_table(args.cache)
        return 0
    if args.misses:
        misses(args.misses, args.cache)
        return 0
    mf.print_held_out(args.variants or list(VARIANTS), VARIANTS, args.cache, args.mirrors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
