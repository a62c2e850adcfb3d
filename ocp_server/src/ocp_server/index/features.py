"""The evidence for each candidate file of a query: the ranking's features.

Files are ranked, not chunks, because an agent's next step is to open a file and because
evidence spread over a file (five matching definitions, the words of the question in its tests)
is what a single best chunk hides. `candidate_features` picks a query's candidate files (the
best by each main signal) and computes the features below for each; `ranking.py` weighs them.

The features, all per (query, file), scaled by their maximum over the query's candidates where
marked "rel" so that long and short queries weigh alike:

- BM25 of the file as one document (k1 1.2, b 0.75 and b 0.3), rel;
- the best chunk's BM25 and the best block's (about BLOCK_LINES lines of whole chunks), rel;
- BM25 over the words of the first sentence only, over the rest, and over words written as
  code (`backticked`, snake_case, camelCase), rel;
- the best chunk's BM25 over words written as code, rel;
- coverage: the IDF-weighted share of the query's terms in the file, and in its best chunk;
  the share of the query's rarest terms in the file;
- phrases: the share of the query's adjacent term pairs found adjacent in the file;
- names: BM25 over the names of the file's definitions, rel; identifiers written as code in
  the query that the file defines (1/number of files defining each). A short query (a lookup,
  at most LOOKUP_WORDS words) names identifiers with any word or adjacent pair of words, and
  the files defining them rank first;
- the path: BM25 over the path's words, rel; the file's stem named as a word in the query;
- what it is: code, test, code beside the product (docs/, examples/), prose, config, a
  changelog (unless the query asks for one); size in lines and definitions (log).
- proximity: the share of the request's first sentence that one 9-line window of the file
  holds (`proximity.py`);
- history, in a git workspace: what the past commits most like the query changed, and how
  often the file changed.

Stemming, identifier splitting and the query-term counts follow `lexicon`. A query that asks for
documentation or configuration ("docs", "readme", "yaml", ...) does not hold prose or config
back.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from ocp_server.index.arrays import Floats, Ints
from ocp_server.index.chunk_choice import (
    ChunkScores,
    NameEvidence,
    chunk_choice,
    shown_from,
    whole_message,
)
from ocp_server.index.file_kinds import FileClass
from ocp_server.index.hits import (
    Hits,
    Ranges,
    bm25_idf,
    bm25_numerators,
    bm25_postings,
    distinct_docs,
    doc_sums,
    gather,
    gather_all,
    length_norm,
    reduce_add,
    reduce_all,
    reduce_any,
    reduce_max,
    saturated_weights,
)
from ocp_server.index.lexical import Snapshot
from ocp_server.index.lexicon import defined_hash, name_hash, term_hash
from ocp_server.index.named_files import named_files
from ocp_server.index.proximity import subject_window
from ocp_server.index.query import Query

__all__ = [
    "CANDIDATES",
    "ChunkScores",
    "DefinedAs",
    "FEATURES",
    "candidate_features",
]

#: How a feature is found: a per-file sum over the query's postings (`_file_sums`), the same
#: for every query (`_file_constants`, in this order), or for the query's candidates alone.
_SUM, _CONSTANT, _OWN = "sum", "constant", "own"
#: Every feature, in the order of the shipped weights (ranker_weights.json): how it is found,
#: and whether it is scaled by its maximum over the query's candidates ("rel" above).
_TABLE: tuple[tuple[str, str, bool], ...] = (
    ("file_bm25", _SUM, True),
    ("file_bm25_flat", _SUM, True),
    ("chunk_best", _SUM, True),
    ("path", _SUM, True),
    ("names", _SUM, True),
    ("coverage", _SUM, False),
    ("rare_coverage", _SUM, False),
    ("stem_named", _SUM, False),
    ("code", _CONSTANT, False),
    ("test", _CONSTANT, False),
    ("aux", _CONSTANT, False),
    ("prose", _CONSTANT, False),
    ("config", _CONSTANT, False),
    ("log_lines", _CONSTANT, False),
    ("log_definitions", _CONSTANT, False),
    ("subject_bm25", _SUM, True),
    ("body_bm25", _SUM, True),
    ("code_words_bm25", _SUM, True),
    ("code_words_chunk", _OWN, True),
    ("defines_named", _SUM, False),
    ("phrases", _SUM, False),
    ("chunk_coverage", _OWN, False),
    ("test_asked", _OWN, False),
    ("block_best", _OWN, True),
    ("history_similar", _OWN, True),
    ("history_changes", _OWN, False),
    ("changelog", _CONSTANT, False),
    ("subject_window", _OWN, False),
)
FEATURES: tuple[str, ...] = tuple(name for name, _, _ in _TABLE)

#: The features scaled by their maximum over the query's candidates ("rel" above).
_RELATIVE = np.array([at for at, (_, _, relative) in enumerate(_TABLE) if relative])
#: The per-file sums `_file_sums` adds up for a query (each its feature's, before the
#: feature's own scaling), and the features that are the same for every query
#: (`_file_constants`); where they are in FEATURES.
_PER_FILE: tuple[str, ...] = tuple(name for name, how, _ in _TABLE if how == _SUM)
_PER_FILE_AT = np.array([FEATURES.index(name) for name in _PER_FILE])
_CONSTANTS: tuple[str, ...] = tuple(name for name, how, _ in _TABLE if how == _CONSTANT)
_CONSTANT_AT = np.array([FEATURES.index(name) for name in _CONSTANTS])
(
    _TEST,
    _PROSE,
    _CONFIG,
    _TEST_ASKED,
    _DEFINES_NAMED,
    _PHRASES,
    _CODE_WORDS_CHUNK,
    _CHUNK_COVERAGE,
    _BLOCK_BEST,
    _HISTORY_SIMILAR,
    _HISTORY_CHANGES,
    _CHANGELOG,
    _SUBJECT_WINDOW,
) = (
    FEATURES.index(name)
    for name in (
        "test",
        "prose",
        "config",
        "test_asked",
        "defines_named",
        "phrases",
        "code_words_chunk",
        "chunk_coverage",
        "block_best",
        "history_similar",
        "history_changes",
        "changelog",
        "subject_window",
    )
)
#: BM25's b for the names field, normalised by the file's definitions (`hits.length_norm`):
#: LORO commits MRR@10 at 0 / 0.25 / 0.5 / 0.75 / 1: 0.8145 / 0.8168 / 0.8177 / 0.8175 / 0.8167.
NAMES_B = 0.5
CANDIDATES = 80
#: The past commits most like the query that vote for the files they changed.
HISTORY_COMMITS = 30
#: A code file holding the whole of a message query (`Query.message`) goes first when it took
#: this many phrases (adjacent term pairs) at least: one pair ("must not contain") is often
#: found in a comment (agent_queries.py's messages: hono MRR@10 0.935 -> 0.927 with one,
#: every corpus up or level with two; short_queries.py level).
MESSAGE_PAIRS = 2
#: A prose file that is a changelog or release notes (CHANGES.md, History.md, NEWS, a fragment
#: in changelog/): it restates commit messages nearly word for word, so it matches a request
#: about code better than the code does (express: History.md in the top 6 of 25 of 150 commit
#: queries before it was a feature).
_CHANGELOG_PATH = re.compile(
    r"(?:^|/)(?:change[-_]?log|changes|history|news|release[-_]?notes|releases)"
    r"(?:/|\.[\w.]+$|$)",
    re.IGNORECASE,
)


def _history(
    snap: Snapshot, keys: list[int], qtf: Floats, as_of: int | None
) -> tuple[Floats, Floats]:
    """Per file: (what the past commits most like the query changed, how often it changed).

    `as_of` (epoch seconds) keeps only older commits: for measuring on past queries."""
    hist, n_files = snap.history, snap.n_files
    similar, changes = np.zeros(n_files), np.zeros(n_files)
    if not hist.n_commits:
        return similar, changes
    older = None if as_of is None else hist.time < as_of
    if older is None:  # the same for every search of a snapshot: counted on its first
        kept = snap.derived.get(("history_changes",))
        if kept is None:
            kept = snap.derived[("history_changes",)] = doc_sums(hist.files, None, n_files)
        changes = kept
    else:
        per_file = np.repeat(np.arange(hist.n_commits), np.diff(hist.file_starts))
        changes = doc_sums(hist.files[older[per_file]], None, n_files)
    hh = gather(hist.body, keys, hist.n_commits)
    if older is not None:
        keep = older[hh.docs]
        # df still counts the newer commits (as it always has: measuring only)
        idf = bm25_idf(hh.df, max(int(older.sum()), 1))
        hh = Hits(hh.docs[keep], hh.counts[keep], hh.term[keep], hh.df, idf)
    post = bm25_postings(hh, qtf * hh.idf, length_norm(snap, "history", 0.75))
    score = doc_sums(hh.docs, post, hist.n_commits)
    top = np.argsort(-score)[:HISTORY_COMMITS]
    top = top[score[top] > 0]
    if len(top):
        # each similar commit votes for the files it changed, less so when it changed many
        lo, hi = hist.file_starts[top], hist.file_starts[top + 1]
        sizes = hi - lo
        at = np.repeat(lo, sizes) + (
            np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        )
        votes = np.repeat(score[top] / np.sqrt(np.maximum(sizes, 1)), sizes)
        similar = doc_sums(hist.files[at], votes, n_files)
    return similar, changes


class DefinedAs(NamedTuple):
    """Per candidate file, in a lookup of names: whether it defines one of them as the lookup
    spells it (`Query.spelt`), and whether it defines a name one of them is the tail of
    (`Query.tails`)."""

    spelt: npt.NDArray[np.bool_]
    tails: npt.NDArray[np.bool_]


def candidate_features(
    snap: Snapshot,
    query: Query,
    allowed: npt.NDArray[np.bool_] | None = None,
    as_of: int | None = None,
) -> tuple[
    Ints,
    Floats,
    ChunkScores,
    Hits,
    tuple[str, ...],
    npt.NDArray[np.bool_],
    DefinedAs,
]:
    """(candidate files, their feature matrix, chunk scores, chunk hits, query terms, whether
    each candidate has a chunk holding the whole of a message query (`whole_message`), what
    it defines of what a lookup names (`DefinedAs`)).

    `as_of` (epoch seconds) limits the history evidence to older commits."""
    term_list = tuple(query.counts)
    qtf = np.array([query.counts[t] for t in term_list], dtype=np.float64)
    n_files, n_chunks = snap.n_files, snap.n_chunks
    keys = [term_hash(t) for t in term_list]
    is_code = np.array([t in query.code for t in term_list], dtype=bool)
    in_subject = np.array([t in query.subject for t in term_list], dtype=bool)

    # ---- every table's postings of the query at once; a table rolled up from another
    # (chunks to files and blocks) shares its keys: looked up once for both
    body_at = snap.chunk_body.locate(keys)
    pair_keys = list(query.pair_keys)
    pair_at = snap.chunk_pairs.locate(pair_keys)
    name_keys = [name_hash(t) for t in term_list]
    defined_keys = [defined_hash(i) for i in query.identifiers]
    names_at = snap.chunk_names.locate(
        name_keys + defined_keys + list(query.spelt) + list(query.tails)
    )
    name_at = names_at[: len(name_keys)]
    at_spelt = len(name_keys) + len(defined_keys)
    defined_at = names_at[len(name_keys) : at_spelt]
    spelt_at = names_at[at_spelt : at_spelt + len(query.spelt)]
    tail_at = names_at[at_spelt + len(query.spelt) :]
    lookup = bool(query.identifiers and query.lookup)
    blocks = snap.blocks
    n_blocks = len(blocks.length)
    ch, fh, bh, ph, cph, nh, dh, path_h, *lk = gather_all(
        [
            (snap.chunk_body, body_at, n_chunks),
            (snap.file_body, body_at, n_files),
            (blocks.body, body_at, n_blocks),
            (snap.file_pairs, pair_at, n_files),
            (snap.chunk_pairs, pair_at, n_chunks),
            (snap.file_names, name_at, n_files),
            (snap.file_names, defined_at, n_files),
            (snap.file_path, snap.file_path.locate(keys), n_files),
            *(
                [
                    (snap.chunk_names, defined_at, n_chunks),
                    (snap.chunk_names, name_at, n_chunks),
                    (snap.chunk_names, spelt_at, n_chunks),
                    (snap.file_names, spelt_at, n_files),
                    (snap.chunk_names, tail_at, n_chunks),
                    (snap.file_names, tail_at, n_files),
                ]
                if lookup
                else []
            ),
        ]
    )

    # ---- chunks: sums over the chunks holding a query term only
    hit, where, seen = distinct_docs(ch.docs, n_chunks)
    at = where[ch.docs]
    n_hit = len(hit)
    chunk_idf = ch.idf
    chunk_post = bm25_postings(ch, qtf * chunk_idf, length_norm(snap, "chunk", 0.75))
    chunk_scores = doc_sums(at, chunk_post, n_hit)

    # ---- files: per file, sums over the postings of the file tables (`_PER_FILE`)
    file_idf = fh.idf
    w_file = qtf * file_idf
    # b 0.75 and 0.3: one numerator
    tf_weight = bm25_numerators(fh, w_file)
    post = tf_weight / (fh.counts + length_norm(snap, "file", 0.75)[fh.docs])
    flat = tf_weight / (fh.counts + length_norm(snap, "file", 0.3)[fh.docs])
    sums = [("file_bm25", fh.docs, post), ("file_bm25_flat", fh.docs, flat)]
    # a query of one sentence has no body; one in plain words, no words written as code
    # (the sums they skip would be file_bm25 itself, or zeros: the same floats)
    if reduce_all(in_subject):
        sums.append(("subject_bm25", fh.docs, post))
    else:
        sums.append(("subject_bm25", fh.docs, post * in_subject[fh.term]))
        sums.append(("body_bm25", fh.docs, post * ~in_subject[fh.term]))
    if reduce_any(is_code):
        sums.append(("code_words_bm25", fh.docs, post * is_code[fh.term]))
    file_cover_w = file_idf / max(float(reduce_add(file_idf)), 1e-9)
    sums.append(("coverage", fh.docs, file_cover_w[fh.term]))
    rare_mask = (file_idf > 0) & (file_idf >= 0.7 * float(reduce_max(file_idf, initial=0.0)))
    rare_w = rare_mask / max(int(reduce_add(rare_mask)), 1)
    sums.append(("rare_coverage", fh.docs, rare_w[fh.term]))
    # the pairs each file holds (over the query's pairs: below, for the candidates)
    sums.append(("phrases", ph.docs, np.ones(len(ph.docs))))
    # A file defining hundreds of things (a flags table) names most common words: its names
    # field is length-normalised by its definitions (LORO 0.8145 -> 0.818, b 0.25-1 alike)
    sums.append(
        ("names", nh.docs, bm25_postings(nh, qtf * nh.idf, length_norm(snap, "names", NAMES_B)))
    )
    # the sum of 1/(files defining it) over what it defines (its log, below, the feature)
    sums.append(("defines_named", dh.docs, 1.0 / np.maximum(dh.df, 1.0)[dh.term]))
    sums.append(("path", path_h.docs, saturated_weights(path_h, qtf * path_h.idf)))
    per_file = _file_sums(sums, n_files)
    file_bm25 = per_file[_PER_FILE.index("file_bm25")]
    path = per_file[_PER_FILE.index("path")]
    defines = per_file[_PER_FILE.index("defines_named")]
    # scores are not negative: the maximum of 0 and theirs
    chunk_best = per_file[_PER_FILE.index("chunk_best")]
    np.maximum.at(chunk_best, snap.chunk_file[hit], chunk_scores)
    stem_named = per_file[_PER_FILE.index("stem_named")]
    for word in query.words:
        found = snap.stems.get(word)
        if found is not None and len(word) > 2:
            stem_named[found] = 1.0

    similar, changes = _history(snap, keys, qtf, as_of)

    # ---- candidates: the files it names, and the best by each of the main signals
    evidence = (file_bm25 > 0) | (path > 0) | (defines > 0) | (similar > 0)
    chosen = np.zeros(n_files, dtype=bool)
    named_paths = named_files(snap, query)
    if allowed is not None:
        evidence &= allowed
        # outside `path_glob`: not named here
        named_paths = {f: line for f, line in named_paths.items() if allowed[f]}
    chosen[list(named_paths)] = True
    if lk and len(lk[5].docs):
        # the files defining a name the lookup is the tail of: few, and to be ranked
        chosen[lk[5].docs[evidence[lk[5].docs]]] = True
    pool = evidence.nonzero()[0]
    if len(pool) <= CANDIDATES:
        # each file of the pool is positive by one of the signals below, whose best
        # CANDIDATES hold every positive one: the pool, all of it
        chosen[pool] = True
    else:
        for signal in (file_bm25, chunk_best, path, defines, similar):
            values = signal[pool]
            positive = values > 0
            if np.count_nonzero(positive) > CANDIDATES:
                top = (-values).argpartition(CANDIDATES)[:CANDIDATES]
                chosen[pool[top[values[top] > 0]]] = True
            else:  # the best CANDIDATES hold every positive one
                chosen[pool[positive]] = True
    cand = chosen.nonzero()[0]

    # ---- the candidates' best chunks and blocks: reduced over their own chunks only
    # each candidate's first file and the next: its chunks, its blocks
    bounds = cand.repeat(2)  # a broadcast add over pairs costs several times more
    bounds[1::2] += 1
    own = Ranges.of(hit.searchsorted(snap.file_chunks[bounds]))
    cover_w = chunk_idf / max(float(reduce_add(chunk_idf)), 1e-9)
    # sums over one more than the hit chunks: a range may end at the last (Ranges.reduce)
    chunk_cov_best = own.reduce(np.maximum, doc_sums(at, cover_w[ch.term], n_hit + 1))
    if reduce_any(is_code):
        chunk_code = doc_sums(at, chunk_post * is_code[ch.term], n_hit + 1)
        chunk_code_best = own.reduce(np.maximum, chunk_code)
    else:
        chunk_code_best = np.zeros(len(cand))
    # blocks: neighbouring chunks together
    block_post = bm25_postings(bh, qtf * bh.idf, length_norm(snap, "block", 0.75))
    per_block = doc_sums(bh.docs, block_post, n_blocks + 1)
    block_best = Ranges.of(blocks.file_blocks[bounds]).reduce(np.maximum, per_block)

    # the features' columns as rows (a few copies of many columns at once), transposed at
    # the end: the same floats as one column at a time
    xt = np.empty((len(FEATURES), len(cand)))
    xt[_PER_FILE_AT] = per_file.take(cand, axis=1)
    xt[_CONSTANT_AT] = _file_constants(snap).take(cand, axis=1)
    defines_named = xt[_DEFINES_NAMED]
    np.log1p(defines_named, out=defines_named)
    xt[_PHRASES] /= max(len(query.pair_keys), 1)
    if query.wants_docs:
        xt[_PROSE] = 0.0
        xt[_CONFIG] = 0.0
    xt[_TEST_ASKED] = xt[_TEST] if query.wants_tests else 0.0
    xt[_CODE_WORDS_CHUNK] = chunk_code_best
    xt[_CHUNK_COVERAGE] = chunk_cov_best
    xt[_BLOCK_BEST] = block_best
    xt[_HISTORY_SIMILAR] = similar[cand]
    xt[_HISTORY_CHANGES] = np.log1p(changes[cand]) / 5.0
    window = subject_window(snap, body_at, ch, np.where(in_subject, file_idf, 0.0), cand)
    if query.wants_changelog:
        xt[_CHANGELOG] = 0.0
        xt[_SUBJECT_WINDOW] = window
    else:
        # a changelog's lines restate requests word for word: how close its words sit says
        # nothing of the code they describe
        xt[_SUBJECT_WINDOW] = np.where(xt[_CHANGELOG] > 0, 0.0, window)
    # the "rel" rows over their maximum among the candidates (when above 0), all at once
    relative = xt[_RELATIVE]
    top = reduce_max(relative, axis=1, initial=0.0)
    xt[_RELATIVE] = relative / np.where(top > 0, top, 1.0)[:, None]
    x = np.ascontiguousarray(xt.T)
    if query.only_files and named_paths:
        # "src/app.ts" asks for the file, "src/app.ts:40" for its line 40
        shown = shown_from(snap, named_paths)
        nothing = np.zeros(len(cand), dtype=bool)
        return cand, x, shown, ch, term_list, nothing, DefinedAs(nothing, nothing)
    # the share of the query's phrases each hit chunk holds (a chunk holding a pair holds its
    # terms: one outside `hit` has BM25 0 and stays 0)
    inside = seen[cph.docs]
    phrase = doc_sums(where[cph.docs[inside]], None, len(hit)) / max(len(query.pair_keys), 1)
    whole, message_phrases = whole_message(query, phrase, cph, (where, inside))
    holds_message = np.zeros(len(cand), dtype=bool)
    if whole is not None and message_phrases >= MESSAGE_PAIRS:
        held = np.zeros(n_files, dtype=bool)
        held[snap.chunk_file[hit[whole]]] = True
        holds_message = held[cand]
    named = NameEvidence(lk[0], lk[1], lk[2], lk[4], cover_w) if lk else None
    choice = chunk_choice(query, (hit, where, seen), chunk_scores, phrase, whole, named)
    spelt = doc_sums(lk[3].docs, None, n_files)[cand] > 0 if lk else np.zeros(len(cand), bool)
    tails = doc_sums(lk[5].docs, None, n_files)[cand] > 0 if lk else np.zeros(len(cand), bool)
    return cand, x, choice, ch, term_list, holds_message, DefinedAs(spelt, tails)


def _file_sums(sums: list[tuple[str, npt.NDArray[np.intp], Floats]], n_files: int) -> Floats:
    """Per `_PER_FILE` row and file: the sum of the weights of its postings (name, docs,
    weights) in `sums`; 0 for a row without. The rows laid end to end are summed by one
    bincount, which adds a bin's weights in the order given, as one bincount a row would:
    the same floats, for one numpy call instead of one a row."""
    docs = np.concatenate(
        [d + _PER_FILE.index(name) * n_files if name != _PER_FILE[0] else d for name, d, _ in sums]
    )
    weights = np.concatenate([w for *_, w in sums])
    out = doc_sums(docs, weights, len(_PER_FILE) * n_files)
    return out.reshape(len(_PER_FILE), n_files)


def _file_constants(snap: Snapshot) -> Floats:
    """Per `_CONSTANTS` row and file: its value; computed on a snapshot's first search, not on
    each."""
    key = ("file_constants",)
    found = snap.derived.get(key)
    if found is None:
        cls = snap.file_class
        found = snap.derived[key] = np.array(
            [
                cls == FileClass.CODE,
                cls == FileClass.TEST,
                cls == FileClass.AUX,
                cls == FileClass.PROSE,
                cls == FileClass.CONFIG,
                np.log1p(snap.file_lines) / 8.0,
                np.log1p(snap.file_defs) / 5.0,
                _changelogs(snap),
            ],
            dtype=np.float64,
        )
        assert found.shape[0] == len(_CONSTANTS)
    return found


def _changelogs(snap: Snapshot) -> npt.NDArray[np.bool_]:
    """Per file: whether it is a changelog (prose, its path a changelog's); found on a
    snapshot's first search, not on each."""
    key = ("changelogs",)
    found = snap.derived.get(key)
    if found is None:
        found = snap.file_class == FileClass.PROSE
        at = found.nonzero()[0]  # the path checked for the prose files alone
        found[at] = [_is_changelog(snap.paths[f]) for f in at.tolist()]
        snap.derived[key] = found
    return found


@lru_cache(maxsize=65536)
def _is_changelog(path: str) -> bool:
    return _CHANGELOG_PATH.search(path) is not None
