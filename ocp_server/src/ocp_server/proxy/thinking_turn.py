"""A paid call that continues a tool loop whose last step has no signed thinking block.

With thinking on, the Messages API requires the final assistant message (the one whose
`tool_use` the closing `tool_result`s answer) to start with a thinking block, and answers 400
otherwise ("a final `assistant` message must start with a thinking block ... To avoid this
requirement, disable `thinking`"). A step the local model took has none (its own is taken out
before a paid call: the API refuses its signature), so a paid continuation of it would fail
every time. The documented way out is to send that call with thinking disabled; the one model
that cannot turn it off (Opus 5.5, ../shared/reference A8) keeps the loop on the local tier.
A tool loop is one assistant turn, and the API asks one thinking configuration per turn:
thinking stays off for every paid step until the loop ends (each such step has none either).

Whose step it was is read from the request: a local answer's step carries ids that
`local_tool_id` made (and, when it thought, a thinking block with OCP's signature, which the
proxy takes out); a paid model's step without its signed thinking block is one the client
resent without it (some clients drop thinking blocks from the history), and the trace says so
rather than blame the local model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ocp_server.proxy.chat import is_local_tool_id

__all__ = ["DISABLED", "can_turn_off", "local_step", "needs_thinking_off", "unsigned_step_why"]

DISABLED = {"type": "disabled"}
_THINKING_BLOCKS = frozenset({"thinking", "redacted_thinking"})
# Reference A8: thinking is on by default (adaptive) from Sonnet 5 / Opus 5 on, and cannot be
# disabled on Opus 5.5.
_THINKS_BY_DEFAULT = re.compile(r"^claude-(?:sonnet|opus)-(?:[5-9]|\d\d)(?:$|[-.])")
_ALWAYS_THINKS = re.compile(r"^claude-opus-5-5(?:$|[-.@])")


def _thinking_on(body: Mapping[str, Any], model: str) -> bool:
    config = body.get("thinking")
    if isinstance(config, dict) and config.get("type") == "disabled":
        return False
    if isinstance(config, dict) and config.get("type") in ("enabled", "adaptive", "between_tools"):
        return True
    return bool(_THINKS_BY_DEFAULT.match(model))


def _unsigned_tool_step(messages: Any) -> bool:
    """Whether `messages` ends with tool results answering an assistant message that does
    not start with a thinking block."""
    if not isinstance(messages, list) or len(messages) < 2:
        return False
    step, results = messages[-2], messages[-1]
    if not (isinstance(step, dict) and isinstance(results, dict)):
        return False
    if step.get("role") != "assistant" or results.get("role") != "user":
        return False
    answered = results.get("content")
    if not isinstance(answered, list) or not any(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in answered
    ):
        return False
    content = step.get("content")
    if not isinstance(content, list) or not content:
        return True  # a string or nothing: no thinking block either
    first = content[0]
    return not (isinstance(first, dict) and first.get("type") in _THINKING_BLOCKS)


def local_step(messages: Any, signature: str) -> bool:
    """Whether the assistant message the closing tool results answer is a local answer's: a
    tool call with a local id, or a thinking block signed `signature` (read before the proxy
    takes such blocks out)."""
    if not isinstance(messages, list) or len(messages) < 2:
        return False
    step = messages[-2]
    content = step.get("content") if isinstance(step, dict) else None
    if not isinstance(content, list):
        return False
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "tool_use" and is_local_tool_id(block.get("id")):
            return True
        if block.get("type") == "thinking" and block.get("signature") == signature:
            return True
    return False


def unsigned_step_why(local: bool) -> str:
    """Why the step needs thinking off, in the trace's words: whose step it was."""
    if local:
        return (
            "the tool step it continues is the local model's, which has no thinking block the "
            "API takes, and the API requires one"
        )
    return (
        "the client resent the tool step it continues without its signed thinking block, "
        "which the API requires"
    )


def needs_thinking_off(body: Mapping[str, Any], model: str) -> bool:
    """Whether `body`, sent to `model` as it is, would be refused for a tool step without a
    thinking block while thinking is on."""
    return _thinking_on(body, model) and _unsigned_tool_step(body.get("messages"))


def can_turn_off(model: str) -> bool:
    return not _ALWAYS_THINKS.match(model)
