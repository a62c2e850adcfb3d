"""Evidence of two kinds not measured before (docs/search-rounds.md, 2026-12-07): where a word
stands in the request's first sentence, and the request's adjacent words as the parts of one
definition's name (identifier n-grams across CamelCase and snake_case boundaries).
(Measured held out: none above the yardstick; not shipped. docs/search-rounds.md, 2026-12-07,
early, has the table.)

    uv run python scripts/position_features.py                   # every variant, LORO table
    uv run python scripts/position_features.py base "path by half"

Every other feature weighs a word of the subject the same wherever it stands. In a commit
subject the first words after the verb name the thing changed ("Add raku extensions to ignore
types") and a closing phrase after a preposition often names the place ("... in printer", "...
for --json"), or only the context. Each variant adds columns to `train_ranker.py`'s 28
features (or replaces one), per candidate file, on the rows `train_ranker.py features` keeps
(through `window_features.collect`, both regimes, doc comments too); the table is commits
MRR@10 per held-out corpus and ripgrep's with weights fitted on its own rows (in sample), as
`miss_features.py` prints it. The subject's content words are numbered in order (`lexicon.
terms` of each word; a term takes its first word's place):

- half: file BM25 (b 0.75) over the subject's first half of words, and over its second half,
  two columns, rel; path by half: `path` (saturated BM25 over the path's words) the same way;
- decay: file BM25 with each subject term weighted 1 / (1 + its place), the body's terms as
  in the subject's last place, rel; and `path` so weighted;
- object: the IDF-weighted share of the verb's object (the two content words after the first
  word) the file holds, and whether its path holds one of them;
- place: the words after the subject's last preposition of place (in, to, for, from, into,
  inside, within, on, under, at): the share of them the path holds, the body holds; and `path`
  over the other words only;
- name pairs: the IDF-weighted share of the request's adjacent term pairs that one of the
  file's definitions holds as adjacent parts of its name (`search zip` in `search_zip`, `line
  buffer` in `LineBuffer`); and over the subject's pairs only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import miss_features as mf
import numpy as np
import window_features as wf
from ranker_corpora import corpus_history, corpus_parser, indexed_with_history

from ocp_server.index.arrays import Floats, Ints
from ocp_server.index.features import FEATURES
from ocp_server.index.hits import K1, bm25_postings, doc_sums, gather, length_norm
from ocp_server.index.lexicon import first_sentence, pair_hash, term_hash, terms_by_word
from ocp_server.index.query import Query

_PATH = FEATURES.index("path")

#: Per chunk, in the snapshot's order: its symbol (None where it has none), filled by
#: `_corpus` below and keyed by the snapshot held with it (ids are reused).
_SYMBOLS: dict[int, tuple[object, list[str | None]]] = {}
#: Per snapshot: (the name pairs' keys, per defining chunk's file) as postings-like arrays.
_NAME_PAIRS: dict[int, tuple[object, dict[int, Ints]]] = {}


async def _corpus(
    entry: dict[str, str], root: Path, mirrors: Path
) -> tuple[wf.Corpus, dict[str, int]]:
    """`window_features._corpus`, and each chunk's symbol (for the name pairs)."""
    commits = corpus_history(entry, mirrors)
    async with indexed_with_history(root, commits) as index:
        snap = await index.snapshot()
        cursor = await index.db.execute(
            "SELECT c.start_line, c.end_line, c.kind, c.symbol FROM chunks c JOIN files f"
            " ON f.id = c.file_id WHERE c.terms IS NOT NULL AND f.skip_reason IS NULL"
            " ORDER BY c.file_id, c.start_line"
        )
        got = list(await cursor.fetchall())
    lines = np.array([r[:2] for r in got], dtype=np.int64).reshape(-1, 2)
    kinds = np.array([str(r[2] or "") for r in got])
    _SYMBOLS[id(snap)] = (snap, [r[3] for r in got])
    return wf.Corpus(snap, root, lines, kinds), {c.hash: c.time for c in commits}


wf._corpus = _corpus  # collect() indexes each corpus through it


def _ordered(q: Query) -> list[tuple[str, int]]:
    """The first sentence's content terms with their word's place (first place kept)."""
    seen: dict[str, int] = {}
    place = 0
    for _, ts in terms_by_word(first_sentence(q.text)):
        if not ts:
            continue
        for t in ts:
            seen.setdefault(t, place)
        place += 1
    return list(seen.items())


def _weights(q: Query, how: str) -> tuple[tuple[str, ...], Floats]:
    """The query's terms and each one's weight for `how`: half 0 / 1 (the first or second
    half of the subject's words), decay (1 / (1 + place))."""
    order = _ordered(q)
    places = dict(order)
    n = 1 + max(places.values(), default=0)
    term_list = tuple(q.counts)
    w = []
    for t in term_list:
        p = places.get(t)
        if how == "decay":
            w.append(1.0 / (1.0 + (p if p is not None else n)))
        elif how == "half 0":
            w.append(float(p is not None and p < (n + 1) // 2))
        else:  # half 1
            w.append(float(p is not None and p >= (n + 1) // 2))
    return term_list, np.array(w, dtype=np.float64)


def body_by(c: wf.Corpus, q: Query, how: str) -> Floats:
    """Per file: BM25 (b 0.75) with the query's term weights times `_weights`."""
    snap = c.snap
    term_list, pos = _weights(q, how)
    if not pos.any():
        return np.zeros(snap.n_files)
    qtf = np.array([q.counts[t] for t in term_list], dtype=np.float64) * pos
    h = gather(snap.file_body, [term_hash(t) for t in term_list], snap.n_files)
    post = bm25_postings(h, qtf * h.idf, length_norm(snap, "file", 0.75))
    return doc_sums(h.docs, post, snap.n_files)


def _path_bm25(c: wf.Corpus, q: Query, term_list: tuple[str, ...], w: Floats) -> Floats:
    """Per file: `path`'s saturated BM25 over the path's words, term weights times `w`."""
    snap = c.snap
    qtf = np.array([q.counts.get(t, 1) for t in term_list], dtype=np.float64) * w
    h = gather(snap.file_path, [term_hash(t) for t in term_list], snap.n_files)
    tf = h.counts
    post = (qtf * h.idf)[h.term] * tf * (K1 + 1.0) / (tf + K1)
    return doc_sums(h.docs, post, snap.n_files)


def path_by(c: wf.Corpus, q: Query, how: str) -> Floats:
    term_list, pos = _weights(q, how)
    if not pos.any():
        return np.zeros(c.snap.n_files)
    return _path_bm25(c, q, term_list, pos)


#: Prepositions after which a subject names a place ("... in printer", "... to ignore types").
_PLACE = frozenset({"in", "to", "for", "from", "into", "inside", "within", "on", "under", "at"})


def _object_and_place(q: Query) -> tuple[list[str], list[str]]:
    """The verb's object (the terms of the two content words after the first word) and the
    terms after the subject's last preposition of place."""
    by_word = terms_by_word(first_sentence(q.text))
    content = [ts for _, ts in by_word if ts]
    obj = [t for ts in content[1:3] for t in ts]
    last = max((i for i, (w, _) in enumerate(by_word) if w.lower() in _PLACE), default=-1)
    place = [t for _, ts in by_word[last + 1 :] for t in ts] if last >= 0 else []
    return obj, place


def _share(c: wf.Corpus, table: str, term_list: list[str]) -> Floats:
    """Per file: the IDF-weighted share of `term_list` its body (or path) holds."""
    snap = c.snap
    if not term_list:
        return np.zeros(snap.n_files)
    post = snap.file_body if table == "body" else snap.file_path
    h = gather(post, [term_hash(t) for t in dict.fromkeys(term_list)], snap.n_files)
    idf = np.where(h.df > 0, h.idf, 0.0)
    w = idf / max(float(idf.sum()), 1e-9)
    return doc_sums(h.docs, w[h.term], snap.n_files)


def object_share(c: wf.Corpus, q: Query, table: str) -> Floats:
    return _share(c, table, _object_and_place(q)[0])


def place_share(c: wf.Corpus, q: Query, table: str) -> Floats:
    return _share(c, table, _object_and_place(q)[1])


def path_outside_place(c: wf.Corpus, q: Query) -> Floats:
    """Per file: `path` over the request's terms not in its closing place phrase."""
    place = set(_object_and_place(q)[1])
    term_list = tuple(q.counts)
    w = np.array([t not in place for t in term_list], dtype=np.float64)
    return _path_bm25(c, q, term_list, w)


def _name_pairs(c: wf.Corpus) -> dict[int, Ints]:
    """Per pair key: the files one of whose definitions holds the pair as adjacent parts of
    its name (the parts as `lexicon.terms` gives them, the compound left out)."""
    held = _NAME_PAIRS.get(id(c.snap))
    if held is not None and held[0] is c.snap:
        return held[1]
    snap = c.snap
    symbols = _SYMBOLS[id(snap)][1]
    files: dict[int, set[int]] = {}
    for i, symbol in enumerate(symbols):
        if not symbol or not snap.chunk_defines[i]:
            continue
        name = symbol.rsplit(".", 1)[-1].rsplit("::", 1)[-1]
        for _, ts in terms_by_word(name):
            parts = list(ts[1:]) if len(ts) > 1 else []
            for a, b in zip(parts, parts[1:], strict=False):
                files.setdefault(pair_hash(a, b), set()).add(int(snap.chunk_file[i]))
    got = {k: np.array(sorted(v), dtype=np.int64) for k, v in files.items()}
    _NAME_PAIRS[id(snap)] = (snap, got)
    return got


def name_pairs(c: wf.Corpus, q: Query, subject_only: bool) -> Floats:
    """Per file: the share of the request's adjacent term pairs one of its definitions'
    names holds, each pair weighted by log(files / files holding it in a name)."""
    snap = c.snap
    table = _name_pairs(c)
    text = first_sentence(q.text) if subject_only else q.text
    seq = [t for _, ts in terms_by_word(text) for t in (ts[1:] if len(ts) > 1 else ts)]
    keys = list(dict.fromkeys(pair_hash(a, b) for a, b in zip(seq, seq[1:], strict=False)))
    out = np.zeros(snap.n_files)
    if not keys:
        return out
    total = 0.0
    for k in keys:
        held = table.get(k)
        if held is None:
            continue
        w = float(np.log1p(snap.n_files / len(held)))
        out[held] += w
        total += w
    return out / total if total > 0 else out


#: Where a noun run breaks: punctuation but the hyphen of a flag or a compound.
_BREAK = re.compile(r"[^\w\s-]+")


def _roles(q: Query) -> dict[str, bool]:
    """The first sentence's content terms: True where the word is a modifier (another content
    word follows it in the same run: "decompression" in "decompression reader", "stats" in
    "--stats output"), False where it ends its run (a head: "reader", "output"); a term
    counts as a head if any of its words is one."""
    out: dict[str, bool] = {}
    for segment in _BREAK.split(first_sentence(q.text)):
        by_word = [ts for _, ts in terms_by_word(segment)]
        for i, ts in enumerate(by_word):
            modifier = i + 1 < len(by_word) and bool(by_word[i + 1])
            for t in ts:
                out[t] = out.get(t, True) and modifier
    return out


def path_by_role(c: wf.Corpus, q: Query, modifier: bool) -> Floats:
    """Per file: `path` over the subject's modifiers or over its heads (and the body's
    terms with the heads)."""
    roles = _roles(q)
    term_list = tuple(q.counts)
    w = np.array([roles.get(t, False) == modifier for t in term_list], dtype=np.float64)
    if not w.any():
        return np.zeros(c.snap.n_files)
    return _path_bm25(c, q, term_list, w)


def _col(fn: Callable[..., Floats], *args: object, rel: bool = True) -> wf.Column:
    return mf._col(fn, *args, rel=rel)


VARIANTS: dict[str, tuple[list[wf.Column], tuple[str, ...]]] = {
    "base": ([], ()),
    "half": ([_col(body_by, "half 0"), _col(body_by, "half 1")], ()),
    "path by half": ([_col(path_by, "half 0"), _col(path_by, "half 1")], ()),
    "path by half, in place of path": (
        [_col(path_by, "half 0"), _col(path_by, "half 1")],
        ("path",),
    ),
    "decay": ([_col(body_by, "decay")], ()),
    "path by decay": ([_col(path_by, "decay")], ()),
    "object": ([_col(object_share, "body", rel=False), _col(object_share, "path", rel=False)], ()),
    "place": ([_col(place_share, "body", rel=False), _col(place_share, "path", rel=False)], ()),
    "path outside the place, in place of path": ([_col(path_outside_place)], ("path",)),
    "path by role, in place of path": (
        [_col(path_by_role, True), _col(path_by_role, False)],
        ("path",),
    ),
    "path by role": ([_col(path_by_role, True), _col(path_by_role, False)], ()),
    "name pairs": ([_col(name_pairs, False, rel=False)], ()),
    "name pairs, subject": ([_col(name_pairs, True, rel=False)], ()),
}


def main(argv: list[str] | None = None) -> int:
    parser = corpus_parser(__doc__, VARIANTS)
    args = parser.parse_args(argv)
    mf.print_held_out(args.variants or list(VARIANTS), VARIANTS, args.cache, args.mirrors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
