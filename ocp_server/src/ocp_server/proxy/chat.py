"""The neutral conversation a local model is given, and the events it answers with.

Both client dialects are read into a `Chat` (for the local tier only: the paid tier receives
the client's own body), and a local model's stream is read into `Event`s that each dialect
renders back (see anthropic.py, openai.py).
"""

from __future__ import annotations

import hashlib
import math
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

from ocp_router.backends.reasoning import THINK_LEVELS


class BadRequest(ValueError):
    """The client's body is not what its dialect accepts; the message names the field."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        kind: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.param = param  # OpenAI's error names the field and the problem's code
        self.code = code


_ID_ALPHABET = string.ascii_letters + string.digits


def wire_id(prefix: str, length: int = 24) -> str:
    """A fresh id in a provider's own form (`call_…` for OpenAI, `toolu_…` for Anthropic): a
    client may check the prefix, so a local answer's ids are the dialect's, whatever the local
    server named them."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


# A local answer's tool-call ids end in a check of the rest (a BLAKE2 digest of it, in the
# id's alphabet): a request that resends the step is known to carry the local model's step
# (thinking_turn.py), not a paid model's whose thinking block the client left out. A provider's
# random id passes the check once in 62**6 (about 5.7e10).
_CHECK = 6


def _check(text: str) -> str:
    digest = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
    out = []
    for _ in range(_CHECK):
        digest, i = divmod(digest, len(_ID_ALPHABET))
        out.append(_ID_ALPHABET[i])
    return "".join(out)


def local_tool_id(prefix: str, length: int = 24) -> str:
    """`wire_id`, marked as a local answer's (`is_local_tool_id`)."""
    head = wire_id(prefix, length - _CHECK)
    return head + _check(head)


def is_local_tool_id(value: Any) -> bool:
    """Whether `value` is an id `local_tool_id` made."""
    if not isinstance(value, str) or len(value) <= _CHECK:
        return False
    return _check(value[:-_CHECK]) == value[-_CHECK:]


@dataclass(slots=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(slots=True)
class ChatMessage:
    role: str  # system | user | assistant | tool
    content: str
    images: list[str] = field(default_factory=list)  # base64, no data: prefix
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None  # the tool's name, on a tool result


@dataclass(slots=True)
class Chat:
    """A request in neutral form. `tools` are JSON-schema functions: name, description,
    parameters."""

    messages: list[ChatMessage]
    max_tokens: int | None = None
    temperature: float | None = None
    stop: list[str] = field(default_factory=list)  # sent to the model
    tools: list[dict[str, Any]] = field(default_factory=list)
    # Stop sequences the proxy matches itself (stops.py), not sent: the dialect's answer names
    # the one reached, which a local server does not say.
    watch: list[str] = field(default_factory=list)
    # The answer's shape: a JSON schema it must follow, or ANY_JSON (a JSON object, OpenAI's
    # json_object). Both local backends constrain their output to it (Ollama's `format`, an
    # OpenAI-compatible server's `response_format`).
    json_format: dict[str, Any] | str | None = None
    # The client asked to see the model's thinking (Anthropic's `thinking`, OpenAI's
    # `reasoning_effort`): it is relayed; otherwise a thinking model's thinking is dropped
    # (still counted in the output tokens).
    think: bool = False
    # Whether the model is asked to think, seen or not: True (Anthropic's `thinking` on, an
    # OpenAI effort), False (asked not to: `thinking: disabled`, `reasoning_effort: "none"`,
    # sent as Ollama's `think: false`, an OpenAI-compatible server's "none"), None (nothing
    # said: the model's default, which for a thinking model in Ollama is to think).
    thinks: bool | None = None
    # The thinking effort asked for, as an Ollama `think` level (`think_level`): sent instead
    # of `think: true` (Ollama) or as `reasoning_effort` (an OpenAI-compatible server); None:
    # the model's default.
    effort: str | None = None
    # What of the request the local model is not sent, and why (the trace's notes).
    notes: tuple[str, ...] = ()


def think_level(effort: Any) -> str | None:
    """The `think` level for a (validated) effort, None for none or no effort (THINK_LEVELS:
    one table for the proxy and the router's Ollama backend)."""
    return THINK_LEVELS.get(effort) if isinstance(effort, str) else None


# Chat.json_format for "any JSON object", as Ollama's `format` spells it.
ANY_JSON = "json"


def json_schema_of(spec: Any) -> dict[str, Any] | None:
    """The schema of a structured-output request in either dialect's form ({"type":
    "json_schema", "schema": …} for Anthropic, {"type": "json_schema", "json_schema": {"schema":
    …}} for OpenAI), or None when it is not one a local model can be made to follow."""
    if not isinstance(spec, dict) or spec.get("type") != "json_schema":
        return None
    schema = spec.get("schema")
    if schema is None and isinstance(spec.get("json_schema"), dict):
        schema = spec["json_schema"].get("schema")
    return schema if isinstance(schema, dict) and schema else None


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    # of output_tokens: a local server's own count, else OCP's estimate of the thinking read
    reasoning_tokens: int = 0


# Why a request that demands a tool call is not answered locally: the local model is offered
# the tools (OCP_LOCAL_TOOLS=1) but cannot be made to call one (Ollama has no tool_choice).
TOOL_CALL_DEMANDED = "a tool call demanded, which no local model can be made to make"


def token_count(value: Any) -> int:
    """A usage figure as a provider reported it: a finite non-negative number, else 0. Usage is
    read for accounting; an odd figure must not cost the client its answer."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value) if math.isfinite(value) and value > 0 else 0


@dataclass(frozen=True, slots=True)
class Event:
    """One piece of a local answer: `text`, `thinking` (its text in `text`), a whole `tool`
    call, or `done` (with the stop reason in OpenAI's words, stop | length | tool_calls, or
    stop_sequence with the client's sequence that was reached, and the usage)."""

    kind: str
    text: str = ""
    tool: ToolCall | None = None
    stop: str = "stop"
    usage: Usage = Usage()
    stop_sequence: str | None = None


#: The longest model name a request may give: the tools' bound (ocp_wire, MAX_CALLER_ID_CHARS).
#: Real names are under 100 characters; the name is kept with each row the proxy shows and
#: traces, so a megabyte of it was kept 500 times over.
MAX_MODEL_CHARS = 200


def check_model(body: dict[str, Any]) -> None:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("model: expected a model name (a non-empty string)")
    if len(model) > MAX_MODEL_CHARS:
        raise BadRequest(
            f"model: expected a model name of at most {MAX_MODEL_CHARS} characters "
            f"(got {len(model):,})"
        )


def check_token_limit(body: dict[str, Any], field: str) -> None:
    """`field`, when given, is a positive integer: below 1 a local model reads it as no limit
    at all (Ollama's num_predict -1), and a string or true was dropped or sent on as it was."""
    value = body.get(field)
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadRequest(f"{field}: expected a positive integer, got {value!r:.40}")


def check_stream_flag(body: dict[str, Any]) -> None:
    """`stream` is true, false or left out: anything else was read as false, and a client
    that asked for events got a JSON body."""
    if body.get("stream") is not None and not isinstance(body["stream"], bool):
        raise BadRequest(f"stream: expected true or false, got {body['stream']!r:.40}")


def text_of(content: Any) -> str:
    """The text of a string or of a list of blocks/parts that carry `text`."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(b.get("text", "")) for b in content if isinstance(b, dict) and "text" in b
        )
    return ""
