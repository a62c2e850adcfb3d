"""What agents really send: a message list (OpenAI or Anthropic shape), a system prompt and a
tool list, read into one small `AgentPayload` that phase 1 can judge in microseconds.

Accepted inputs:
- a plain string (one user message);
- a message list in either provider's shape (content as a string or a list of blocks:
  text, image, tool_use / tool_result, OpenAI `tool_calls` and `role: "tool"` messages);
- a whole request body: a mapping with `messages`, and optionally `system` and `tools`
  (or the legacy OpenAI `functions`).

Only the user's own words are kept as `text`: tool results, tool calls and the reminder
blocks harnesses wrap around a request (`<system-reminder>`, `<environment_details>`, …) are
counted as context, never read as the request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ocp_router.backends.base import Turn
from ocp_router.backends.reasoning import asked_think
from ocp_router.errors import ConfigError


class PayloadError(ConfigError):
    """The payload is not a message list either provider would accept; names the field."""


@dataclass(slots=True)
class Message:
    """One message, reduced to what routing needs. (Not frozen: frozen dataclasses are slow
    to build, and phase 1 builds one per message within its microsecond budget.)"""

    role: str  # user | assistant | tool (OpenAI tool results)
    text: str  # the text blocks as sent; `words` is the user's own words
    chars: int  # everything the model would read: text, tool calls, tool results
    tool_calls: int = 0
    tool_results: int = 0
    images: int = 0
    # The first block of a type routing does not read, as (its `type` field's path, the
    # type): named when a user message has no text to answer otherwise.
    unread: tuple[str, str] | None = None

    @property
    def words(self) -> str:
        """The user's own words: reminder blocks dropped, a tagged request unwrapped."""
        return user_words(self.text) if self.role == "user" else self.text


@dataclass(frozen=True, slots=True)
class AgentPayload:
    system: str
    messages: tuple[Message, ...]
    tools: tuple[str, ...]  # names of the tools offered
    tools_chars: int
    # Totals over the messages, computed once (see `of`).
    total_chars: int = 0
    tool_calls: int = 0
    tool_results: int = 0
    images: int = 0
    # What the body asks of the local model's thinking, as Ollama's `think` (asked_think);
    # None: nothing, the server's default.
    think: bool | str | None = None

    @classmethod
    def of(
        cls,
        system: str,
        messages: tuple[Message, ...],
        tools: tuple[str, ...],
        tools_chars: int,
        think: bool | str | None = None,
    ) -> AgentPayload:
        chars = calls = results = images = 0
        for m in messages:
            chars += m.chars
            calls += m.tool_calls
            results += m.tool_results
            images += m.images
        total = len(system) + tools_chars + chars
        return cls(system, messages, tools, tools_chars, total, calls, results, images, think)

    @property
    def turns(self) -> int:
        return len(self.messages)

    @property
    def user_turn(self) -> str:
        """The latest request in the user's own words (the task to judge)."""
        i = _last_user_index(self.messages)
        return self.messages[i].words if i >= 0 else ""

    def since_request(self) -> str:
        """What happened after the latest user request (an agent loop's tool calls and
        results, assistant notes), flattened to text for a text-only model; empty when the
        request is the last message."""
        last = _last_user_index(self.messages)
        parts = []
        for message in self.messages[last + 1 :] if last >= 0 else ():
            if message.tool_calls or message.tool_results:
                parts.append(
                    f"[{message.role}: {message.tool_calls} tool calls, "
                    f"{message.tool_results} tool results]"
                )
            if _said(message.words):
                parts.append(f"{message.role}: {message.words}")
        return "\n".join(parts)

    def history(self) -> tuple[Turn, ...]:
        """The turns before the latest user request, as text, for a text-only model.
        Tool traffic becomes a short bracketed note so the model sees the conversation's shape.
        """
        last = _last_user_index(self.messages)
        out: list[Turn] = []
        for message in self.messages[:last] if last >= 0 else self.messages:
            text = message.words
            if message.tool_calls or message.tool_results:
                note = f"[{message.tool_calls} tool calls, {message.tool_results} tool results]"
                text = f"{text}\n{note}" if text else note
            if not text:
                continue
            out.append(Turn("assistant" if message.role == "assistant" else "user", text))
        return tuple(out)


def require_request(payload: AgentPayload, field: str = "messages") -> AgentPayload:
    """`payload`, if it holds a request to answer: a user message with words in it (after
    `since_request`, assistant and tool turns may follow it, as in an agent loop). Without one
    the model would be sent an empty user message (Anthropic's API and the chat templates of
    local models answer a user turn); `field` names the argument in the error."""
    if _last_user_index(payload.messages) < 0:
        unread = next(
            (m.unread for m in reversed(payload.messages) if m.role == "user" and m.unread), None
        )
        if unread is not None:
            path, kind = unread
            raise PayloadError(
                f"{path}: {kind!r:.80} is not a content block type a route reads, and no "
                "user message has text; expected the user's request in a 'text' block "
                '({"type": "text", "text": "..."}) or as the content string'
            )
        what = "is empty" if field == "request" else "has no user message with text"
        raise PayloadError(
            f"{field}: the conversation {what}, so there is no request to answer; a route "
            "needs the user's request as a user message (assistant and tool turns may follow "
            "it, but a conversation of assistant turns alone asks nothing)"
        )
    return payload


def _said(words: str) -> bool:
    """Whether `words` holds more than white space: ``bool(words.strip())`` without the copy
    (of a whole 15 MB message, in one call that holds the GIL); `isspace` stops at the first
    other character, and uses strip's own test."""
    return bool(words) and not words.isspace()


def _last_user_index(messages: Sequence[Message]) -> int:
    for i in range(len(messages) - 1, -1, -1):
        message = messages[i]
        if message.role == "user" and message.text and _said(message.words):
            return i
    return -1


# Blocks a harness wraps around the request: context for the model, not the user's words.
_BOILERPLATE_TAGS = (
    "system-reminder|environment_details|additional_data|attached_files|context|"
    "local-command-stdout|command-message|command-args|user_info|rules|project_layout|"
    "cursor_rules|git_status"
)
# Where a harness marks the request itself, only the marked text is the request.
_REQUEST_TAGS = "user_query|task|user_request"
# Opening tags only: `[^<>]*` stops at the next `<`, so scanning every opening costs one pass.
# (One regex with `.*?</\1>` rescans to the end of the text from every unclosed opening:
# quadratic, 8 s for 5,000 `<context>` tags.)
_BOILERPLATE_OPEN = re.compile(rf"<({_BOILERPLATE_TAGS})\b[^<>]*>", re.I)
_REQUEST_OPEN = re.compile(rf"<({_REQUEST_TAGS})\b[^<>]*>", re.I)


def _blocks(text: str, opening: re.Pattern[str]) -> list[tuple[int, int, int, int]]:
    """(start, inner start, inner end, end) of each tagged block, outermost first and never
    overlapping, like `<(tag)…>.*?</\1>` would find them, in linear time: a tag with no
    closing tag after some point has none after any later point either."""
    found: list[tuple[int, int, int, int]] = []
    unclosed: dict[str, int] = {}  # tag -> position after which it has no closing tag
    closings: dict[str, re.Pattern[str]] = {}
    pos = 0
    while match := opening.search(text, pos):
        tag = match.group(1).lower()
        if match.end() >= unclosed.get(tag, len(text) + 1):
            pos = match.end()
            continue
        closing = closings.get(tag)
        if closing is None:
            closing = closings[tag] = re.compile(rf"</{re.escape(tag)}>", re.I)
        end = closing.search(text, match.end())
        if end is None:
            unclosed[tag] = match.end()
            pos = match.end()
            continue
        found.append((match.start(), match.end(), end.start(), end.end()))
        pos = end.end()
    return found


def user_words(text: str) -> str:
    """The user's own words in one message: reminder blocks dropped, a tagged query unwrapped."""
    if "<" not in text:
        return text
    # Reminders go first: a request tag quoted inside one is context, not the request.
    blocks = _blocks(text, _BOILERPLATE_OPEN)
    if blocks:
        kept, last = [], 0
        for start, _, _, end in blocks:
            kept.append(text[last:start])
            last = end
        kept.append(text[last:])
        text = "".join(kept)
    if tagged := _blocks(text, _REQUEST_OPEN):
        return "\n".join(text[inner:inner_end].strip() for _, inner, inner_end, _ in tagged)
    return text.strip()


def _size(value: Any) -> int:
    """Characters in a JSON-ish value, as the model would read it serialised (json.dumps
    runs in C: tool schemas are large and resent with every call)."""
    if isinstance(value, str):
        return len(value)
    try:
        return len(json.dumps(value, ensure_ascii=False, default=str))
    except (TypeError, ValueError):
        return len(str(value))


def _system_text(value: Any, field: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for i, block in enumerate(value):
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, Mapping) and isinstance(block.get("text"), str):
                parts.append(block["text"])
            else:
                raise PayloadError(f"{field}[{i}]: expected a text block with a 'text' string")
        return "\n".join(parts)
    raise PayloadError(f"{field}: expected a string or a list of text blocks")


_PLAIN_ROLES = frozenset({"user", "assistant"})


def _message(raw: Any, field: str) -> tuple[Message | None, str]:
    """One message, or (None, system text) for a system/developer message."""
    if type(raw) is dict:
        role = raw.get("role")
        content = raw.get("content")
        # The common case first: a plain text message with no tool calls.
        if type(content) is str and type(role) is str and role in _PLAIN_ROLES and len(raw) <= 3:
            if "tool_calls" not in raw and "function_call" not in raw:
                return Message(role, content, len(content)), ""
    elif not isinstance(raw, Mapping):
        raise PayloadError(f"{field}: expected an object with 'role' and 'content'")
    role = raw.get("role")
    if role in ("system", "developer"):
        return None, _system_text(raw.get("content"), f"{field}.content")
    if role not in ("user", "assistant", "tool", "function"):
        raise PayloadError(
            f"{field}.role: expected user, assistant, system, developer or tool, got {role!r:.80}"
        )
    content = raw.get("content")
    texts: list[str] = []
    chars = 0
    tool_calls = tool_results = images = 0
    unread: tuple[str, str] | None = None
    if isinstance(content, str):
        texts.append(content)
        chars += len(content)
    elif isinstance(content, list):
        for j, block in enumerate(content):
            if isinstance(block, str):
                texts.append(block)
                chars += len(block)
                continue
            if not isinstance(block, Mapping):
                raise PayloadError(f"{field}.content[{j}]: expected a content block object")
            kind = block.get("type")
            if kind in ("text", "input_text", "output_text"):
                text = block.get("text")
                if not isinstance(text, str):
                    raise PayloadError(f"{field}.content[{j}].text: expected a string")
                texts.append(text)
                chars += len(text)
            elif kind in ("tool_use", "server_tool_use", "function_call"):
                tool_calls += 1
                chars += _size(block.get("input", block.get("arguments", "")))
            elif kind in ("tool_result", "web_search_tool_result", "function_call_output"):
                tool_results += 1
                chars += _size(block.get("content", block.get("output", "")))
            elif kind in ("image", "image_url", "input_image", "document", "file", "input_file"):
                images += 1
            elif kind in ("thinking", "redacted_thinking"):
                chars += _size(block.get("thinking", block.get("data", "")))
            elif kind is None:
                raise PayloadError(f"{field}.content[{j}].type: missing")
            else:
                chars += _size(block)
                if unread is None:
                    unread = (f"{field}.content[{j}].type", str(kind))
    elif content is not None or role == "user":
        # (an assistant's may be null beside its tool calls; a user's never is, in either API)
        raise PayloadError(f"{field}.content: expected a string or a list of content blocks")
    calls = raw.get("tool_calls") or raw.get("function_call")
    if calls:
        calls = calls if isinstance(calls, list) else [calls]
        tool_calls += len(calls)
        chars += _size(calls)
    if role in ("tool", "function"):
        tool_results += 1
        texts = []  # a tool's output is context, not anyone's words
    text = texts[0] if len(texts) == 1 else "\n".join(texts)
    return Message(str(role), text, chars, tool_calls, tool_results, images, unread), ""


def _tool_names(tools: Any) -> tuple[tuple[str, ...], int]:
    if tools is None:
        return (), 0
    if not isinstance(tools, list):
        raise PayloadError("tools: expected a list of tool definitions")
    names = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, Mapping):
            raise PayloadError(f"tools[{i}]: expected an object")
        names.append(_tool_name(tool, f"tools[{i}]"))
    return tuple(names), _size(tools)


def _tool_name(tool: Mapping[str, Any], where: str) -> str:
    """A tool definition's name: Anthropic's `name`, OpenAI's `function.name` (or a custom
    tool's `custom.name`), else a built-in tool's `type` (OpenAI's `{"type": "web_search"}`).
    One with none of these is no tool (`{}`, a description alone): counted, it forced the
    paid tier."""
    for inner in (tool.get("function"), tool.get("custom"), tool):
        name = inner.get("name") if isinstance(inner, Mapping) else None
        if isinstance(name, str) and name.strip():
            return name
    kind = tool.get("type")
    if isinstance(kind, str) and kind.strip() and kind not in ("function", "custom"):
        return kind
    raise PayloadError(
        f"{where}: expected a tool definition with a name: `name` (Anthropic) or "
        "`function.name` (OpenAI)"
    )


def parse_payload(
    payload: str | Sequence[Any] | Mapping[str, Any],
    *,
    system: str | Sequence[Any] | None = None,
    tools: Sequence[Any] | None = None,
) -> AgentPayload:
    """Read a request body, a message list or a plain string. Raises `PayloadError` naming
    the field that is not what either provider accepts."""
    if isinstance(payload, str):
        return AgentPayload.of(
            _system_text(system, "system"),
            (Message("user", payload, len(payload)),),
            *_tool_names(tools),
        )
    body_system: Any = system
    body_tools: Any = tools
    if isinstance(payload, Mapping):
        messages = payload.get("messages")
        if not isinstance(messages, list):
            raise PayloadError("messages: expected a list of messages")
        if body_system is None:
            body_system = payload.get("system")
        if body_tools is None:
            body_tools = payload.get("tools") or payload.get("functions")
    elif isinstance(payload, list | tuple):
        messages = list(payload)
    else:
        raise PayloadError(
            "messages: expected a string, a list of messages or a request body with "
            f"'messages', got {type(payload).__name__}"
        )
    systems = [_system_text(body_system, "system")] if body_system is not None else []
    parsed = []
    for i, raw in enumerate(messages):
        message, system_text = _message(raw, f"messages[{i}]")
        if message is None:
            systems.append(system_text)
        else:
            parsed.append(message)
    if not parsed:
        raise PayloadError("messages: expected at least one user or assistant message")
    think = asked_think(payload) if isinstance(payload, Mapping) else None
    return AgentPayload.of(
        "\n\n".join(s for s in systems if s), tuple(parsed), *_tool_names(body_tools), think
    )
