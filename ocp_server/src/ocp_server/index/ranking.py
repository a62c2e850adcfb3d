"""Ranking: the learned model that weighs each candidate file's features.

A linear model learned on the development queries of `../shared/bench/retrieval` (commit
message -> files it changed, doc comment -> function; see `scripts/train_ranker.py`) weighs the
features `features.py` computes. The weights ship as data (`ranker_weights.json`): one vector
for every query, and one added for each kind of query that weighs the evidence its own way
(`query_kinds`: it writes code, it names a file). A lookup puts the files defining what it
names first; a question about the code ("how are ... read") puts its best code file first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from ocp_server.index.arrays import Floats, Ints
from ocp_server.index.chunk_choice import ChunkScores
from ocp_server.index.features import FEATURES, candidate_features
from ocp_server.index.file_kinds import FileClass
from ocp_server.index.hits import Hits, reduce_any, reduce_max
from ocp_server.index.lexical import Snapshot
from ocp_server.index.named_files import named_files
from ocp_server.index.query import Query

__all__ = [
    "QUERY_KINDS",
    "Ranked",
    "RankerWeights",
    "load_weights",
    "query_kinds",
    "rank",
]


class Ranked(NamedTuple):
    files: Ints  # file indexes, best first
    scores: Floats  # their scores
    chunk_scores: ChunkScores  # per chunk: how well it answers (for picking chunks in a file)
    chunk_hits: Hits  # body-term postings of the query over chunks (for matched terms)
    term_list: tuple[str, ...]


#: Kinds of query that weigh the features their own way (`query_kinds`).
QUERY_KINDS: tuple[str, ...] = ("writes_code", "names_file")


def query_kinds(query: Query, x: Floats) -> npt.NDArray[np.bool_]:
    """Per QUERY_KINDS: whether the query is of that kind, given its candidates' features.

    A query that writes code (`parseBody`, snake_case, `x.y()`) says what it is about in
    identifiers; one that names a file by its stem ("the cookie helper") points at a place.
    In both, the evidence weighs differently than in a request in plain words ("Add USD to
    the default file types"): definitions and file names count for more, bag-of-words
    coverage for less."""
    return np.array(_kinds(query, x), dtype=bool)


_STEM_NAMED = FEATURES.index("stem_named")


def _kinds(query: Query, x: Floats) -> tuple[bool, ...]:
    """`query_kinds` as a tuple: to look the weights up by."""
    return (bool(query.code), bool(len(x) and reduce_any(x[:, _STEM_NAMED])))


@dataclass(frozen=True, slots=True)
class RankerWeights:
    """The shipped model: weights per feature (in FEATURES order) for every query, and per
    query kind (QUERY_KINDS) the weights added for queries of that kind. One vector for all
    queries ranked 0.017 commit MRR@10 lower leave-one-repository-out (scripts/train_ranker.py)."""

    base: Floats
    kinds: tuple[Floats, ...]  # in QUERY_KINDS order
    #: `for_kinds` per kinds asked before: a search asks with one of four
    summed: dict[tuple[bool, ...], Floats] = field(default_factory=dict, compare=False)

    def for_kinds(self, kinds: npt.NDArray[np.bool_]) -> Floats:
        return self.kept(tuple(kinds.tolist()))

    def kept(self, kinds: tuple[bool, ...]) -> Floats:
        """`for_kinds` of a tuple, summed on its first use (read only)."""
        w = self.summed.get(kinds)
        if w is None:
            w = self.base.copy()
            for extra, on in zip(self.kinds, kinds, strict=True):
                if on:
                    w += extra
            w.flags.writeable = False
            self.summed[kinds] = w
        return w


@cache
def load_weights() -> RankerWeights:
    data = json.loads(
        resources.files("ocp_server.index").joinpath("ranker_weights.json").read_text("utf-8")
    )
    base = np.asarray(data["weights"], dtype=np.float64)
    by_kind = data.get("query_kinds", {})
    kinds = tuple(
        np.asarray(by_kind.get(k, np.zeros(len(base))), dtype=np.float64) for k in QUERY_KINDS
    )
    if tuple(data["features"]) != FEATURES or any(len(k) != len(base) for k in kinds):
        raise RuntimeError(
            "ranker_weights.json was trained for other features: run "
            "`uv run python scripts/train_ranker.py`"
        )
    return RankerWeights(base, kinds)


def _span(scores: Floats) -> float:
    """`np.ptp(scores)` (the same subtraction) without its Python-level wrapper."""
    return float(reduce_max(scores) - np.minimum.reduce(scores))


def rank(
    snap: Snapshot,
    query: Query,
    allowed: npt.NDArray[np.bool_] | None = None,
    weights: Floats | None = None,
) -> Ranked:
    cand, x, chunk_scores, ch, term_list, holds_message, defined_as = candidate_features(
        snap, query, allowed
    )
    w = load_weights().kept(_kinds(query, x)) if weights is None else weights
    scores = x @ w if len(cand) else np.zeros(0)
    if query.asks_code and len(cand):
        # "how are environment variables read for options" asks how the code does it: the
        # best code file (the product's, or its examples' and docs' code) comes first, before
        # a test whose name and help text share its words (`test_options.py`), which a
        # change request ("Read envvars for options") would touch as well. The tests keep
        # their places after it: every code file before them found the code more often
        # (question sets of `scripts/agent_queries.py`) but lost more where a test was the
        # file changed.
        kind = snap.file_class[cand]
        source = np.flatnonzero((kind == FileClass.CODE) | (kind == FileClass.AUX))
        if len(source):
            best = source[int(np.argmax(scores[source]))]
            scores[best] += _span(scores) + 1.0
    if query.definitions_first and len(cand):
        # A lookup ("verifyToken", "where is parse_config defined") wants the definition
        # first; in longer requests a named identifier is one clue among others, and the
        # learned weight of `defines_named` already counts it.
        # Files defining a longer name it is the tail of come next: "ToolError", which
        # nothing defines, wants `OCPToolError` before the test named for a tool error.
        scores = scores + defined_as.tails * (_span(scores) + 1.0)
        defines = x[:, FEATURES.index("defines_named")] > 0
        scores = scores + defines * (_span(scores) + 1.0)
        # and of those, the ones spelling it as the query does: "echo" wants `echo` before
        # `_echo`, which `defined_hash` spells alike
        scores = scores + defined_as.spelt * (_span(scores) + 1.0)
    if reduce_any(holds_message):
        # a message pasted whole ("Failed to lookup view") is answered by the code that
        # raises it, before the tests asserting it and a file defining one of its words
        source = holds_message & (snap.file_class[cand] == FileClass.CODE)
        if reduce_any(source):
            scores = scores + source * (_span(scores) + 1.0)
    if query.files and len(cand):
        # a file the query names by its path or name ("termui.py", "src/app.ts:40") is what
        # it asks for, before any file its words match
        named = np.zeros(snap.n_files, dtype=bool)
        named[list(named_files(snap, query))] = True
        scores = scores + named[cand] * (_span(scores) + 1.0)
    order = (-scores).argsort(kind="stable")
    return Ranked(cand[order], scores[order], chunk_scores, ch, term_list)
