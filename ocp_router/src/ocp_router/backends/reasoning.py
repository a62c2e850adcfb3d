"""A thinking model's reasoning and its token count: one definition for the router's OpenAI
backend (a whole `message`), its Ollama backend (each streamed `message`, native field
`thinking`) and the server's proxy (each streamed `delta`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ocp_router._tokens import estimate_tokens
from ocp_router.tiers import Effort

__all__ = [
    "OLLAMA_FIELDS",
    "REASONING_FIELDS",
    "THINK_LEVELS",
    "ThinkTags",
    "asked_think",
    "effort_think",
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

#: The `think` level each effort of the clients' APIs (OpenAI's `reasoning_effort`,
#: Anthropic's `output_config.effort`) is sent to Ollama as: its own levels ("low", "medium",
#: "high", "max": ollama-api.md §3), the nearest for those it has not ("minimal", "xhigh").
THINK_LEVELS = {
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "high",
    "max": "max",
}


def effort_think(effort: Effort) -> bool | str:
    """A route's `effort` as Ollama's `think`: "none" is False, a level its own."""
    return False if effort == "none" else THINK_LEVELS[effort]


def asked_think(body: Mapping[str, Any]) -> bool | str | None:
    """What a request body asks of a model's thinking, as Ollama's `think`: Ollama's own
    `think`; else an effort (OpenAI's `reasoning_effort` or `reasoning.effort`, Anthropic's
    `output_config.effort`) as its level, "none" as False; else Anthropic's `thinking`
    (`disabled`: False, any other type: True); None when it asks nothing (or nothing
    Ollama has a word for)."""
    think = body.get("think")
    if isinstance(think, bool) or think in THINK_LEVELS.values():
        return think
    reasoning, config = body.get("reasoning"), body.get("output_config")
    for effort in (
        body.get("reasoning_effort"),
        reasoning.get("effort") if isinstance(reasoning, Mapping) else None,
        config.get("effort") if isinstance(config, Mapping) else None,
    ):
        if effort == "none":
            return False
        if isinstance(effort, str) and effort in THINK_LEVELS:
            return THINK_LEVELS[effort]
    thinking = body.get("thinking")
    if isinstance(thinking, Mapping) and isinstance(thinking.get("type"), str):
        return bool(thinking["type"] != "disabled")
    return None


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
    `<think>` never closed may be the answer itself, or cut off (max_tokens). The rule is
    `ThinkTags`', which reads a streamed answer by it."""
    tags = ThinkTags()
    answer, thinking = tags.feed(content)
    return answer + tags.end(), thinking


class ThinkTags:
    """A leading `<think>…</think>` block taken out of an answer read piece by piece, whose
    pieces may cut a tag anywhere (`<thi` then `nk>`): `feed` each piece, then `end`. The
    thinking is held until its block closes (`</think>`) and comes out whole and stripped; the
    answer after it starts at its first non-blank character. Only the answer's first
    characters wait, until they show whether they open a block; then the rest passes through."""

    def __init__(self) -> None:
        self._state = _START
        self._held = ""  # the text not given out yet, as it came (outside the block)
        self._opened = ""  # the text up to the block's `<think>`, as it came
        # the block's text in its pieces, joined once it closes (added to one string, a long
        # block was copied whole with each piece: 1.6M characters read 4 at a time took 23 s)
        self._thought: list[str] = []
        self._tail = ""  # its last characters, where a `</think>` cut by a piece begins

    def feed(self, text: str) -> tuple[str, str]:
        """`(answer, thinking)` that may go out now, after `text`."""
        if self._state == _ANSWER:
            return text, ""
        if self._state == _START:
            self._held += text
            held = self._held
            head = held.lstrip()
            if len(head) < len(_OPEN) and _OPEN.startswith(head):
                return "", ""  # blank, or a tag begun: not known yet
            if not head.startswith(_OPEN):
                return self._answer(held), ""
            self._state, self._held = _THINKING, ""
            opened = len(held) - len(head) + len(_OPEN)
            self._opened, text = held[:opened], held[opened:]
        if self._state == _THINKING:
            window = self._tail + text  # `_tail` ends the pieces kept: a tag cut is found
            end = window.find(_CLOSE)
            if end < 0:
                self._thought.append(text)
                self._tail = window[-(len(_CLOSE) - 1) :]
                return "", ""
            kept = "".join(self._thought)
            thinking = (kept[: len(kept) - len(self._tail)] + window[:end]).strip()
            self._state, self._held = _AFTER, window[end + len(_CLOSE) :]
            self._thought, self._tail = [], ""
            return self._after(), thinking
        self._held += text
        return self._after(), ""

    def end(self) -> str:
        """The answer held back, once no more comes: blanks at its start, or a block never
        closed, which is all answer (as `split_think_tag` reads it)."""
        if self._state == _THINKING:
            held = self._opened + "".join(self._thought)
        else:
            held = self._held if self._state == _START else ""
        self._state, self._held, self._thought = _ANSWER, "", []
        return held

    def _after(self) -> str:
        """The answer after the block, from its first non-blank character."""
        answer = self._held.lstrip()
        self._held = ""
        if answer:
            self._state = _ANSWER
        return answer

    def _answer(self, text: str) -> str:
        self._state, self._held = _ANSWER, ""
        return text


_START, _THINKING, _AFTER, _ANSWER = "start", "thinking", "after", "answer"


def reasoning_tokens(reported: int, thinking: str, output_tokens: int) -> int:
    """Of an answer's `output_tokens`, its thinking: the server's own count (`reported`),
    else (Ollama counts thinking in its output tokens without saying how much) OCP's estimate
    of the thinking it sent, at most the output tokens."""
    if reported or not thinking:
        return reported
    return min(estimate_tokens(thinking), output_tokens)
