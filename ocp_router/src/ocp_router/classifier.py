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

from ocp_router._features import shape_features, stems_of, words_of
from ocp_router._rules import FAMILIES, TaskType, family, match_families, match_paste
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


@dataclass(frozen=True, slots=True)
class Signal:
    """One reason behind a score: `weight` is what it added (negative: took away)."""

    name: str
    weight: float
    detail: str = ""

    def __str__(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.name} {self.weight:+.2f}{detail}"


@dataclass(frozen=True, slots=True)
class ClassifyResult:
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


@dataclass(frozen=True, slots=True)
class _Weights:
    """The learned weights, keyed for scoring without building feature names: words by stem,
    pairs by (stem, stem), everything else by name."""

    version: str
    features: dict[str, float]
    words: dict[str, float]
    pairs: dict[tuple[str, str], float]
    # The signal each feature large enough to be shown on its own reads as, built once, under
    # the same keys.
    shown_words: dict[str, _Shown]
    shown_pairs: dict[tuple[str, str], _Shown]
    shown_other: dict[str, _Shown]


@lru_cache(maxsize=1)
def _load_weights() -> _Weights:
    raw = json.loads(
        resources.files("ocp_router").joinpath("classifier_weights.json").read_text("utf-8")
    )
    features = {str(f): float(w) for f, w in raw["features"].items()}
    words: dict[str, float] = {}
    pairs: dict[tuple[str, str], float] = {}
    shown_words: dict[str, _Shown] = {}
    shown_pairs: dict[tuple[str, str], _Shown] = {}
    shown_other: dict[str, _Shown] = {}
    for f, w in features.items():
        signal = (abs(round(w, 4)), Signal("learned: " + _describe(f), round(w, 4)))
        big = abs(w) >= _LEARNED_SHOWN
        if f.startswith("w:"):
            words[f[2:]] = w
            if big:
                shown_words[f[2:]] = signal
        elif f.startswith("b:"):
            a, _, b = f[2:].partition("_")
            pairs[a, b] = w
            if big:
                shown_pairs[a, b] = signal
        elif big:
            shown_other[f] = signal
    return _Weights(
        str(raw.get("version", "?")),
        features,
        words,
        pairs,
        shown_words,
        shown_pairs,
        shown_other,
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

        signals: list[Signal] = []
        for name, matched in fired.items():
            fam = family(name)
            signals.append(Signal(fam.label, fam.weight, f'"{matched.strip()}"'))
        if len(split.paths) > _MANY_FILES and "multi_file" not in fired:
            signals.append(Signal("many files named", 0.35, f"{len(split.paths)} distinct paths"))

        learned = self._learned(split, prose_lower, words, fired)
        signals.extend(learned)
        if split.code_lines:
            signals.append(Signal("fenced code", 0.0, f"{split.code_lines} lines, not read"))
        if split.pasted_lines:
            signals.append(Signal("pasted log/code", 0.0, f"{split.pasted_lines} lines, not read"))

        raw = sum(s.weight for s in signals)
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
        """The learned layer's contributions: the same features as `_features.extract`,
        scored through dicts keyed by stem and stem pair (no feature names are built)."""
        wts = self._weights
        stems = stems_of(words)
        uniq = dict.fromkeys(stems)
        pairs = dict.fromkeys(zip(stems, stems[1:], strict=False))
        other = shape_features(split, prose_lower, stems, fired)
        found = [w for w in map(wts.words.get, uniq) if w is not None]
        found += [w for w in map(wts.pairs.get, pairs) if w is not None]
        get = wts.features.get
        found += [w for f in other if (w := get(f)) is not None]
        total = sum(found)
        # The largest few by magnitude, in a stable order (ties keep feature order).
        sw, sp, so = wts.shown_words, wts.shown_pairs, wts.shown_other
        big = [sw[k] for k in uniq if k in sw]
        big += [sp[k] for k in pairs if k in sp]
        big += [so[f] for f in other if f in so]
        big.sort(key=_BY_MAGNITUDE, reverse=True)
        out = [signal for _, signal in big[:_LEARNED_SHOWN_MAX]]
        rest = total - sum(s.weight for s in out)
        if abs(rest) >= 1e-4:
            n = len(found) - len(out)
            out.append(Signal("learned: other features", round(rest, 4), f"{n} features"))
        return out


# Which task type a request is: the strongest fired family, escalating families first when
# the request routes paid, de-escalating first when it stays local.
_FAMILY_ORDER = {f.name: i for i, f in enumerate(FAMILIES)}


def _task_type(fired: dict[str, str], route: Route) -> TaskType:
    if not fired:
        return TaskType.UNKNOWN
    fams = [family(n) for n in fired]
    up = [f for f in fams if f.weight > 0 and f.task_type is not TaskType.UNKNOWN]
    down = [f for f in fams if f.weight < 0 and f.task_type is not TaskType.UNKNOWN]
    first, second = (up, down) if route is Route.PAID else (down, up)
    for group in (first, second):
        if group:
            return max(
                group, key=lambda f: (abs(f.weight), -_FAMILY_ORDER.get(f.name, 99))
            ).task_type
    return TaskType.UNKNOWN
