"""A thinking model's reasoning in an OpenAI-compatible answer, and its token count: one
definition for the router's OpenAI backend (a whole `message`) and the server's proxy (each
streamed `delta`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ocp_router._tokens import estimate_tokens

__all__ = ["REASONING_FIELDS", "reasoning_text", "reasoning_tokens"]

#: Where a message or delta carries its thinking, read in this order: Ollama's /v1 sends
#: `reasoning` (its own field, and vLLM's name for it from 0.11), llama.cpp (with
#: `--reasoning-format`) and vLLM `reasoning_content`.
REASONING_FIELDS = ("reasoning", "reasoning_content")


def reasoning_text(part: Mapping[str, Any], where: str = "message") -> str:
    """The thinking in `part` (a `message`, or a streamed `delta`: `where` names it in the
    error), "" for none. vLLM from 0.11 may send both fields with the same text: read once.
    Raises ValueError naming the field when it is not a string."""
    for field in REASONING_FIELDS:
        value = part.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValueError(f"`{where}.{field}` is not a string")
        if value:
            return value
    return ""


def reasoning_tokens(reported: int, thinking: str, output_tokens: int) -> int:
    """Of an answer's `output_tokens`, its thinking: the server's own count (`reported`),
    else (Ollama counts thinking in its output tokens without saying how much) OCP's estimate
    of the thinking it sent, at most the output tokens."""
    if reported or not thinking:
        return reported
    return min(estimate_tokens(thinking), output_tokens)
