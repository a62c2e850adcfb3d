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
from itertools import chain, pairwise
from math import floor
from operator import itemgetter
from typing import NamedTuple

from ocp_router._features import (
    CODE_EDGES,
    MAX_WORDS,
    PASTED_EDGES,
    PATH_EDGES,
    STEM_SLICE,
    WORD_EDGES,
    bucket,
    mostly_non_ascii,
    spaced_letters,
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
    word_starts,
)
from ocp_router._text import SplitText, prose_as_is, split_request
from ocp_router._tokens import estimate_tokens
from ocp_router.errors import ConfigError
from ocp_router.tiers import DEFAULT_ROUTE_THRESHOLD
from ocp_router.tiers import Route as Route  # re-exported: Route was defined here
from ocp_router.words import counted

_CACHED_CHARS = 20_000
# A request longer than this is judged on its start (where a request is asked; the keyword
# rules read only the first 20,000 characters of prose anyway), so the regex passes cost the
# same for a 64 KB and a 400 KB paste.
JUDGED_CHARS = 64_000
_MANY_FILES = 5
# The largest learned contributions are shown one by one; the rest are folded into one signal.
_LEARNED_SHOWN = 0.02
_LEARNED_SHOWN_MAX = 5
# The rest of the learned sum is shown (and counted) when at least this large.
_LEARNED_REST_SHOWN = 1e-4


# Signal is a typed named tuple, not a frozen dataclass: a request builds about ten of them,
# and a frozen dataclass costs 1-4 µs to build against 0.3-0.4 µs.
class Signal(NamedTuple):
    """One reason behind a score: `weight` is what it added (negative: took away)."""

    name: str
    weight: float
    detail: str = ""

    def __str__(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.name} {self.weight:+.2f}{detail}"


# What a result's signals are made from: the families that fired (name -> matched text),
# whether "many files named" applies and the number of paths, the learned signals shown one
# by one, the rest of the learned sum and how many features it folds, fenced and pasted lines.
_Why = tuple[dict[str, str], bool, int, list[Signal], float, int, int, int]


class ClassifyResult:
    """A request's score, verdict and reasons. Reads like the named tuple it was (fields by
    name, `_asdict()`, `==`), but `signals`, `estimated_tokens`, `task_type` and `confidence`
    are worked out when first read: routing reads only the score, verdict, families and file
    references (traces, explanations and calibration read the rest), and building them all
    was a quarter of a cold call. `raw_score` is still exactly the sum of the signals'
    weights."""

    __slots__ = (
        "complexity_score",
        "route_to",
        "threshold",
        # The keyword families that fired (names from _rules.FAMILIES) and the distinct file
        # paths named in the user's words: phase 1 reads them on whole payloads.
        "families",
        "file_refs",
        # The sum of the signals before clamping to [0, 1]: how far past either end a request
        # is (what per-workspace calibration learns from).
        "raw_score",
        "_prompt",
        "_why",
        "_signals",
        "_tokens",
        "_task_type",
        "_confidence",
    )
    _fields = (
        "complexity_score",
        "task_type",
        "signals",
        "route_to",
        "confidence",
        "threshold",
        "estimated_tokens",
        "families",
        "file_refs",
        "raw_score",
    )

    complexity_score: float
    route_to: Route
    threshold: float
    families: tuple[str, ...]
    file_refs: int
    raw_score: float

    def __init__(
        self,
        complexity_score: float,
        route_to: Route,
        threshold: float,
        families: tuple[str, ...],
        file_refs: int,
        raw_score: float,
        prompt: str,
        why: _Why,
    ) -> None:
        self.complexity_score = complexity_score
        self.route_to = route_to
        self.threshold = threshold
        self.families = families
        self.file_refs = file_refs
        self.raw_score = raw_score
        self._prompt = prompt
        self._why = why
        self._signals: tuple[Signal, ...] | None = None
        self._tokens = -1
        self._task_type: TaskType | None = None
        self._confidence = -1.0

    @property
    def task_type(self) -> TaskType:
        """The strongest fired family's type, escalating families first when the request
        routes paid, de-escalating first when it stays local."""
        if self._task_type is None:
            self._task_type = _task_type(self._why[0], self.route_to)
        return self._task_type

    @property
    def confidence(self) -> float:
        """How far the score is from the threshold, as a share of the way to the far end."""
        if self._confidence < 0.0:
            threshold = self.threshold
            span = max(threshold, 1.0 - threshold) or 1.0
            self._confidence = round(min(1.0, abs(self.complexity_score - threshold) / span), 4)
        return self._confidence

    @property
    def signals(self) -> tuple[Signal, ...]:
        """Every contribution to the score, in order: keyword families, many files named,
        the learned layer (its largest features, then the rest folded), fenced and pasted
        material (weight 0: measured, not read)."""
        if self._signals is None:
            fired, many_files, n_paths, shown, rest, n_rest, code_lines, pasted_lines = self._why
            labels = _LABELS
            signals = [Signal(*labels[name], '"' + m.strip() + '"') for name, m in fired.items()]
            if many_files:
                signals.append(Signal("many files named", 0.35, f"{n_paths} distinct paths"))
            signals += shown
            if abs(rest) >= _LEARNED_REST_SHOWN:
                signals.append(
                    Signal("learned: other features", round(rest, 4), counted(n_rest, "feature"))
                )
            if code_lines:
                signals.append(
                    Signal("fenced code", 0.0, f"{counted(code_lines, 'line')}, not read")
                )
            if pasted_lines:
                signals.append(
                    Signal("pasted log/code", 0.0, f"{counted(pasted_lines, 'line')}, not read")
                )
            self._signals = tuple(signals)
        return self._signals

    @property
    def estimated_tokens(self) -> int:
        """The request's size in tokens of a GPT-4-class tokenizer (estimated)."""
        if self._tokens < 0:
            self._tokens = estimate_tokens(self._prompt)
        return self._tokens

    def _asdict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self._fields}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClassifyResult):
            return NotImplemented
        return self._asdict() == other._asdict()

    def __hash__(self) -> int:
        return hash(tuple(self._asdict().values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self._asdict().items())
        return f"ClassifyResult({fields})"

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
# Getters that let map/sum/filter read the tuples in C.
_SIGNAL_WEIGHT = itemgetter(1)  # Signal.weight
_SHOWN_SIGNAL = itemgetter(1)  # a _Shown's signal
_PAID = Route.PAID
_LOCAL = Route.LOCAL


@dataclass(frozen=True, slots=True)
class _Weights:
    """The learned weights, keyed for scoring without building feature names. Each feature
    has a number from 1 (0: no such feature, so `filter(None, ...)` drops misses): words are
    numbered by stem, pairs by (stem, stem), the first word by stem, shape buckets by count,
    the rest by name; `weight[n]` is its weight and `shown[n]` its signal when it is large
    enough to be shown on its own (None: folded into "other features")."""

    version: str
    features: dict[str, float]
    weight: list[float]
    shown: list[_Shown | None]
    words: dict[str, int]
    pairs: dict[tuple[str, str], int]
    first: dict[str, int]
    # a shape bucket's feature for each count up to one past its last edge
    words_bucket: tuple[int, ...]
    code_bucket: tuple[int, ...]
    pasted_bucket: tuple[int, ...]
    paths_bucket: tuple[int, ...]
    # the code, pasted and paths buckets' features of a request with none of them
    nothing_pasted: tuple[int, int, int]
    bias: int
    question: int
    non_ascii: int
    families: dict[str, int]  # the learned adjustment of each keyword family, by name


def _bucket_table(
    numbers: dict[str, int], what: str, edges: tuple[int, ...], size: int
) -> tuple[int, ...]:
    return tuple(numbers.get(f"s:{what}:" + bucket(n, edges), 0) for n in range(size))


@lru_cache(maxsize=1)
def _load_weights() -> _Weights:
    raw = json.loads(
        resources.files("ocp_router").joinpath("classifier_weights.json").read_text("utf-8")
    )
    features = {str(f): float(w) for f, w in raw["features"].items()}
    weight: list[float] = [0.0]
    shown: list[_Shown | None] = [None]
    numbers: dict[str, int] = {}
    for f, w in features.items():
        numbers[f] = len(weight)
        weight.append(w)
        signal = Signal("learned: " + _describe(f), round(w, 4))
        shown.append((abs(round(w, 4)), signal) if abs(w) >= _LEARNED_SHOWN else None)
    words: dict[str, int] = {}
    pairs: dict[tuple[str, str], int] = {}
    first: dict[str, int] = {}
    families: dict[str, int] = {}
    for f, n in numbers.items():
        if f.startswith("w:"):
            words[f[2:]] = n
        elif f.startswith("b:"):
            a, _, b = f[2:].partition("_")
            pairs[a, b] = n
        elif f.startswith("s:first:"):
            first[f.removeprefix("s:first:")] = n
        elif f.startswith("f:"):
            families[f[2:]] = n
    code_bucket = _bucket_table(numbers, "code", CODE_EDGES, CODE_EDGES[-1] + 2)
    pasted_bucket = _bucket_table(numbers, "pasted", PASTED_EDGES, PASTED_EDGES[-1] + 2)
    paths_bucket = _bucket_table(numbers, "paths", PATH_EDGES, PATH_EDGES[-1] + 2)
    return _Weights(
        str(raw.get("version", "?")),
        features,
        weight,
        shown,
        words,
        pairs,
        first,
        _bucket_table(numbers, "words", WORD_EDGES, MAX_WORDS + 1),
        code_bucket,
        pasted_bucket,
        paths_bucket,
        (code_bucket[0], pasted_bucket[0], paths_bucket[0]),
        numbers.get("s:bias", 0),
        numbers.get("s:question", 0),
        numbers.get("s:non_ascii", 0),
        families,
    )


def round4(x: float) -> float:
    """`round(x, 4)`, the same float every time (a test holds the two together), at less than
    half the cost on a cold call: CPython rounds through a decimal string (dtoa, printf and
    strtod, code a short request touches nowhere else). Scaled by 10^4, a value whose
    fraction is not within a hair of one half rounds to the same integer n as the exact value
    does, and n / 10^4 is then the double nearest n·10^-4, which is what the string parses
    to. Halves, zero (its sign), huge values and NaN go to round()."""
    y = x * 10000.0
    if -1e8 < y < 1e8:
        n = floor(y)
        fraction = y - n  # exact: y and n share their integer part
        if fraction < 0.4999:
            if n:
                return n / 10000.0
        elif fraction > 0.5001 and n != -1:
            return (n + 1) / 10000.0
    return round(x, 4)


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
    spaced = spaced_letters(prose_lower)
    words = words_of(prose_lower, spaced)
    fired = match_families(prose_lower, word_starts(spaced))
    fired.update(match_paste(prompt[:JUDGED_CHARS]))
    return split, prose_lower, words, fired


class TaskClassifier:
    """Scores requests. `threshold=None` uses DEFAULT_ROUTE_THRESHOLD: a score >= threshold
    routes to paid."""

    def __init__(self, threshold: float | None = None, *, cache_size: int = 512) -> None:
        self.threshold = validate_threshold(
            DEFAULT_ROUTE_THRESHOLD if threshold is None else threshold
        )
        # Agent loops resend the same user turn with every tool round trip: a result is a
        # pure function of the text, so the last few are kept.
        self._cache: OrderedDict[str, ClassifyResult] = OrderedDict()
        self._cache_size = cache_size

    @property
    def _weights(self) -> _Weights:
        # Read at the first request, not with the router: a server start that only searches
        # does not wait for them (lru_cache: once per process).
        return _load_weights()

    @property
    def model_version(self) -> str:
        return self._weights.version

    def classify(self, prompt: str) -> ClassifyResult:
        # A text that is never cached is not looked up (hashing 100 KB costs tens of µs).
        cacheable = self._cache_size and len(prompt) <= _CACHED_CHARS
        if cacheable:
            cached = self._cache.get(prompt)
            if cached is not None:
                self._cache.move_to_end(prompt)
                return cached
        result = self._classify(prompt)
        if cacheable:
            self._cache[prompt] = result
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return result

    def _classify(self, prompt: str) -> ClassifyResult:
        # rule_layer, with stems where it has words (only the learned layer reads either).
        judged = prompt[:JUDGED_CHARS]
        # A short typed request is most often plain prose that splitting leaves as it is.
        as_is = prose_as_is(judged)
        if as_is is not None:
            prose_lower = as_is
            code_lines = pasted_lines = n_paths = 0
        else:
            split = split_request(judged)
            prose_lower = split.plain.lower()
            code_lines, pasted_lines, n_paths = (
                split.code_lines,
                split.pasted_lines,
                len(split.paths),
            )
        spaced = spaced_letters(prose_lower)
        # every word cut to its stem (`stems_of` keeps at most MAX_WORDS): runs of letters and
        # their slices cost half what one regex pass that captures the stems did
        stems = list(map(STEM_SLICE, words_of(prose_lower, spaced)))
        # one Aho-Corasick pass: the families' word starts, and pasted-error words when the
        # whole request is prose as it is
        found = word_starts(spaced)
        fired = match_families(prose_lower, found)
        if len(stems) > MAX_WORDS:
            stems = stems_of(stems)
        if paste := match_paste(judged, as_is, found):
            fired.update(paste)
        many_files = n_paths > _MANY_FILES and "multi_file" not in fired
        shown, rest, n_rest = self._learned(
            code_lines, pasted_lines, n_paths, prose_lower, stems, fired
        )
        # The signals' weights in the signals' order (ClassifyResult.signals), in one sum() as
        # the plain classifier adds them: from Python 3.12 sum() compensates float rounding, so
        # a loop (5k instructions less) would differ from it in the last bit there. The fenced
        # and pasted signals weigh 0.0 and add nothing.
        raw = sum(
            chain(
                map(_FAMILY_WEIGHT.__getitem__, fired),
                (0.35,) if many_files else (),
                map(_SIGNAL_WEIGHT, shown),
                (round4(rest),) if abs(rest) >= _LEARNED_REST_SHOWN else (),
            )
        )
        rounded = round4(raw)
        # round(min(1.0, max(0.0, raw)), 4), from the one rounding (the same values, ties too)
        score = rounded if 0.0 < raw < 1.0 else 1.0 if raw >= 1.0 else 0.0
        threshold = self.threshold
        return ClassifyResult(
            score,
            _PAID if score >= threshold else _LOCAL,
            threshold,
            tuple(fired),
            n_paths,
            rounded,
            prompt,
            (
                fired,
                many_files,
                n_paths,
                shown,
                rest,
                n_rest,
                code_lines,
                pasted_lines,
            ),
        )

    def _learned(
        self,
        code: int,
        pasted: int,
        paths: int,
        prose_lower: str,
        stems: list[str],
        fired: dict[str, str],
    ) -> tuple[list[Signal], float, int]:
        """The learned layer's contributions: the signals shown one by one, the rest of the sum
        and how many features make it up. `stems` is `stems_of(words)`.

        The features are `_features.extract`'s, in its order, scored through tables keyed by
        stem, stem pair and count (no feature names are built); a test holds the two to the
        same sums. Each feature has a number, so lookups, de-duplication and sums run in C
        (map, filter, itemgetter, sum): only the few shape features cost Python bytecode.
        `code`, `pasted`, `paths`: the request's fenced and pasted lines and paths named."""
        wts = self._weights
        if code or pasted or paths:
            pasted_shape: tuple[int, ...] = (
                wts.code_bucket[code if code <= CODE_EDGES[-1] else -1],
                wts.pasted_bucket[pasted if pasted <= PASTED_EDGES[-1] else -1],
                wts.paths_bucket[paths if paths <= PATH_EDGES[-1] else -1],
            )
        else:
            pasted_shape = wts.nothing_pasted
        # extract's order: words, then pairs (each by first occurrence), then shape_features':
        # bias, first word, the four buckets, question, script, families. (pairwise, not zip:
        # zip's strict= costs a keyword parse.)
        found = list(
            filter(
                None,
                chain(
                    map(wts.words.get, stems),
                    map(wts.pairs.get, pairwise(stems)),
                    (
                        wts.bias,
                        wts.first.get(stems[0], 0) if stems else 0,
                        wts.words_bucket[len(stems)],  # len(stems) <= MAX_WORDS
                    ),
                    pasted_shape,
                    (
                        wts.question if "?" in prose_lower else 0,
                        wts.non_ascii
                        if prose_lower
                        and not prose_lower.isascii()
                        and mostly_non_ascii(prose_lower)
                        else 0,
                    ),
                    map(wts.families.get, fired),
                ),
            )
        )
        if len(set(stems)) < len(stems):
            # A word said twice (so maybe a pair too) is one feature: keep first occurrences.
            found = list(dict.fromkeys(found))
        if len(found) > 1:
            of_found = itemgetter(*found)  # a tuple of the items at those numbers, in C
            weights, shown = of_found(wts.weight), of_found(wts.shown)
        else:
            weights = tuple(map(wts.weight.__getitem__, found))
            shown = tuple(map(wts.shown.__getitem__, found))
        total = sum(weights)
        # The largest few by magnitude, in a stable order (ties keep feature order).
        big = list(filter(None, shown))
        big.sort(key=_BY_MAGNITUDE, reverse=True)
        out = list(map(_SHOWN_SIGNAL, big[:_LEARNED_SHOWN_MAX]))
        return out, total - sum(map(_SIGNAL_WEIGHT, out)), len(found) - len(out)


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
_FAMILY_WEIGHT = {name: weight for name, (_, weight) in _LABELS.items()}


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
