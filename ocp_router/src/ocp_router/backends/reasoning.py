"""A thinking model's reasoning and its token count: one definition for the router's OpenAI
backend (a whole `message`), its Ollama backend (each streamed `message`, native field
`thinking`) and the server's proxy (each streamed `delta`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ocp_router._tokens import estimate_tokens

__all__ = [
    "OLLAMA_FIELDS",
    "REASONING_FIELDS",
    "reasoning_text",
    "reasoning_tokens",
    "split_think_tag",
]

#: Where a message or delta carries its thinking, read in this order: Ollama's /v1 sends
#: `reasoning` (its own field, and vLLM's name for it from 0.11), llama.cpp (with
#: `--reasoning-format`) and vLLM `reasoning_content`.
REASONING_FIELDS = ("reasoning", "reasoning_content")
#: Ollama's native API: `message.thinking` (/api/chat), `thinking` (/api/generate).
OLLAMA_FIELDS = ("thinking",)

_OPEN, _CLOSE = "<think>", "</think>"


def reasoning_text(
    part: Mapping[str, Any], where: str = "message", fields: tuple[str, ...] = REASONING_FIELDS
) -> str:
    """The thinking in `part` (a `message`, or a streamed `delta`: `where` names it in the
    error), read from the first of `fields` that has some, "" for none. vLLM from 0.11 may
    send both OpenAI fields with the same text: read once. Raises ValueError naming the field
    when it is not a string."""
    for field in fields:
        value = part.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValueError(f"`{where}.{field}` is not a string")
        if value:
            return value
    return ""


def split_think_tag(content: str) -> tuple[str, str]:
    """`(answer, thinking)` of a whole answer whose thinking came inline, as a
    `<think>…</think>` block at its start (llama.cpp with `--reasoning-format none`, a model
    whose template Ollama does not parse). Without both tags the content is all answer: a
    `<think>` never closed may be the answer itself, or cut off (max_tokens)."""
    head = content.lstrip()
    if not head.startswith(_OPEN):
        return content, ""
    end = head.find(_CLOSE, len(_OPEN))
    if end < 0:
        return content, ""
    return head[end + len(_CLOSE) :].lstrip(), head[len(_OPEN) : end].strip()


def reasoning_tokens(reported: int, thinking: str, output_tokens: int) -> int:
    """Of an answer's `output_tokens`, its thinking: the server's own count (`reported`),
    else (Ollama counts thinking in its output tokens without saying how much) OCP's estimate
    of the thinking it sent, at most the output tokens."""
    if reported or not thinking:
        return reported
    return min(estimate_tokens(thinking), output_tokens)
