"""parse_payload: what agents send (plain strings, OpenAI and Anthropic message lists, whole
request bodies) read into one AgentPayload, their tools, and the user's own words without the
harness's wrappers."""

from __future__ import annotations

from typing import Any

import pytest

from ocp_router import Turn, parse_payload
from tests.router.agent_conversations import OPENAI_CONVERSATION

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


# ---- Anthropic request bodies ----------------------------------------------------------------


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
