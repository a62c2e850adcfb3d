"""One line of an MCP client's stdin read as a JSON-RPC message, or as the error that
answers it; and a message written as one line.

- not JSON, not UTF-8 or nested too deep: a parse error (-32700);
- JSON but not a JSON-RPC 2.0 request (a batch, a bad id, a method that is not a short
  string, params that are not an object): an invalid request (-32600);

each answered with the request's id. When the line is too broken to read an id from it, the id
is recovered leniently when exactly one `"id": ...` can be seen in it, else it is null, as
JSON-RPC says. Responses and notifications that are broken are logged, never answered.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextlib import suppress
from typing import Any

import mcp_types as types
from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from ocp_server.argument_errors import clip

logger = logging.getLogger(__name__)

MAX_METHOD_CHARS = 128
MAX_NESTING = 200  # levels of arrays and objects pydantic's JSON parser (jiter) takes

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602

# An integer id only whole: the first 18 digits of a longer number, or the 1 of `1.5` (no
# valid id), answered another request's id.
_ID_PATTERN = re.compile(rb'"id"\s*:\s*(-?\d{1,18}(?![\d.eE])|"(?:[^"\\\n]|\\.){0,256}")')
ID_SCAN_BYTES = 65_536
_SURROGATE = re.compile("[\ud800-\udfff]")

RequestId = str | int


def _valid_id(value: object) -> bool:
    """A string or integer; not a string holding a lone surrogate (`"\\ud800"`), which no
    answer could carry back: it cannot be written as UTF-8."""
    if isinstance(value, str):
        return _SURROGATE.search(value) is None
    return isinstance(value, int) and not isinstance(value, bool)


def recover_id(raw: bytes) -> RequestId | None:
    """The id of a line too broken to parse, when exactly one `"id": …` shows in its start."""
    found = {m.group(1) for m in _ID_PATTERN.finditer(raw[:ID_SCAN_BYTES])}
    if len(found) != 1:
        return None
    try:
        value = json.loads(found.pop())
    except ValueError:
        return None
    return value if _valid_id(value) else None


class Refusal(types.JSONRPCError):
    """The error this server answers a broken line with: unlike a `JSONRPCError` the client
    sent (its answer to a request of the server's, such as roots/list), written back."""


def error(request_id: RequestId | None, code: int, message: str) -> Refusal:
    return Refusal(jsonrpc="2.0", id=request_id, error=types.ErrorData(code=code, message=message))


def check_line(raw: bytes) -> types.JSONRPCMessage | Refusal | None:
    """The message on one line; or the error that answers it (a `Refusal`); or None to
    ignore the line (blank, or a broken response or notification, which get no answer)."""
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
        obj: Any = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else "not valid JSON"
        if isinstance(exc, RecursionError):
            reason = "nested too deeply"
        elif "integer string conversion" in str(exc):
            # Valid JSON: Python reads no integer of more digits (sys.set_int_max_str_digits).
            limit = sys.get_int_max_str_digits()
            reason = f"valid JSON, but holds a number of more than {limit:,} digits"
        return error(recover_id(raw), PARSE_ERROR, f"Parse error: the message is {reason}")
    if isinstance(obj, list):
        return error(
            None, INVALID_REQUEST, "Invalid request: batches are not supported; send one message"
        )
    if not isinstance(obj, dict):
        return error(None, INVALID_REQUEST, "Invalid request: expected a JSON object")
    has_id = "id" in obj
    request_id = obj.get("id")
    answerable = "method" in obj and has_id
    if has_id and not _valid_id(request_id):
        if "method" not in obj:
            return None
        return error(
            None,
            INVALID_REQUEST,
            "Invalid request: `id` must be a string (of Unicode characters) or an integer",
        )
    problem = None
    code = INVALID_REQUEST
    if obj.get("jsonrpc") != "2.0":
        problem = 'Invalid request: `jsonrpc` must be "2.0"'
    elif "method" in obj:
        method = obj["method"]
        if not isinstance(method, str) or not 0 < len(method) <= MAX_METHOD_CHARS:
            problem = (
                f"Invalid request: `method` must be a string of 1 to {MAX_METHOD_CHARS} characters"
            )
        elif "params" in obj and not isinstance(obj["params"], dict):
            if answerable:
                return error(request_id, INVALID_PARAMS, "Invalid params: expected an object")
            return None
    if problem is None:
        try:
            if answerable and "result" not in obj and "error" not in obj:
                # A request, by the checks above: validated as one, not as each member of the
                # message union in turn (half the time). The union's answer when that fails, or
                # when the line also carries a response's fields (the union may read an error).
                with suppress(ValueError):
                    return types.JSONRPCRequest.model_validate_json(text, by_name=False)
            return types.jsonrpc_message_adapter.validate_json(text, by_name=False)
        except ValueError as exc:
            where = _lone_surrogate_at(obj)
            if where is not None:
                # A field's path holds the caller's argument names: redacted and cut short
                # like every error's quote, as nothing after this line redacts it.
                problem = (
                    f"Invalid request: `{clip(where)}` holds a lone surrogate (an escape such as "
                    "\\ud800 alone), which is no Unicode character"
                )
            elif _too_deep(exc):
                # Python's parser takes up to about 1,000 levels, the protocol's only 200:
                # in between the answer was "1 validation error for union[…]", naming nothing.
                code = PARSE_ERROR
                problem = (
                    f"Parse error: the message is nested too deeply (over {MAX_NESTING} levels)"
                )
            else:
                # redacted whole, then cut (clip): cut first, a token's head stayed whole
                problem = f"Invalid request: {clip(str(exc).splitlines()[0], 200)}"
    if answerable:
        return error(request_id, code, problem)
    logger.warning("ignored a malformed message that needs no answer: %s", problem)
    return None


def _too_deep(exc: ValueError) -> bool:
    """Whether the protocol's JSON parser refused the line for its nesting."""
    return isinstance(exc, ValidationError) and any(
        e["type"] == "json_invalid" and "recursion limit" in e["msg"] for e in exc.errors()
    )


def _lone_surrogate_at(value: Any, path: str = "") -> str | None:
    """Where in a parsed message a string (or a key) holds a lone surrogate, which JSON's
    escapes allow and no validator takes: `params.arguments.query`, `params.tags[1]`. Only
    when validation failed: a walk over the message, never on the way of a valid one."""
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if _SURROGATE.search(key):
                return _SURROGATE.sub("?", here)  # the key itself, shown without it
            found = _lone_surrogate_at(item, here)
            if found is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            if (found := _lone_surrogate_at(item, f"{path}[{i}]")) is not None:
                return found
    return None


def encode_message(message: types.JSONRPCMessage) -> bytes:
    """One message as the line written to stdout: the bytes of `model_dump_json(by_alias=True,
    exclude_unset=True)`, from the model's serializer straight (model_dump_json decodes them
    to a str, which then had to be encoded again: half the time of a search's 60 KB answer)."""
    try:
        data = message.__pydantic_serializer__.to_json(message, by_alias=True, exclude_unset=True)
    except PydanticSerializationError:
        # A lone surrogate, which no UTF-8 can carry: "?" in its place, not a dead server.
        logger.warning("a lone surrogate in a message sent: written as '?'")
        dumped = message.model_dump(mode="json", by_alias=True, exclude_unset=True)
        data = json.dumps(dumped, ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8", "replace"
        )
    return data + b"\n"
