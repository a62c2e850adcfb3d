"""The classifier written plainly, as it was before it was made fast: every family's whole
alternation searched, every token scanned, features built by name and looked up in the
weights file. `test_classifier_fast_path.py` holds TaskClassifier to it request by request,
so a speed-up can never change a verdict, a score or an explanation."""

from __future__ import annotations

from ocp_router import _rules, _text
from ocp_router._features import _ASCII_WORD, WORD, extract
from ocp_router._rules import FAMILIES, TaskType, family
from ocp_router._tokens import estimate_tokens
from ocp_router.classifier import (
    _LEARNED_SHOWN,
    _LEARNED_SHOWN_MAX,
    _MANY_FILES,
    JUDGED_CHARS,
    Signal,
    _describe,
    _load_weights,
)
from ocp_router.tiers import Route
from ocp_router.words import counted


def split_request(text: str) -> _text.SplitText:
    code_blocks = code_lines = code_chars = 0
    if "```" in text:
        blocks = _text._FENCE.findall(text)
        code_blocks = len(blocks)
        code_chars = sum(len(b) for b in blocks)
        code_lines = sum(b.count("\n") for b in blocks)
        text = _text._FENCE.sub("\n", text)
    pasted_lines = 0
    if "\n" in text:
        stripped, pasted_lines = _text._PASTED_LINE.subn("", text)
        text = stripped if stripped.strip() else text.split("\n", 1)[0]
    paths, plain = _text.scan_tokens(text[: _text._PROSE_LIMIT])
    return _text.SplitText(text, plain, code_blocks, code_lines, code_chars, pasted_lines, paths)


def match_paste(text: str) -> dict[str, str]:
    if len(text) > 2 * _rules._PASTE_READ:
        text = text[: _rules._PASTE_READ] + "\n" + text[-_rules._PASTE_READ :]
    lower = text.lower()
    fired = {}
    hard = next((w for w in _rules._PASTE_HARD_WORDS if w in lower), None)
    if hard is None and (m := _rules._NUMBERS_DIFFER.search(lower)):
        hard = m.group(0)
    if hard is not None:
        fired[_rules.PASTE_HARD.name] = hard
    if easy := next((w for w in _rules._PASTE_EASY_WORDS if w in lower), None):
        fired[_rules.PASTE_EASY.name] = easy
    return fired


def match_families(prose_lower: str) -> dict[str, str]:
    fired: dict[str, str] = {}
    for c in _rules._COMPILED:
        if m := c.regex.search(prose_lower):
            fired[c.family.name] = m.group(0)
        elif c.cjk is not None and (mc := c.cjk.search(prose_lower)):
            fired[c.family.name] = mc.group(0)
    if (target := _rules._BULK_TARGET.search(prose_lower)) and _rules.EDIT_VERB.search(prose_lower):
        fired[_rules.BULK.name] = target.group(0)
    return fired


def learned(
    split: _text.SplitText, prose_lower: str, words: list[str], fired: dict[str, str]
) -> list[Signal]:
    weights = _load_weights().features
    found = [(f, weights[f]) for f in extract(split, prose_lower, words, fired) if f in weights]
    total = sum(w for _, w in found)
    big = [
        (abs(round(w, 4)), Signal("learned: " + _describe(f), round(w, 4)))
        for f, w in found
        if abs(w) >= _LEARNED_SHOWN
    ]
    big.sort(key=lambda b: b[0], reverse=True)
    out = [signal for _, signal in big[:_LEARNED_SHOWN_MAX]]
    rest = total - sum(s.weight for s in out)
    if abs(rest) >= 1e-4:
        out.append(
            Signal(
                "learned: other features", round(rest, 4), counted(len(found) - len(out), "feature")
            )
        )
    return out


def task_type(fired: dict[str, str], route: Route) -> TaskType:
    if not fired:
        return TaskType.UNKNOWN
    order = {f.name: i for i, f in enumerate(FAMILIES)}
    fams = [family(n) for n in fired]
    up = [f for f in fams if f.weight > 0 and f.task_type is not TaskType.UNKNOWN]
    down = [f for f in fams if f.weight < 0 and f.task_type is not TaskType.UNKNOWN]
    first, second = (up, down) if route is Route.PAID else (down, up)
    for group in (first, second):
        if group:
            return max(group, key=lambda f: (abs(f.weight), -order.get(f.name, 99))).task_type
    return TaskType.UNKNOWN


def classify(prompt: str, threshold: float = 0.5) -> dict[str, object]:
    """What TaskClassifier.classify(prompt) must say, as a dict of its fields."""
    split = split_request(prompt[:JUDGED_CHARS])
    prose_lower = split.plain.lower()
    words = (_ASCII_WORD if prose_lower.isascii() else WORD).findall(prose_lower)
    fired = match_families(prose_lower)
    fired.update(match_paste(prompt[:JUDGED_CHARS]))
    signals = [
        Signal(family(n).label, family(n).weight, f'"{m.strip()}"') for n, m in fired.items()
    ]
    if len(split.paths) > _MANY_FILES and "multi_file" not in fired:
        signals.append(Signal("many files named", 0.35, f"{len(split.paths)} distinct paths"))
    signals += learned(split, prose_lower, words, fired)
    if split.code_lines:
        signals.append(Signal("fenced code", 0.0, f"{counted(split.code_lines, 'line')}, not read"))
    if split.pasted_lines:
        signals.append(
            Signal("pasted log/code", 0.0, f"{counted(split.pasted_lines, 'line')}, not read")
        )
    raw = sum(s.weight for s in signals)
    score = round(min(1.0, max(0.0, raw)), 4)
    route = Route.PAID if score >= threshold else Route.LOCAL
    span = max(threshold, 1.0 - threshold) or 1.0
    return {
        "complexity_score": score,
        "task_type": task_type(fired, route),
        "signals": tuple(signals),
        "route_to": route,
        "confidence": round(min(1.0, abs(score - threshold) / span), 4),
        "threshold": threshold,
        "estimated_tokens": estimate_tokens(prompt),
        "families": tuple(fired),
        "file_refs": len(split.paths),
        "raw_score": round(raw, 4),
    }
