"""Two kinds of evidence no round had measured, as `prior_checks.py` columns (measured: none
above noise; not shipped. docs/search-rounds.md, 2026-12-07, late evening):

- the code's references, read from the query's best chunks: a file whose definitions the best
  chunks name (their callees), a file whose code names what the best chunks define (their
  callers), and the words of the lines in other files that name a file's definitions (its
  callers' words, an anchor text), BM25 over them;
- sub-word matches: the request's words against the words of a file's path and of its
  definitions' names, by character trigrams (Dice), where one is only part of the other or
  spelt another way (colour / color, multiline / multi_line, symlinks / symlink, dir /
  directory).

A definition's name counts as a reference (as the neighbour round's refs, 2026-12-05) when it
has at least 4 characters, is defined in at most 2 files and written in at most
max(10, files / 20); a file never refers to itself. The best chunks: the query's 10 best by
chunk BM25 (k1 1.2, b 0.75), each weighed by its score over the best one's.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import PurePosixPath

import import_features as imf
import numpy as np
import window_features as wf

from ocp_server.index.arrays import Floats, Ints
from ocp_server.index.features import FEATURES
from ocp_server.index.hits import K1, bm25_postings, length_norm
from ocp_server.index.lexicon import STOPWORDS, terms
from ocp_server.index.query import Query

TOP = 10
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


@dataclass
class Refs:
    #: per chunk: the files (not its own) defining a name its lines write
    callees: list[frozenset[int]]
    #: per chunk that defines a referable name: the files (not its own) writing it
    callers: list[frozenset[int]]
    #: callers' words: term -> (files, counts), and per file BM25's length norm
    post: dict[str, tuple[Ints, Floats]]
    norm: Floats
    #: sub-words: trigram -> token ids; per token its trigram count, and the files holding
    #: it in their path (`path_files`) or among their definitions' names (`name_files`)
    grams: dict[str, Ints]
    size: Floats
    tokens: list[str]
    path_files: list[Ints]
    name_files: list[Ints]


def _last(symbol: str) -> str:
    return re.split(r"[.:#/]+", symbol)[-1] if symbol else ""


def _spellings(word: str) -> set[str]:
    """A word or identifier lower-cased whole (separators out) and each of its parts."""
    parts = [p.lower() for chunk in re.split(r"[_\-.\s]+", word) for p in _CAMEL.findall(chunk)]
    whole = "".join(parts)
    return {w for w in (whole, *parts) if len(w) >= 3}


def _trigrams(word: str) -> set[str]:
    padded = f"#{word}#"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def build(c: imf.Corpus) -> Refs:
    snap = c.snap
    n_files = snap.n_files
    lines: list[list[str]] = []
    for p in snap.paths:
        try:
            lines.append((c.root / p).read_text("utf-8", errors="replace").split("\n"))
        except OSError:
            lines.append([])
    defined: dict[str, set[int]] = defaultdict(set)
    for i, sym in enumerate(c.chunk_symbol):
        name = _last(sym)
        if snap.chunk_defines[i] and len(name) >= 4:
            defined[name].add(int(snap.chunk_file[i]))
    line_ids: list[list[set[str]]] = [
        [set(_IDENT.findall(ln)) & defined.keys() for ln in text] for text in lines
    ]
    written: Counter[str] = Counter()
    for per_line in line_ids:
        written.update(set().union(*per_line) if per_line else set())
    limit = max(10, n_files // 20)
    refer = {n: fs for n, fs in defined.items() if len(fs) <= 2 and written[n] <= limit}
    callees: list[frozenset[int]] = []
    chunk_names: list[set[str]] = []
    for i in range(snap.n_chunks):
        f = int(snap.chunk_file[i])
        lo, hi = (int(v) for v in c.chunk_lines[i])
        names = set().union(*line_ids[f][lo - 1 : hi]) if hi >= lo else set()
        chunk_names.append(names)
        callees.append(frozenset(g for n in names if n in refer for g in refer[n] if g != f))
    writers: dict[str, set[int]] = defaultdict(set)
    for i, names in enumerate(chunk_names):
        for n in names:
            if n in refer:
                writers[n].add(int(snap.chunk_file[i]))
    callers = [
        frozenset(
            g
            for g in writers.get(_last(c.chunk_symbol[i]), ())
            if g != int(snap.chunk_file[i]) and snap.chunk_defines[i]
        )
        for i in range(snap.n_chunks)
    ]
    words: list[Counter[str]] = [Counter() for _ in range(n_files)]
    for g, per_line in enumerate(line_ids):
        for ln, names in enumerate(per_line):
            owners = {f for n in names if n in refer for f in refer[n] if f != g}
            if owners:
                line_terms = terms(lines[g][ln])
                for f in owners:
                    words[f].update(line_terms)
    post_lists: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for f, counts in enumerate(words):
        for t, k in counts.items():
            post_lists[t].append((f, k))
    length = np.array([sum(w.values()) for w in words], dtype=np.float64)
    norm = K1 * (0.25 + 0.75 * length / max(float(length[length > 0].mean()), 1.0))
    post = {
        t: (np.array([f for f, _ in v]), np.array([k for _, k in v], dtype=np.float64))
        for t, v in post_lists.items()
    }
    in_path: dict[str, set[int]] = defaultdict(set)
    in_names: dict[str, set[int]] = defaultdict(set)
    for f, p in enumerate(snap.paths):
        path = PurePosixPath(p)
        for part in (*path.parent.parts, path.stem):
            for w in _spellings(part):
                in_path[w].add(f)
    for i, sym in enumerate(c.chunk_symbol):
        if snap.chunk_defines[i]:
            for w in _spellings(_last(sym)):
                in_names[w].add(int(snap.chunk_file[i]))
    tokens = sorted(in_path.keys() | in_names.keys())
    gram_lists: dict[str, list[int]] = defaultdict(list)
    for k, tok in enumerate(tokens):
        for gram in _trigrams(tok):
            gram_lists[gram].append(k)
    return Refs(
        callees=callees,
        callers=callers,
        post=post,
        norm=norm,
        grams={g: np.array(v) for g, v in gram_lists.items()},
        size=np.array([len(_trigrams(t)) for t in tokens], dtype=np.float64),
        tokens=tokens,
        path_files=[np.array(sorted(in_path.get(t, ())), dtype=np.int64) for t in tokens],
        name_files=[np.array(sorted(in_names.get(t, ())), dtype=np.int64) for t in tokens],
    )


_BUILT: dict[int, Refs] = {}


def refs(c: imf.Corpus) -> Refs:
    if id(c) not in _BUILT:
        _BUILT.clear()
        _BUILT[id(c)] = build(c)
    return _BUILT[id(c)]


def _top_chunks(c: imf.Corpus, q: Query) -> tuple[Ints, Floats]:
    """The query's TOP best chunks by chunk BM25, and their scores over the best one's."""
    snap = c.snap
    _, qtf, hits = wf._query_hits(snap, q, "chunk")
    post = bm25_postings(hits, qtf * hits.idf, length_norm(snap, "chunk", 0.75))
    score = np.bincount(hits.docs, weights=post, minlength=snap.n_chunks).astype(np.float64)
    top = np.argsort(-score, kind="stable")[:TOP].astype(np.int64)
    top = top[score[top] > 0]
    rel: Floats = score[top] / score[top[0]] if len(top) else score[top]
    return top, rel


def _by_top(c: imf.Corpus, q: Query, which: str) -> Floats:
    r = refs(c)
    out = np.zeros(c.snap.n_files)
    top, rel = _top_chunks(c, q)
    for i, s in zip(top, rel, strict=True):
        for f in (r.callees if which == "callees" else r.callers)[int(i)]:
            out[f] = max(out[f], s)
    return out


def callees(c: imf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    return _by_top(c, q, "callees")[cand]


def callers(c: imf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    return _by_top(c, q, "callers")[cand]


def _times_coverage(column: wf.Column) -> wf.Column:
    """A column where the file itself holds the request's words: x its `coverage` (the IDF
    share of the request's terms it holds), the product a linear model cannot form."""
    j = FEATURES.index("coverage")

    def product(c: imf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        return column(c, q, cand, x) * x[:, j]

    return product  # type: ignore[return-value]


def callers_words(c: imf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    r = refs(c)
    n = c.snap.n_files
    score = np.zeros(n)
    for t, k in q.counts.items():
        if t in r.post:
            files, tf = r.post[t]
            idf = math.log1p((n - len(files) + 0.5) / (len(files) + 0.5))
            score[files] += k * idf * tf * (K1 + 1) / (tf + r.norm[files])
    return wf._rel(score[cand])


def _request_words(q: Query) -> set[str]:
    out: set[str] = set()
    for w in _WORD.findall(q.text):
        out |= {s for s in _spellings(w) if s not in STOPWORDS}
    return out


def sub_words(c: imf.Corpus, q: Query, where: str, partial: bool) -> Floats:
    """Per file: the request's words' IDF-weighted mean of their best Dice over the file's path
    words and/or its definitions' names (trigrams, at least 0.5); `partial`: a word the file
    holds exactly counts 0 there (`path` and `names` see it already)."""
    r = refs(c)
    n = c.snap.n_files
    total = np.zeros(n)
    weight = 0.0
    for w in _request_words(q):
        grams = _trigrams(w)
        hit = [r.grams[g] for g in grams if g in r.grams]
        best = np.zeros(n)
        if hit:
            overlap = np.bincount(np.concatenate(hit), minlength=len(r.tokens))
            dice = 2.0 * overlap / (len(grams) + r.size)
            for k in np.flatnonzero(dice >= 0.5):
                for files in ([r.path_files[k]] if where != "names" else []) + (
                    [r.name_files[k]] if where != "path" else []
                ):
                    if len(files):
                        best[files] = np.maximum(best[files], dice[k])
        if partial:
            best = np.where(best >= 1.0, 0.0, best)
        df = int((best > 0).sum())
        idf = math.log1p(n / (1.0 + df))
        total += idf * best
        weight += idf
    return total / weight if weight > 0 else total


def _sub(where: str, partial: bool) -> wf.Column:
    def column(c: imf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        return sub_words(c, q, where, partial)[cand]

    return column  # type: ignore[return-value]


#: label -> column, in the order `prior_checks.py` stores them after its own
COLUMNS: dict[str, wf.Column] = {
    "callees of the best chunks": callees,  # type: ignore[dict-item]
    "callers of the best chunks": callers,  # type: ignore[dict-item]
    "callers' words": callers_words,  # type: ignore[dict-item]
    "sub-words, path and names": _sub("both", False),
    "sub-words, path and names, partial": _sub("both", True),
    "sub-words, path, partial": _sub("path", True),
    "sub-words, names, partial": _sub("names", True),
    "callees x coverage": _times_coverage(callees),  # type: ignore[arg-type]
    "callers x coverage": _times_coverage(callers),  # type: ignore[arg-type]
}
