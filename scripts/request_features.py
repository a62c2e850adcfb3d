"""Evidence of kinds not measured before (docs/search-rounds.md, 2026-12-06, late): the file's
language against the workspace's, the request's words inside string literals, the request's
verb against what the file is, the path's words weighed by how common they are in the code,
and how much of a file the request's rare words touch.
(Measured held out: none above the yardstick; not shipped. docs/search-rounds.md, 2026-12-06,
late, has the table.)

    uv run python scripts/request_features.py                    # every variant, LORO table
    uv run python scripts/request_features.py base "language share"

Each variant adds columns to `train_ranker.py`'s 28 features (or replaces one), per candidate
file, on the rows `train_ranker.py features` keeps (through `window_features.collect`, both
regimes, doc comments too); the table is commits MRR@10 per held-out corpus and ripgrep's with
weights fitted on its own rows (in sample), as `miss_features.py` prints it:

- language share: the share of the workspace's code and test files written in the file's
  language (a shell completion or CI script in a Rust workspace: low), 0 for prose and config;
- literal pairs: the IDF-weighted share of the request's adjacent words (stop words included,
  `literal_pairs.literal_key`) that the file's string literals hold in a row: flag names,
  help texts and messages as a field of their own, apart from identifiers;
- verb x class: the request's first word (after a "scope:" prefix) as one of four groups
  (add, fix, remove, document) times test, prose and the file's definitions (log): 12 columns;
- path by body IDF: the path's saturated BM25 with each term's IDF among the files' bodies,
  not among paths (`search` names one file but is in most bodies), rel;
- spread: the share of the file's chunks holding a term of the request at least as rare as
  its median term (a definitions file of hundreds of flags holds a flag's words in one chunk,
  the file acting on it in several);
- verb kinds: every feature again for "add" (and "fix") requests, a query kind each; add x
  data table: an "add" request and the file's best chunk a `constant` table (the registries
  that grow with each addition);
- path x log lines / log definitions, names over (1 + log definitions), and path x the share
  of the request's terms at most two files hold (a request naming something specific).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import miss_features as mf
import numpy as np
import window_features as wf
from ranker_corpora import corpus_parser

from ocp_server.index.arrays import Floats, Ints
from ocp_server.index.features import FEATURES
from ocp_server.index.file_kinds import FileClass
from ocp_server.index.hits import K1, doc_sums, gather
from ocp_server.index.lexicon import term_hash
from ocp_server.index.literal_pairs import literal_key
from ocp_server.index.query import Query

#: Per (snapshot, column): the snapshot, held so that its id is not reused, and the array.
_HELD: dict[int, tuple[object, Floats]] = {}


def _per_snapshot(c: wf.Corpus, key: str, make: Callable[[wf.Corpus], Floats]) -> Floats:
    """A per-file array computed once per snapshot (held with it: ids are reused)."""
    k = hash((id(c.snap), key))
    held = _HELD.get(k)
    if held is not None and held[0] is c.snap:
        return held[1]
    got = make(c)
    _HELD[k] = (c.snap, got)
    return got


def _language_share(c: wf.Corpus) -> Floats:
    snap = c.snap
    code = np.isin(snap.file_class, (FileClass.CODE, FileClass.TEST))
    counts = Counter(lang for lang, is_code in zip(snap.languages, code, strict=True) if is_code)
    total = max(sum(counts.values()), 1)
    return np.array(
        [
            counts.get(lang, 0) / total if is_code and lang is not None else 0.0
            for lang, is_code in zip(snap.languages, code, strict=True)
        ]
    )


def language_share(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    return _per_snapshot(c, "language share", _language_share)[cand]


_WORDS = re.compile(r"\w+")


def literal_pairs(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    snap = c.snap
    words = _WORDS.findall(q.text.lower())
    keys = list(dict.fromkeys(literal_key(a, b) for a, b in zip(words, words[1:], strict=False)))
    if not keys:
        return np.zeros(len(cand))
    h = gather(snap.chunk_literals, keys, snap.n_chunks)
    if not len(h.docs):
        return np.zeros(len(cand))
    owner = snap.chunk_file[h.docs].astype(np.int64)
    # each (file, pair) once
    pairs = np.unique(owner * len(keys) + h.term)
    files, term = pairs // len(keys), pairs % len(keys)
    idf = np.where(h.df > 0, h.idf, 0.0)
    w = idf / max(float(idf.sum()), 1e-9)
    return doc_sums(files, w[term], snap.n_files)[cand]


_SCOPE = re.compile(r"^[\w.,/ -]{1,30}:\s+")
_VERBS = {
    "add": {"add", "adds", "added", "support", "include", "introduce", "implement", "allow"},
    "fix": {"fix", "fixes", "fixed", "correct", "avoid", "prevent", "handle", "resolve"},
    "remove": {"remove", "removes", "drop", "delete", "deprecate", "revert"},
    "doc": {"doc", "docs", "document", "documentation", "mention", "clarify", "explain", "typo"},
}


def verb(q: Query) -> str | None:
    words = _WORDS.findall(_SCOPE.sub("", q.text.strip(), count=1).lower())
    first = words[0] if words else ""
    return next((g for g, vs in _VERBS.items() if first in vs), None)


_CLASSES = [FEATURES.index(f) for f in ("test", "prose", "log_definitions")]


def _verb_x(group: str, j: int) -> wf.Column:
    def column(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        return x[:, j] * float(verb(q) == group)

    return column


def path_body_idf(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    snap = c.snap
    term_list = tuple(q.counts)
    keys = [term_hash(t) for t in term_list]
    qtf = np.array([q.counts[t] for t in term_list], dtype=np.float64)
    body_idf = gather(snap.file_body, keys, snap.n_files).idf
    h = gather(snap.file_path, keys, snap.n_files)
    tf = h.counts
    w = (qtf * body_idf)[h.term] * tf * (K1 + 1.0) / (tf + K1)
    return mf._rel(doc_sums(h.docs, w, snap.n_files)[cand])


def spread(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    snap = c.snap
    keys = [term_hash(t) for t in q.counts]
    if not keys:
        return np.zeros(len(cand))
    h = gather(snap.chunk_body, keys, snap.n_chunks)
    present = h.df > 0
    if not present.any():
        return np.zeros(len(cand))
    rare = h.idf >= np.median(h.idf[present])
    chunks = np.unique(h.docs[rare[h.term]])
    held = np.bincount(snap.chunk_file[chunks], minlength=snap.n_files).astype(np.float64)
    n_chunks = np.diff(snap.file_chunks).astype(np.float64)
    return (held / np.maximum(n_chunks, 1.0))[cand]


_VERB_COLUMNS = [_verb_x(g, j) for g in _VERBS for j in _CLASSES]


def _verb_kind(groups: tuple[str, ...]) -> list[wf.Column]:
    """Every feature again where the request's verb is of `groups`: a query kind of its own."""

    def column(j: int, group: str) -> wf.Column:
        def col(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
            return x[:, j].astype(np.float16).astype(np.float64) * float(verb(q) == group)

        return col

    return [column(j, g) for g in groups for j in range(len(FEATURES))]


def _path_times(name: str) -> wf.Column:
    at = FEATURES.index(name)

    def column(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        return x[:, mf._PATH] * x[:, at]

    return column


def _add_data_table(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    """A request adding something (`verb` "add") and the file's best chunk a data table: the
    registries that grow with each addition (a file type, a language)."""
    if verb(q) != "add":
        return np.zeros(len(cand))
    return mf.best_chunk_kind(c, q, "data")[cand]


def _names_x_definitions(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    """`names` over the log of the file's definitions: a file of hundreds of definitions
    matches a request's words in some name by chance more often."""
    return x[:, FEATURES.index("names")] / (1.0 + x[:, FEATURES.index("log_definitions")])


def _path_x_specific(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
    """`path` times the share of the request's terms (those some file holds) that at most two
    files hold: a request naming something specific points by that, not by a file name."""
    snap = c.snap
    h = gather(snap.file_body, [term_hash(t) for t in q.counts], snap.n_files)
    present = h.df > 0
    share = float((h.df[present] <= 2).mean()) if present.any() else 0.0
    return x[:, mf._PATH] * share


VARIANTS: dict[str, tuple[list[wf.Column], tuple[str, ...]]] = {
    "base": ([], ()),
    "language share": ([language_share], ()),
    "literal pairs": ([literal_pairs], ()),
    "verb x class": (_VERB_COLUMNS, ()),
    "path by body IDF": ([path_body_idf], ()),
    "path by body IDF, in place of path": ([path_body_idf], ("path",)),
    "spread": ([spread], ()),
    "verb kind add": (_verb_kind(("add",)), ()),
    "verb kinds add, fix": (_verb_kind(("add", "fix")), ()),
    "path x log_lines": ([_path_times("log_lines")], ()),
    "path x log_definitions": ([_path_times("log_definitions")], ()),
    "add x data table": ([_add_data_table], ()),
    "names over definitions": ([_names_x_definitions], ()),
    "path x request specificity": ([_path_x_specific], ()),
}


def main(argv: list[str] | None = None) -> int:
    parser = corpus_parser(__doc__, VARIANTS)
    args = parser.parse_args(argv)
    mf.print_held_out(args.variants or list(VARIANTS), VARIANTS, args.cache, args.mirrors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
