"""parse_payload: what agents send (plain strings, OpenAI and Anthropic message lists, whole
request bodies) read into one AgentPayload; field-naming errors; and chat_messages, which turns
a payload's history back into a conversation a chat API accepts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocp_router import ConfigError, GenerateRequest, PayloadError, Turn, parse_payload
from ocp_router.backends.base import chat_messages
from ocp_router.payload import AgentPayload, require_request

# ---- plain strings ---------------------------------------------------------------------------


def test_a_plain_string_is_one_user_message() -> None:
    p = parse_payload("explain closures in python")
    assert p.turns == 1 and p.messages[0].role == "user"
    assert p.user_turn == "explain closures in python"
    assert p.system == "" and p.tools == () and p.tools_chars == 0
    assert p.total_chars == len("explain closures in python")
    assert (p.tool_calls, p.tool_results, p.images) == (0, 0, 0)
    assert p.history() == ()


def test_a_plain_string_counts_the_system_and_tools_given_beside_it() -> None:
    tools = [{"name": "read_file", "input_schema": {"type": "object"}}]
    p = parse_payload("explain closures", system="You are terse.", tools=tools)
    assert p.system == "You are terse."
    assert p.tools == ("read_file",) and p.tools_chars > len("read_file")
    assert p.total_chars == len("explain closures") + len("You are terse.") + p.tools_chars


def test_a_plain_string_drops_reminders_from_the_words_but_counts_them_as_context() -> None:
    text = "<system-reminder>\nThe date is 2026-05-01.\n</system-reminder>\nwhy is my build slow?"
    p = parse_payload(text)
    assert p.user_turn == "why is my build slow?"
    assert p.messages[0].chars == len(text)


# ---- OpenAI message lists --------------------------------------------------------------------

OPENAI_CONVERSATION: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "developer", "content": [{"type": "text", "text": "Answer briefly."}]},
    {"role": "user", "content": "what does the regex ^a+$ match?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "search_docs", "arguments": '{"q": "regex anchors"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "Anchors: ^ start, $ end. " * 20},
    {"role": "assistant", "content": "One or more 'a' characters and nothing else."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "and the one in this screenshot?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        ],
    },
]


def test_openai_system_and_developer_messages_become_the_system_prompt() -> None:
    p = parse_payload(OPENAI_CONVERSATION)
    assert p.system == "You are a helpful assistant.\n\nAnswer briefly."
    assert [m.role for m in p.messages] == ["user", "assistant", "tool", "assistant", "user"]
    assert p.turns == 5


def test_openai_tool_calls_tool_results_and_images_are_counted() -> None:
    p = parse_payload(OPENAI_CONVERSATION)
    assert (p.tool_calls, p.tool_results, p.images) == (1, 1, 1)
    assistant_call, tool_result = p.messages[1], p.messages[2]
    assert assistant_call.tool_calls == 1 and assistant_call.text == ""
    assert assistant_call.chars >= len('{"q": "regex anchors"}')
    # a tool's output is context the model reads, never anyone's words
    assert tool_result.text == "" and tool_result.chars == len("Anchors: ^ start, $ end. " * 20)
    assert p.messages[4].images == 1


def test_openai_user_turn_is_the_latest_user_text_from_a_parts_list() -> None:
    p = parse_payload(OPENAI_CONVERSATION)
    assert p.user_turn == "and the one in this screenshot?"


def test_openai_total_chars_counts_system_messages_and_tool_output() -> None:
    p = parse_payload(OPENAI_CONVERSATION)
    tool_output = len("Anchors: ^ start, $ end. " * 20)
    assert p.total_chars >= len(p.system) + tool_output + len("what does the regex ^a+$ match?")


def test_history_excludes_the_latest_user_turn_and_notes_tool_traffic() -> None:
    p = parse_payload(OPENAI_CONVERSATION)
    assert p.history() == (
        Turn("user", "what does the regex ^a+$ match?"),
        Turn("assistant", "[1 tool calls, 0 tool results]"),
        Turn("user", "[0 tool calls, 1 tool results]"),
        Turn("assistant", "One or more 'a' characters and nothing else."),
    )


def test_history_keeps_an_assistant_s_words_beside_its_tool_note() -> None:
    p = parse_payload(
        [
            {"role": "user", "content": "run the tests"},
            {
                "role": "assistant",
                "content": "Running them now.",
                "tool_calls": [{"id": "c", "function": {"name": "bash", "arguments": "{}"}}],
            },
            {"role": "tool", "tool_call_id": "c", "content": "3 passed"},
            {"role": "user", "content": "now fix the flaky one"},
        ]
    )
    assert p.history()[1] == Turn("assistant", "Running them now.\n[1 tool calls, 0 tool results]")
    assert p.user_turn == "now fix the flaky one"


def test_legacy_openai_function_role_and_function_call_are_tool_traffic() -> None:
    p = parse_payload(
        [
            {"role": "user", "content": "weather in Paris?"},
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {"role": "function", "name": "get_weather", "content": '{"temp": 21}'},
        ]
    )
    assert (p.tool_calls, p.tool_results) == (1, 1)
    assert p.messages[2].text == "" and p.user_turn == "weather in Paris?"


# ---- Anthropic request bodies ----------------------------------------------------------------

ANTHROPIC_BODY: dict[str, Any] = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 1024,
    "system": [
        {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "Be concise."},
    ],
    "tools": [
        {"name": "Read", "description": "Read a file", "input_schema": {"type": "object"}},
        {"name": "Bash", "description": "Run a command", "input_schema": {"type": "object"}},
    ],
    "messages": [
        {
            "role": "user",
            "content": [
                {
                    "type": "text",
                    "text": "<system-reminder>CLAUDE.md says: use uv</system-reminder>",
                },
                {"type": "text", "text": "fix the failing test in parser.py"},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "The parser test. " * 30, "signature": "sig"},
                {"type": "text", "text": "I'll read the file."},
                {"type": "tool_use", "id": "tu_1", "name": "Read", "input": {"path": "parser.py"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "tu_1", "content": "def parse(s):\n" * 50}
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "tu_2", "name": "Bash", "input": {"command": "pytest"}}
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "tu_2",
                    "content": [{"type": "text", "text": "FAILED test_parser.py::test_empty"}],
                }
            ],
        },
    ],
}


def test_anthropic_body_reads_system_blocks_and_tool_names() -> None:
    p = parse_payload(ANTHROPIC_BODY)
    assert p.system == "You are Claude Code.\nBe concise."
    assert p.tools == ("Read", "Bash")
    assert p.turns == 5


def test_anthropic_tool_use_and_tool_result_blocks_are_counted_in_both_content_shapes() -> None:
    p = parse_payload(ANTHROPIC_BODY)
    assert (p.tool_calls, p.tool_results) == (2, 2)
    string_result, block_result = p.messages[2], p.messages[4]
    assert string_result.tool_results == 1 and string_result.text == ""
    assert string_result.chars >= len("def parse(s):\n" * 50)
    assert block_result.tool_results == 1 and block_result.text == ""
    assert block_result.chars >= len("FAILED test_parser.py::test_empty")


def test_anthropic_thinking_is_read_by_the_model_but_not_the_assistant_s_words() -> None:
    p = parse_payload(ANTHROPIC_BODY)
    assistant = p.messages[1]
    assert assistant.text == "I'll read the file."
    assert assistant.tool_calls == 1
    assert assistant.chars >= len("The parser test. " * 30) + len("I'll read the file.")


def test_trailing_tool_results_do_not_hide_the_user_s_request() -> None:
    p = parse_payload(ANTHROPIC_BODY)
    assert p.messages[-1].role == "user" and p.messages[-1].text == ""
    assert p.user_turn == "fix the failing test in parser.py"


def test_tool_results_and_reminders_count_toward_total_chars() -> None:
    p = parse_payload(ANTHROPIC_BODY)
    assert p.total_chars > len("def parse(s):\n" * 50) + len("The parser test. " * 30)
    first = p.messages[0]
    assert first.chars >= len("<system-reminder>CLAUDE.md says: use uv</system-reminder>")


def test_history_of_an_agent_loop_stops_before_the_latest_request() -> None:
    body = {
        "messages": [
            {"role": "user", "content": "list the modules"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "a", "name": "Bash", "input": {}}],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a"}]},
            {"role": "assistant", "content": "There are three modules."},
            {"role": "user", "content": "now document the second one"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "b", "name": "Read", "input": {}}],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "b"}]},
        ]
    }
    p = parse_payload(body)
    assert p.user_turn == "now document the second one"
    assert p.history() == (
        Turn("user", "list the modules"),
        Turn("assistant", "[1 tool calls, 0 tool results]"),
        Turn("user", "[0 tool calls, 1 tool results]"),
        Turn("assistant", "There are three modules."),
    )


def test_explicit_system_and_tools_arguments_win_over_the_body() -> None:
    p = parse_payload(ANTHROPIC_BODY, system="override", tools=[{"name": "Grep"}])
    assert p.system == "override" and p.tools == ("Grep",)


# ---- tools -----------------------------------------------------------------------------------


def test_tool_names_are_read_from_both_provider_shapes() -> None:
    tools = [
        {"type": "function", "function": {"name": "search_docs", "parameters": {}}},
        {"name": "Read", "input_schema": {"type": "object"}},
        {"type": "web_search_20250305"},
    ]
    p = parse_payload("hi", tools=tools)
    assert p.tools == ("search_docs", "Read", "web_search_20250305")


def test_legacy_functions_in_a_body_are_the_tools() -> None:
    body = {
        "messages": [{"role": "user", "content": "hi"}],
        "functions": [{"name": "get_weather", "parameters": {}}],
    }
    assert parse_payload(body).tools == ("get_weather",)


# ---- the user's own words ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (
            "<system-reminder>\nAs you answer, use this context: CLAUDE.md ...\n"
            "</system-reminder>\nwhy is the cache never invalidated?",
            "why is the cache never invalidated?",
        ),
        (
            "<additional_data>\nOpen files: src/app.ts\n</additional_data>\n"
            "<user_query>\nrename fetchUser to loadUser\n</user_query>",
            "rename fetchUser to loadUser",
        ),
        (
            "<task>\nAdd a --verbose flag to the CLI\n</task>\n<environment_details>\n"
            "# VSCode Visible Files\ncli.py\n</environment_details>",
            "Add a --verbose flag to the CLI",
        ),
        ("compare a < b with b > a", "compare a < b with b > a"),
    ],
    ids=["claude-code-reminder", "cursor-user-query", "cline-task", "plain-angle-brackets"],
)
def test_harness_wrappers_are_removed_from_the_user_s_words(content: str, words: str) -> None:
    p = parse_payload([{"role": "user", "content": content}])
    assert p.user_turn == words
    assert p.messages[0].chars == len(content)


def test_a_user_message_holding_only_reminders_is_not_the_request() -> None:
    p = parse_payload(
        [
            {"role": "user", "content": "explain the retry loop"},
            {"role": "assistant", "content": "It retries three times."},
            {"role": "user", "content": "<system-reminder>todo list is empty</system-reminder>"},
        ]
    )
    assert p.user_turn == "explain the retry loop"


def test_a_request_tag_quoted_inside_a_reminder_does_not_replace_the_user_s_words() -> None:
    content = (
        "<system-reminder>The user opened prompt.xml:\n<task>Summarize the file</task>\n"
        "</system-reminder>\nwhy does this worker pool deadlock?"
    )
    assert parse_payload(content).user_turn == "why does this worker pool deadlock?"


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


# ---- chat_messages ---------------------------------------------------------------------------


def test_chat_messages_merges_consecutive_turns_of_the_same_role() -> None:
    request = GenerateRequest(
        "and the third?",
        history=(Turn("user", "first"), Turn("user", "second"), Turn("assistant", "ok")),
    )
    assert chat_messages(request, system_inline=False) == [
        {"role": "user", "content": "first\n\nsecond"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "and the third?"},
    ]


def test_chat_messages_merges_the_prompt_into_a_trailing_user_turn() -> None:
    request = GenerateRequest("the question", history=(Turn("user", "[0 tool calls, 1 result]"),))
    assert chat_messages(request, system_inline=False) == [
        {"role": "user", "content": "[0 tool calls, 1 result]\n\nthe question"}
    ]


def test_chat_messages_never_starts_with_an_assistant_turn() -> None:
    request = GenerateRequest(
        "q2",
        history=(
            Turn("assistant", "Hello! How can I help?"),
            Turn("assistant", "[1 tool calls, 0 tool results]"),
            Turn("user", "q1"),
            Turn("assistant", "a1"),
        ),
    )
    assert chat_messages(request, system_inline=False) == [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
    ]


def test_chat_messages_skips_empty_turns() -> None:
    request = GenerateRequest("q", history=(Turn("user", "a"), Turn("assistant", "")))
    assert chat_messages(request, system_inline=False) == [{"role": "user", "content": "a\n\nq"}]


def test_chat_messages_puts_the_system_first_only_when_inline() -> None:
    request = GenerateRequest(
        "q2", system="Be terse.", history=(Turn("user", "q1"), Turn("assistant", "a1"))
    )
    inline = chat_messages(request, system_inline=True)
    assert inline[0] == {"role": "system", "content": "Be terse."}
    assert [m["role"] for m in inline] == ["system", "user", "assistant", "user"]
    separate = chat_messages(request, system_inline=False)
    assert [m["role"] for m in separate] == ["user", "assistant", "user"]
    assert all("Be terse." not in m["content"] for m in separate)


def test_chat_messages_of_an_empty_request_is_one_user_turn() -> None:
    assert chat_messages(GenerateRequest(""), system_inline=True) == [
        {"role": "user", "content": ""}
    ]


_TURNS = st.lists(
    st.builds(Turn, st.sampled_from(["user", "assistant"]), st.text(max_size=8)), max_size=8
)


@given(history=_TURNS, prompt=st.text(min_size=1, max_size=8))
def test_chat_messages_alternate_roles_and_open_with_the_user(
    history: list[Turn], prompt: str
) -> None:
    messages = chat_messages(
        GenerateRequest(prompt, system="sys", history=tuple(history)), system_inline=True
    )
    assert messages[0] == {"role": "system", "content": "sys"}
    roles = [m["role"] for m in messages[1:]]
    assert roles[0] == "user" and roles[-1] == "user"
    assert all(a != b for a, b in zip(roles, roles[1:], strict=False))
    assert messages[-1]["content"].endswith(prompt)


def test_a_parsed_agent_conversation_becomes_a_valid_chat() -> None:
    p = parse_payload(OPENAI_CONVERSATION)
    request = GenerateRequest(p.user_turn, system=p.system, history=p.history())
    messages = chat_messages(request, system_inline=True)
    assert [m["role"] for m in messages] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert messages[-1]["content"] == "and the one in this screenshot?"


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


def test_tools_are_named_by_either_provider_or_by_a_built_in_type() -> None:
    tools = [
        {"name": "read_file", "input_schema": {"type": "object"}},
        {"type": "function", "function": {"name": "grep", "parameters": {}}},
        {"type": "custom", "custom": {"name": "apply_patch"}},
        {"type": "web_search_20250305", "name": "web_search"},
        {"type": "web_search"},
    ]
    p = parse_payload("explain closures", tools=tools)
    assert p.tools == ("read_file", "grep", "apply_patch", "web_search", "web_search")


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
