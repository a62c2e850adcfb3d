"""parse_payload's refusals: malformed input raises a PayloadError naming the field, nothing else
escapes on any JSON-like input, tools without a name are refused, and a conversation with no
request to answer is refused."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocp_router import ConfigError, GenerateRequest, PayloadError, parse_payload
from ocp_router.payload import AgentPayload, require_request

# ---- errors name the field -------------------------------------------------------------------


def _user(text: str = "hi") -> dict[str, Any]:
    return {"role": "user", "content": text}


_MALFORMED: list[tuple[Any, dict[str, Any], str]] = [
    (
        [_user(), {"role": "assistant", "content": "ok"}, {"role": "bot", "content": "x"}],
        {},
        "messages[2].role",
    ),
    ([{"content": "no role"}], {}, "messages[0].role"),
    (
        [{"role": "user", "content": [{"type": "text", "text": "a"}, {"text": "b"}]}],
        {},
        "messages[0].content[1].type",
    ),
    (
        [{"role": "user", "content": [{"type": "text", "text": 5}]}],
        {},
        "messages[0].content[0].text",
    ),
    ([{"role": "user", "content": ["ok", 7]}], {}, "messages[0].content[1]"),
    ([{"role": "user", "content": 42}], {}, "messages[0].content"),
    # a user's message without words (both APIs refuse it): it was routed as an empty request
    ([{"role": "user"}], {}, "messages[0].content"),
    ([_user(), {"role": "user", "content": None}], {}, "messages[1].content"),
    ([_user(), "just a string"], {}, "messages[1]"),
    ([{"role": "system", "content": 3}, _user()], {}, "messages[0].content"),
    ([{"role": "developer", "content": [{"type": "text"}]}, _user()], {}, "messages[0].content[0]"),
    ({"messages": "hello"}, {}, "messages"),
    ({"prompt": "hello"}, {}, "messages"),
    ({"messages": [_user()], "system": 5}, {}, "system"),
    (
        {"messages": [_user()], "system": [{"type": "text", "text": "a"}, {"type": "text"}]},
        {},
        "system[1]",
    ),
    ({"messages": [_user()], "tools": ["read_file"]}, {}, "tools[0]"),
    ({"messages": [_user()], "tools": {"name": "read_file"}}, {}, "tools"),
    ("hi", {"tools": [{"name": "a"}, 3]}, "tools[1]"),
    ("hi", {"system": 5}, "system"),
]


@pytest.mark.parametrize(
    ("payload", "kwargs", "path"),
    [pytest.param(*case, id=case[2]) for case in _MALFORMED],
)
def test_malformed_input_raises_payload_error_naming_the_field(
    payload: Any, kwargs: dict[str, Any], path: str
) -> None:
    with pytest.raises(PayloadError, match="^" + re.escape(path) + ": "):
        parse_payload(payload, **kwargs)


@pytest.mark.parametrize(
    "payload",
    [[], {"messages": []}, [{"role": "system", "content": "only a system prompt"}]],
    ids=["empty-list", "empty-body", "system-only"],
)
def test_a_conversation_without_user_or_assistant_messages_is_rejected(payload: Any) -> None:
    with pytest.raises(PayloadError, match=r"^messages: expected at least one"):
        parse_payload(payload)


def test_payload_error_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        parse_payload([])


@pytest.mark.parametrize("payload", [None, 5, 2.5, True], ids=["null", "int", "float", "bool"])
def test_a_scalar_body_raises_payload_error(payload: Any) -> None:
    with pytest.raises(PayloadError, match="^messages"):
        parse_payload(payload)


# ---- property: nothing but PayloadError escapes ----------------------------------------------


_WORDS = st.sampled_from(
    [
        "user",
        "assistant",
        "system",
        "developer",
        "tool",
        "function",
        "text",
        "tool_use",
        "tool_result",
        "image",
        "image_url",
        "thinking",
        "input_text",
        "function_call",
        "",
        "x",
    ]
)
_KEYS = st.sampled_from(
    [
        "role",
        "content",
        "type",
        "text",
        "messages",
        "system",
        "tools",
        "functions",
        "name",
        "function",
        "input",
        "arguments",
        "output",
        "thinking",
        "data",
        "tool_calls",
        "function_call",
    ]
) | st.text(max_size=4)
_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text() | _WORDS
)
# Drawing the values is nearly all of this test's time (parse_payload is 5% of it), and a
# value's cost grows with its leaves: 12 still nest a tool input five levels down in a body.
_JSONISH = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_KEYS, inner, max_size=6),
    max_leaves=12,
)
# Messages and content blocks shaped like the two APIs' (each field optional, any value), so
# most bodies get past the top level into each kind of block: random objects rarely did.
_BLOCK_TYPES = (
    st.sampled_from(
        [
            "text",
            "input_text",
            "output_text",
            "tool_use",
            "server_tool_use",
            "function_call",
            "tool_result",
            "web_search_tool_result",
            "function_call_output",
            "image",
            "image_url",
            "document",
            "thinking",
            "redacted_thinking",
        ]
    )
    | _SCALARS
)
_BLOCK = st.fixed_dictionaries(
    {},
    optional={
        "type": _BLOCK_TYPES,
        "text": _SCALARS,
        "input": _JSONISH,
        "arguments": _JSONISH,
        "content": _JSONISH,
        "output": _JSONISH,
        "thinking": _SCALARS,
        "data": _SCALARS,
    },
)
_MESSAGE = st.fixed_dictionaries(
    {},
    optional={
        "role": _WORDS | _SCALARS,  # mostly a role's name, valid or not
        "content": _SCALARS | st.lists(_BLOCK | st.text() | _JSONISH, max_size=4),
        "tool_calls": _JSONISH,
        "function_call": _JSONISH,
        "name": _SCALARS,
    },
)
_MESSAGES = st.lists(_MESSAGE | _JSONISH, max_size=6)
# Top-level scalars have their own test above; everything a JSON body can hold inside a
# string, list or object is covered here.
_TOP_LEVEL = (
    st.text()
    | _MESSAGES
    | st.dictionaries(_KEYS, _JSONISH, max_size=6)
    | st.fixed_dictionaries(
        {"messages": _MESSAGES},
        optional={"system": _JSONISH, "tools": _JSONISH, "functions": _JSONISH},
    )
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=_TOP_LEVEL)
def test_parse_payload_returns_a_payload_or_raises_payload_error_only(payload: Any) -> None:
    try:
        result = parse_payload(payload)
    except PayloadError as exc:
        assert str(exc)
        return
    assert isinstance(result, AgentPayload)
    assert result.turns >= 1 and result.total_chars >= 0
    assert isinstance(result.user_turn, str)
    assert all(t.role in ("user", "assistant") for t in result.history())


# ---- tools without a name -----------------------------------------------------------------


@pytest.mark.parametrize(
    "tool",
    [
        {},
        {"description": "reads a file", "input_schema": {"type": "object"}},
        {"name": "  "},
        {"type": "function", "function": {"description": "no name"}},
        {"type": "function", "name": None},
    ],
)
def test_a_tool_definition_without_a_name_is_refused_naming_it(tool: dict[str, Any]) -> None:
    # It was counted as a tool ("tool 0"), and a tool forces the paid tier.
    with pytest.raises(PayloadError, match=r"^tools\[1\]: expected a tool definition with a name"):
        parse_payload("explain closures", tools=[{"name": "read_file"}, tool])


# ---- a request to answer ---------------------------------------------------------------------


def test_a_user_message_of_one_unknown_block_type_names_that_block_and_what_was_expected() -> None:
    payload = parse_payload([{"role": "user", "content": [{"type": "txt", "text": "fix it"}]}])
    with pytest.raises(PayloadError) as raised:
        require_request(payload)
    said = str(raised.value)
    assert said.startswith("messages[0].content[0].type: 'txt' ")
    assert "'text' block" in said and "no user message has text" in said


async def test_the_router_refuses_a_conversation_of_assistant_turns_alone() -> None:
    from ocp_router import MockBackend, OCPRouter

    asked: list[GenerateRequest] = []

    def answer(request: GenerateRequest) -> str:
        asked.append(request)
        return "an answer to nothing"

    router = OCPRouter(local=MockBackend(answer), paid=None)
    with pytest.raises(PayloadError, match="^messages: .*no user message with text"):
        await router.route([{"role": "assistant", "content": "Here is the fix."}])
    with pytest.raises(PayloadError, match="^request: the conversation is empty"):
        await router.route("")
    assert asked == []
    # A user request followed by assistant turns (an agent loop) is still one.
    routed = await router.route(
        [{"role": "user", "content": "fix it"}, {"role": "assistant", "content": "On it."}]
    )
    assert routed.text == "an answer to nothing" and "fix it" in asked[0].prompt
