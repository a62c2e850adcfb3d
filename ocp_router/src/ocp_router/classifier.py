"""TaskClassifier: scores a request's complexity in microseconds, and says why.

The score is the sum of two explainable layers, clamped to [0, 1]:

1. keyword families (`_rules.py`) with fixed weights from the product spec, matched only in
   the user's own words (pasted code, logs and tracebacks are measured, not read for keywords);
2. a small linear model over stemmed words, word pairs, request shape and fired families,
   trained on the labeled requests in tests/data by `scripts/train_classifier.py` and
   shipped as `classifier_weights.json`. It corrects what keywords miss: deep questions in
   plain words, scary words in simple asks.

Every contribution of either layer is reported as a `Signal`, so the signals add up to the
score (before clamping). Deterministic, no network, no tokenizer download.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from operator import itemgetter
from typing import NamedTuple

from ocp_router._features import (
    CODE_EDGES,
    MAX_WORDS,
    PASTED_EDGES,
    PATH_EDGES,
    WORD_EDGES,
    bucket,
    mostly_non_ascii,
    stems_of,
    words_of,
)
from ocp_router._rules import (
    EXTRA_FAMILIES,
    FAMILIES,
    TaskType,
    family,
    match_families,
    match_paste,
)
from ocp_router._text import SplitText, split_request
from ocp_router._tokens import estimate_tokens
from ocp_router.errors import ConfigError
from ocp_router.tiers import Route as Route  # re-exported: Route was defined here

DEFAULT_THRESHOLD = 0.5
_CACHED_CHARS = 20_000
# A request longer than this is judged on its start (where a request is asked; the keyword
# rules read only the first 20,000 characters of prose anyway), so the regex passes cost the
# same for a 64 KB and a 400 KB paste.
JUDGED_CHARS = 64_000
_MANY_FILES = 5
# The largest learned contributions are shown one by one; the rest are folded into one signal.
_LEARNED_SHOWN = 0.02
_LEARNED_SHOWN_MAX = 5


# Signal and ClassifyResult are typed named tuples, not frozen dataclasses: a request builds
# about ten of them, and a frozen dataclass costs 1-4 µs to build against 0.3-0.4 µs.
class Signal(NamedTuple):
    """One reason behind a score: `weight` is what it added (negative: took away)."""

    name: str
    weight: float
    detail: str = ""

    def __str__(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.name} {self.weight:+.2f}{detail}"


class ClassifyResult(NamedTuple):
    complexity_score: float
    task_type: TaskType
    signals: tuple[Signal, ...]
    route_to: Route
    confidence: float
    threshold: float
    estimated_tokens: int
    # The keyword families that fired (names from _rules.FAMILIES) and the distinct file
    # paths named in the user's words: phase 1 reads them on whole payloads.
    families: tuple[str, ...] = ()
    file_refs: int = 0
    # The sum of the signals before clamping to [0, 1]: how far past either end a request
    # is (what per-workspace calibration learns from).
    raw_score: float = 0.0

    def explain(self) -> str:
        """One line a person can read: score, route, and the signals that moved it."""
        parts = ", ".join(str(s) for s in self.signals if s.weight) or "no signals"
        return (
            f"{self.route_to} (score {self.complexity_score:.2f} vs threshold "
            f"{self.threshold:.2f}, {self.task_type}): {parts}"
        )


# (|weight|, its signal): sorted by the first item with a C-level key.
_Shown = tuple[float, Signal]
_BY_MAGNITUDE = itemgetter(0)


# A learned feature as scored: its weight, and the signal it shows as when it is large enough
# to be shown on its own (None: folded into "other features").
_Entry = tuple[float, _Shown | None]


@dataclass(frozen=True, slots=True)
class _Weights:
    """The learned weights, keyed for scoring without building feature names: words by stem,
    pairs by (stem, stem), the first word by stem, shape buckets by count, the rest by name."""

    version: str
    features: dict[str, float]
    words: dict[str, _Entry]
    pairs: dict[tuple[str, str], _Entry]
    first: dict[str, _Entry]
    # a shape bucket's entry for each count up to one past its last edge
    words_bucket: tuple[_Entry | None, ...]
    code_bucket: tuple[_Entry | None, ...]
    pasted_bucket: tuple[_Entry | None, ...]
    paths_bucket: tuple[_Entry | None, ...]
    bias: _Entry | None
    question: _Entry | None
    non_ascii: _Entry | None
    families: dict[str, _Entry]  # the learned adjustment of each keyword family, by name


def _bucket_table(
    features: dict[str, _Entry], what: str, edges: tuple[int, ...], size: int
) -> tuple[_Entry | None, ...]:
    return tuple(features.get(f"s:{what}:" + bucket(n, edges)) for n in range(size))


@lru_cache(maxsize=1)
def _load_weights() -> _Weights:
    raw = json.loads(
        resources.files("ocp_router").joinpath("classifier_weights.json").read_text("utf-8")
    )
    features = {str(f): float(w) for f, w in raw["features"].items()}
    entries: dict[str, _Entry] = {}
    for f, w in features.items():
        shown = (abs(round(w, 4)), Signal("learned: " + _describe(f), round(w, 4)))
        entries[f] = (w, shown if abs(w) >= _LEARNED_SHOWN else None)
    words: dict[str, _Entry] = {}
    pairs: dict[tuple[str, str], _Entry] = {}
    first: dict[str, _Entry] = {}
    families: dict[str, _Entry] = {}
    for f, entry in entries.items():
        if f.startswith("w:"):
            words[f[2:]] = entry
        elif f.startswith("b:"):
            a, _, b = f[2:].partition("_")
            pairs[a, b] = entry
        elif f.startswith("s:first:"):
            first[f.removeprefix("s:first:")] = entry
        elif f.startswith("f:"):
            families[f[2:]] = entry
    return _Weights(
        str(raw.get("version", "?")),
        features,
        words,
        pairs,
        first,
        _bucket_table(entries, "words", WORD_EDGES, MAX_WORDS + 1),
        _bucket_table(entries, "code", CODE_EDGES, CODE_EDGES[-1] + 2),
        _bucket_table(entries, "pasted", PASTED_EDGES, PASTED_EDGES[-1] + 2),
        _bucket_table(entries, "paths", PATH_EDGES, PATH_EDGES[-1] + 2),
        entries.get("s:bias"),
        entries.get("s:question"),
        entries.get("s:non_ascii"),
        families,
    )


def validate_threshold(value: float, *, source: str = "threshold") -> float:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{source} must be between 0.0 and 1.0, got {value!r}")
    return float(value)


_SHAPES = {
    "words": "request length {} words",
    "code": "fenced code {} lines",
    "pasted": "pasted log/code {} lines",
    "paths": "file paths named {}",
    "first": 'starts with "{}"',
}
_FLAGS = {"bias": "baseline", "question": "asked as a question", "non_ascii": "non-Latin script"}


def _describe(feature: str) -> str:
    kind, _, rest = feature.partition(":")
    if kind == "w":
        return f'word "{rest}"'
    if kind == "b":
        return 'phrase "' + rest.replace("_", " ") + '"'
    if kind == "f":
        return f"learned adjustment for {rest}"
    what, _, bucket = rest.partition(":")
    if what in _SHAPES:
        return _SHAPES[what].format(bucket)
    return _FLAGS.get(what, feature)


def rule_layer(prompt: str) -> tuple[SplitText, str, list[str], dict[str, str]]:
    """The request split into prose and paste, its lower-cased plain prose, its words and the
    keyword families that fired (prose families, then the kind of pasted error)."""
    split = split_request(prompt[:JUDGED_CHARS])
    prose_lower = split.plain.lower()
    words = words_of(prose_lower)
    fired = match_families(prose_lower, words)
    fired.update(match_paste(prompt[:JUDGED_CHARS]))
    return split, prose_lower, words, fired


class TaskClassifier:
    """Scores requests. `threshold=None` uses 0.5: a score >= threshold routes to paid."""

    def __init__(self, threshold: float | None = None, *, cache_size: int = 512) -> None:
        self.threshold = validate_threshold(DEFAULT_THRESHOLD if threshold is None else threshold)
        self._weights = _load_weights()
        # Agent loops resend the same user turn with every tool round trip: a result is a
        # pure function of the text, so the last few are kept.
        self._cache: OrderedDict[str, ClassifyResult] = OrderedDict()
        self._cache_size = cache_size

    @property
    def model_version(self) -> str:
        return self._weights.version

    def classify(self, prompt: str) -> ClassifyResult:
        cached = self._cache.get(prompt)
        if cached is not None:
            self._cache.move_to_end(prompt)
            return cached
        result = self._classify(prompt)
        if self._cache_size and len(prompt) <= _CACHED_CHARS:
            self._cache[prompt] = result
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return result

    def _classify(self, prompt: str) -> ClassifyResult:
        split, prose_lower, words, fired = rule_layer(prompt)

        labels = _LABELS
        signals = [
            Signal(*labels[name], '"' + matched.strip() + '"') for name, matched in fired.items()
        ]
        if len(split.paths) > _MANY_FILES and "multi_file" not in fired:
            signals.append(Signal("many files named", 0.35, f"{len(split.paths)} distinct paths"))

        learned = self._learned(split, prose_lower, words, fired)
        signals.extend(learned)
        if split.code_lines:
            signals.append(Signal("fenced code", 0.0, f"{split.code_lines} lines, not read"))
        if split.pasted_lines:
            signals.append(Signal("pasted log/code", 0.0, f"{split.pasted_lines} lines, not read"))

        raw = sum([s.weight for s in signals])
        score = round(min(1.0, max(0.0, raw)), 4)
        route = Route.PAID if score >= self.threshold else Route.LOCAL
        span = max(self.threshold, 1.0 - self.threshold) or 1.0
        confidence = round(min(1.0, abs(score - self.threshold) / span), 4)
        return ClassifyResult(
            complexity_score=score,
            task_type=_task_type(fired, route),
            signals=tuple(signals),
            route_to=route,
            confidence=confidence,
            threshold=self.threshold,
            estimated_tokens=estimate_tokens(prompt),
            families=tuple(fired),
            file_refs=len(split.paths),
            raw_score=round(raw, 4),
        )

    def _learned(
        self, split: SplitText, prose_lower: str, words: list[str], fired: dict[str, str]
    ) -> list[Signal]:
        """The learned layer's contributions: the same features as `_features.extract`, in
        the same order, scored through tables keyed by stem, stem pair and count (no feature
        names are built); a test holds the two to the same sums."""
        wts = self._weights
        stems = stems_of(words)
        found = [e for e in map(wts.words.get, dict.fromkeys(stems)) if e is not None]
        pairs = dict.fromkeys(zip(stems, stems[1:]))  # noqa: B905 - one shorter on purpose
        found += [e for e in map(wts.pairs.get, pairs) if e is not None]
        # shape_features' order: bias, first word, the four buckets, question, script, families
        if wts.bias is not None:
            found.append(wts.bias)
        if stems and (e := wts.first.get(stems[0])) is not None:
            found.append(e)
        n_words, n_code, n_pasted, n_paths = (
            len(stems),
            split.code_lines,
            split.pasted_lines,
            len(split.paths),
        )
        for table, n in (
            (wts.words_bucket, n_words),
            (wts.code_bucket, n_code),
            (wts.pasted_bucket, n_pasted),
            (wts.paths_bucket, n_paths),
        ):
            if (e := table[n if n < len(table) else -1]) is not None:
                found.append(e)
        if wts.question is not None and "?" in prose_lower:
            found.append(wts.question)
        if (
            wts.non_ascii is not None
            and prose_lower
            and not prose_lower.isascii()
            and mostly_non_ascii(prose_lower)
        ):
            found.append(wts.non_ascii)
        found += [e for e in map(wts.families.get, fired) if e is not None]
        total = sum([e[0] for e in found])
        # The largest few by magnitude, in a stable order (ties keep feature order).
        big = [e[1] for e in found if e[1] is not None]
        big.sort(key=_BY_MAGNITUDE, reverse=True)
        out = [signal for _, signal in big[:_LEARNED_SHOWN_MAX]]
        rest = total - sum([s.weight for s in out])
        if abs(rest) >= 1e-4:
            n = len(found) - len(out)
            out.append(Signal("learned: other features", round(rest, 4), f"{n} features"))
        return out


# Which task type a request is: the strongest fired family, escalating families first when
# the request routes paid, de-escalating first when it stays local.
_FAMILY_ORDER = {f.name: i for i, f in enumerate(FAMILIES)}


# What each family says about the task type: its rank (strongest first, then listed first),
# whether it escalates, the type. Families of no particular type are left out.
_TYPE_RANK = {
    f.name: ((abs(f.weight), -_FAMILY_ORDER.get(f.name, 99)), f.weight > 0, f.task_type)
    for f in (*FAMILIES, *(family(n) for n in EXTRA_FAMILIES))
    if f.task_type is not TaskType.UNKNOWN and f.weight != 0
}
_LABELS = {f.name: (f.label, f.weight) for f in (*FAMILIES, *map(family, EXTRA_FAMILIES))}


def _task_type(fired: dict[str, str], route: Route) -> TaskType:
    up = down = None
    for name in fired:
        rank = _TYPE_RANK.get(name)
        if rank is None:
            continue
        if rank[1]:
            if up is None or rank[0] > up[0]:
                up = rank
        elif down is None or rank[0] > down[0]:
            down = rank
    best = (up or down) if route is Route.PAID else (down or up)
    return best[2] if best is not None else TaskType.UNKNOWN
