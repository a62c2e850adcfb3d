"""The paid boundary for forwarded bodies: every text a paid provider would read (system
prompt, message text, tool results, tool-call arguments) is redacted with the router's
`redact_all`, in place, keeping the body's shape byte-for-byte otherwise (cache_control
blocks, images, tools and unknown fields pass untouched). Redaction is deterministic, so a
prompt-cache prefix stays the same from one request to the next.

Checked against `redact_all` by tests/proxy/test_proxy_units.py."""

from __future__ import annotations

from collections import Counter, OrderedDict
from typing import Any

from ocp_router.redact import RedactionResult, redact

# (container, key) of one string inside the body.
_Slot = tuple[Any, Any]


_TEXT_KEYS = frozenset({"text", "content", "input", "arguments", "system", "thinking"})


def _collect(
    value: Any, slots: list[_Slot], container: Any, key: Any, everything: bool = False
) -> None:
    """Find the strings a model reads: text fields, and every string inside tool input."""
    if isinstance(value, str):
        if value:
            slots.append((container, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _collect(item, slots, value, i, everything)
    elif isinstance(value, dict):
        if value.get("type") in ("image", "image_url", "input_audio"):
            return  # binary payloads: nothing to read, and too large to scan
        for k, item in value.items():
            if everything or k in _TEXT_KEYS or isinstance(item, dict | list):
                _collect(item, slots, value, k, everything or k == "input")


class RedactionCache:
    """`redact` results by text, least recently used out first, bounded by characters held.

    An agent resends its system prompt and the whole conversation every turn; scanning
    each text once instead of once per request is what keeps redaction off the latency
    (about 0.5 ms per 8 KB scanned, a hash lookup when seen before)."""

    def __init__(self, max_chars: int = 32_000_000) -> None:
        self.max_chars = max_chars
        self._held = 0
        self._results: OrderedDict[str, RedactionResult] = OrderedDict()

    def __call__(self, text: str) -> RedactionResult:
        result = self._results.get(text)
        if result is not None:
            self._results.move_to_end(text)
            return result
        result = redact(text)
        if len(text) <= self.max_chars // 4:
            self._results[text] = result
            self._held += len(text)
            while self._held > self.max_chars:
                old, _ = self._results.popitem(last=False)
                self._held -= len(old)
        return result


def redact_texts(texts: list[str], cache: RedactionCache) -> list[RedactionResult]:
    """`ocp_router.boundary.redact_all` with each text's own scan cached: a secret found in
    one text is then hidden wherever it recurs verbatim in another."""
    results = [cache(t) for t in texts]
    found: dict[str, str] = {}
    for text, result in zip(texts, results, strict=True):
        for r in result.redactions:
            value = text[r.start : r.end]
            if len(value) >= 8 and not any(c.isspace() for c in value):
                found.setdefault(value, r.kind)
    if not found:
        return results
    return [
        redact(text, found)
        if any(v in text for v in found) and any(v in r.text for v in found)
        else r
        for text, r in zip(texts, results, strict=True)
    ]


def redact_body(body: dict[str, Any], cache: RedactionCache | None = None) -> Counter[str]:
    """Redact `body` in place; returns how many secrets of each kind were hidden."""
    slots: list[_Slot] = []
    for key in ("system", "messages"):
        if key in body:
            _collect(body[key], slots, body, key)
    counts: Counter[str] = Counter()
    if not slots:
        return counts
    texts = [container[key] for container, key in slots]
    for (container, key), result in zip(
        slots, redact_texts(texts, cache or RedactionCache()), strict=True
    ):
        if result.redactions:
            container[key] = result.text
            counts.update(result.counts)
    return counts
