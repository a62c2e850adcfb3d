"""An answer names the model its client asked for, and the header `x-ocp-served-model` the
model that served it (the trace keeps it too).

Claude Code reads a response's `model` back: `--continue` and `--resume` make the last
answer's model the session's model, and it drops the signed thinking blocks of earlier
answers whose model is not the one it asks for now (read in 2.1.197's bundled code;
docs/routing-rounds.md, round 59). A local model's name, or a cheaper tier's, would become the
model it asks for. Routers in front of Claude Code answer as the model asked for (LiteLLM's
proxy does for every answer); so does this one, whenever it substituted a model.

A relayed answer is renamed in its bytes, not parsed and written again: in a whole body or a
streamed event (Anthropic's `message_start`, each OpenAI chunk), the first `"model"` key,
found before any `"content"`, `"choices"`, `"content_block"` or `"delta"` key (both APIs name
the model before the answer, so a `"model"` inside a tool call's input, whole in an answer or
in a streamed block's start, is never reached), and only when its value is a
plain JSON string. Anything else is relayed as it came.
"""

from __future__ import annotations

import json
import re

__all__ = ["SERVED_MODEL_HEADER", "renamed", "renamed_lines", "served_header"]

SERVED_MODEL_HEADER = "x-ocp-served-model"

_MODEL = re.compile(rb'"model"\s*:\s*"(?:[^"\\]|\\.)*"')
_ANSWER_KEYS = (b'"content"', b'"choices"', b'"content_block"', b'"delta"')


def served_header(model: str) -> dict[str, str]:
    """The header naming `model`, when a header can carry it as it is (printable ASCII)."""
    return {SERVED_MODEL_HEADER: model} if model.isascii() and model.isprintable() else {}


def renamed(data: bytes, name: str) -> bytes:
    """`data` (a JSON answer, or the start of one) with its model named `name`."""
    found = _MODEL.search(data)
    if found is None:
        return data
    if any(0 <= data.find(key, 0, found.start()) for key in _ANSWER_KEYS):
        return data
    value = json.dumps(name, ensure_ascii=False).encode()
    return data[: found.start()] + b'"model":' + value + data[found.end() :]


def renamed_lines(lines: bytes, name: str) -> bytes:
    """Server-sent events' whole `lines` with each `data:` line's model named `name`."""
    if b'"model"' not in lines:
        return lines
    return b"".join(
        renamed(line, name) if line.startswith(b"data:") else line
        for line in lines.splitlines(keepends=True)
    )
