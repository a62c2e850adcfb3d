"""The paid boundary for forwarded bodies: every text a paid provider would read (system
prompt, every string of the messages: text, tool results, tool-call arguments, a document's
plain-text source, title and context, a search result's, a citation's quoted text; and the
descriptions, defaults and examples of tool definitions and answer schemas) is redacted with
the router's `redact_all`, in place, keeping the body's shape byte-for-byte otherwise (ids,
names, types, media types, signatures, binary sources, tool names, schema types and enums,
and the fields beside the messages, metadata among them, pass untouched). Redaction is
deterministic, so a prompt-cache prefix stays the same from one request to the next.

Checked against `redact_all` by tests/proxy/test_proxy_units.py."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from ocp_router.boundary import redact_all
from ocp_router.redact_names import redact_name

# (container, key) of one string inside the body.
_Slot = tuple[Any, Any]


# In the messages every string is text the model reads but for these fields, which say what a
# block is and whom it answers: an allow-list of text fields missed the texts of blocks it did
# not name (a text document's `data`, a search result's `source`, a citation's `cited_text`).
_STRUCTURAL_KEYS = frozenset(
    {"type", "id", "tool_use_id", "tool_call_id", "name", "role", "signature", "media_type"}
    | {"file_id", "url", "cache_control", "encrypted_content"}
)
# Blocks (and sources) of binary or opaque data: nothing to read, and too large to scan.
_OPAQUE_TYPES = frozenset(
    {"image", "image_url", "input_audio", "base64", "file", "redacted_thinking"}
)


def _collect(value: Any, slots: list[_Slot], container: Any, key: Any, inside: bool) -> None:
    """Find the strings a model reads: all but the structural fields' (`inside`: under a tool
    call's `input`, where every string is the call's, a field named `id` too)."""
    if isinstance(value, str):
        if value:
            slots.append((container, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _collect(item, slots, value, i, inside)
    elif isinstance(value, dict):
        if value.get("type") in _OPAQUE_TYPES:
            return
        for k, item in value.items():
            if inside or k not in _STRUCTURAL_KEYS:
                _collect(item, slots, value, k, inside or k == "input")


# In a tool definition (and its JSON schema, at any depth) the prose the model reads; names,
# types and enums are what the model must answer with, and are left as they are.
_TOOL_TEXT_KEYS = frozenset({"description", "default", "examples", "title"})


def _collect_tool_text(value: Any, slots: list[_Slot], text: bool = False) -> None:
    """The strings of tool definitions under `_TOOL_TEXT_KEYS` (`text`: `value` is under one)."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for k, item in items:
        inside = text or (isinstance(value, dict) and k in _TOOL_TEXT_KEYS)
        if isinstance(item, str):
            if item and inside:
                slots.append((value, k))
        elif isinstance(item, dict | list):
            _collect_tool_text(item, slots, inside)


def redact_body(body: dict[str, Any]) -> Counter[str]:
    """Redact `body` in place; returns how many secrets of each kind were hidden."""
    slots: list[_Slot] = []
    for key in ("system", "messages"):
        if key in body:
            _collect(body[key], slots, body, key, False)
    # a structured answer's schema is read as a tool's is (OpenAI's `response_format`,
    # Anthropic's `output_format` and `output_config.format`)
    for key in ("tools", "response_format", "output_format", "output_config"):
        if isinstance(body.get(key), list | dict):
            _collect_tool_text(body[key], slots)
    counts: Counter[str] = Counter()
    if not slots:
        return counts
    texts = [container[key] for container, key in slots]
    # redact_all: a secret found in one text is hidden wherever it recurs in another. An agent
    # resends its system prompt and history every turn: `redact` reuses the results of texts
    # it has seen lately, so each is scanned once.
    for (container, key), result in zip(slots, redact_all(texts), strict=True):
        if result.redactions:
            container[key] = result.text
            counts.update(result.counts)
    return counts


def redacted_error(data: bytes) -> bytes:
    """An upstream's error body as the client gets it: every string in it redacted (read as
    names too, redact_names.py). A provider's error can quote the key it refused, and the
    proxy may have sent the environment's key to a client that sent none; what the client
    reads reaches its agent's model. Unchanged when nothing is found (the bytes as sent)."""
    text = data.decode("utf-8", "replace")
    if not redact_name(text).redactions:
        return data
    try:
        doc = json.loads(text)
    except ValueError:
        return redact_name(text).text.encode()
    return json.dumps(_redacted_strings(doc)).encode()


def _redacted_strings(value: Any) -> Any:
    if isinstance(value, str):
        return redact_name(value).text
    if isinstance(value, list):
        return [_redacted_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: _redacted_strings(v) for k, v in value.items()}
    return value
