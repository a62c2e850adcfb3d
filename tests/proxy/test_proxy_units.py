"""The proxy's pure parts: the paid boundary on whole bodies, dialect translation for the
local model, and local answers rendered back."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ocp_router.boundary import redact_all
from ocp_server.proxy import anthropic, openai
from ocp_server.proxy.body import BodyError, parse_body
from ocp_server.proxy.boundary import redact_body
from ocp_server.proxy.chat import Event, ToolCall, Usage
from ocp_server.proxy.local import _ollama_body, _openai_body
from ocp_server.proxy.serving import _session_id
from ocp_server.proxy.stops import StopWatch
from ocp_server.proxy.upstream import UpstreamUnreachable, unreachable_message

AWS = "AKIA" + "QW7B3PDKHX4PY8GP"  # AWS's documented AKIAIOSFODNN7EXAMPLE is a placeholder
PASSWORD = "hunter2hunter2XYZ"


def test_a_secret_found_in_one_message_is_hidden_where_it_recurs_in_another() -> None:
    body: dict[str, Any] = {
        "messages": [
            {
                "role": "user",
                "content": f"my .env:\nAWS_ACCESS_KEY_ID={AWS}\nDB_PASSWORD={PASSWORD}\n",
            },
            {"role": "assistant", "content": "noted"},
            {"role": "user", "content": f"later I quoted {PASSWORD} again"},
        ]
    }
    texts = [m["content"] for m in body["messages"]]
    expected = [r.text for r in redact_all(texts)]
    for _ in range(2):  # the second time from the redactions `redact` keeps
        again = json.loads(json.dumps(body))
        redact_body(again)
        assert [m["content"] for m in again["messages"]] == expected
    assert PASSWORD not in expected[2]


def test_a_whole_body_is_redacted_in_every_text_field_and_nothing_else() -> None:
    body: dict[str, Any] = {
        "model": "m",
        "system": [{"type": "text", "text": f"key {AWS}", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": f"see {AWS}"},
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "t1", "name": "run", "input": {"cmd": f"echo {AWS}"}}
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t1",
                        "content": [{"type": "text", "text": AWS}],
                    },
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": "QUJD"},
                    },
                ],
            },
        ],
        "metadata": {"user_id": AWS},  # not read by the model: left alone
    }
    counts = redact_body(body)
    text = json.dumps(body)
    assert text.count(AWS) == 1 and body["metadata"]["user_id"] == AWS
    assert sum(counts.values()) == 4
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert body["messages"][2]["content"][1]["source"]["data"] == "QUJD"


def test_tool_definitions_are_redacted_where_the_model_reads_them() -> None:
    # A tool's description and its schema's descriptions and defaults are prompt text the
    # paid model reads; names, types, enums and the shape stay as the client sent them.
    schema = {
        "type": "object",
        "properties": {
            "key": {"type": "string", "description": f"defaults to {AWS}", "default": AWS},
            "mode": {"type": "string", "enum": ["fast", "safe"], "examples": [AWS]},
        },
        "required": ["key"],
    }
    body: dict[str, Any] = {
        "messages": [{"role": "user", "content": "deploy it"}],
        "tools": [
            {
                "name": "deploy",
                "description": f"deploys with {AWS}",
                "input_schema": json.loads(json.dumps(schema)),
                "cache_control": {"type": "ephemeral"},
            },
            {
                "type": "function",
                "function": {"name": "run", "description": f"k={AWS}", "parameters": schema},
            },
        ],
    }
    counts = redact_body(body)
    text = json.dumps(body)
    assert AWS not in text and sum(counts.values()) == 8
    anthropic_tool, openai_tool = body["tools"]
    assert anthropic_tool["name"] == "deploy" and anthropic_tool["cache_control"]["type"]
    assert anthropic_tool["input_schema"]["properties"]["mode"]["enum"] == ["fast", "safe"]
    assert openai_tool["function"]["name"] == "run"
    assert openai_tool["function"]["parameters"]["required"] == ["key"]


def test_an_anthropic_conversation_with_tools_and_images_translates_for_ollama() -> None:
    body = {
        "model": "claude-haiku-5-5",
        "max_tokens": 64,
        "system": "Be brief.",
        "stop_sequences": ["END"],
        "tools": [{"name": "read", "description": "Read", "input_schema": {"type": "object"}}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": "QUJD"},
                    },
                ],
            },
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "read", "input": {"p": "a"}}],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "data"}],
            },
        ],
    }
    sent = _ollama_body(anthropic.to_chat(body), "llama3.2")
    assert sent == {
        "model": "llama3.2",
        "stream": True,
        "truncate": False,  # an over-long prompt refused, not cut silently
        # the stop sequences are matched by the proxy, which must say which one was reached
        # (a local server strips it and says "stop"): not sent (test_proxy_stop_sequences.py)
        "options": {"num_predict": 64},
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "read",
                    "description": "Read",
                    "parameters": {"type": "object"},
                },
            }
        ],
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "look", "images": ["QUJD"]},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"function": {"name": "read", "arguments": {"p": "a"}}}],
            },
            {"role": "tool", "content": "data", "tool_name": "read"},
        ],
    }


def test_an_openai_conversation_translates_for_an_openai_compatible_local_server() -> None:
    body = {
        "model": "gpt-4o",
        "max_completion_tokens": 32,
        "stop": "END",
        "messages": [
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "f", "arguments": '{"a": 1}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "42"},
        ],
    }
    sent = _openai_body(openai.to_chat(body), "local")
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
            ],
        },
        {"role": "tool", "content": "42", "tool_call_id": "c1"},
    ]
    assert (sent["max_tokens"], sent["stop"]) == (32, ["END"])


EVENTS = [
    Event("text", text="Hel"),
    Event("text", text="lo"),
    Event("tool", tool=ToolCall("toolu_1", "read", {"p": "a"})),
    Event("done", stop="tool_calls", usage=Usage(10, 4)),
]


async def _aiter(events: list[Event]) -> AsyncIterator[Event]:
    for e in events:
        yield e


async def test_a_local_answer_with_a_tool_call_renders_as_an_anthropic_event_stream() -> None:
    chunks = [c async for c in anthropic.render_stream(_aiter(EVENTS), "llama3.2", "msg_1", 10)]
    events = [json.loads(c.decode().split("data: ", 1)[1]) for c in chunks]
    assert [e["type"] for e in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    block = events[5]["content_block"]
    assert block["id"].startswith("toolu_01") and block["id"] != "toolu_1"  # Anthropic's form
    assert block == {"type": "tool_use", "id": block["id"], "name": "read", "input": {}}
    assert events[6]["delta"] == {"type": "input_json_delta", "partial_json": '{"p": "a"}'}
    assert events[8]["delta"]["stop_reason"] == "tool_use"
    # the model's count (cumulative, as the API's MessageDeltaUsage has it), none from a cache
    assert events[8]["usage"] == {
        "output_tokens": 4,
        "input_tokens": 10,
        "cache_read_input_tokens": 0,
    }


def test_a_local_answer_with_a_tool_call_renders_as_openai_json() -> None:
    out = openai.render_json(EVENTS, "llama3.2", "chatcmpl-1", served="llama3.2")
    assert out["choices"][0]["finish_reason"] == "tool_calls"
    call_id = out["choices"][0]["message"]["tool_calls"][0]["id"]
    assert call_id.startswith("call_")  # OpenAI's form, not the local answer's id
    assert out["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Hello",
        "tool_calls": [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": "read", "arguments": '{"p": "a"}'},
            }
        ],
        "refusal": None,
        "annotations": [],
    }
    assert out["choices"][0]["logprobs"] is None
    assert out["usage"] == {
        "prompt_tokens": 10,
        "completion_tokens": 4,
        "total_tokens": 14,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def test_paid_usage_counts_cached_input_for_cost() -> None:
    message = {
        "usage": {
            "input_tokens": 10,
            "output_tokens": 5,
            "cache_read_input_tokens": 100,
            "cache_creation_input_tokens": 20,
        }
    }
    assert anthropic.usage_of_message(message) == Usage(130, 5, 100, 20)
    delta = {"type": "message_delta", "usage": {"output_tokens": 9}}
    assert anthropic.usage_of_event(delta, Usage(130, 5, 100, 20)) == Usage(130, 9, 100, 20)
    chunk = {
        "usage": {
            "prompt_tokens": 50,
            "completion_tokens": 7,
            "prompt_tokens_details": {"cached_tokens": 40},
        }
    }
    assert openai.usage_of_event(chunk, Usage()) == Usage(50, 7, 40)


@pytest.mark.parametrize(
    ("raw", "values"),
    [
        (b"[1, 2, 3]", 3),  # the bracket and two commas
        (b'{"a,[{": [1, {"b": "\\"],"}]}', 4),  # an escaped quote does not end a string
        (b'["a\\\\", ",", 2]', 3),  # an escaped backslash does not escape the quote
        ("[1, [2]]".encode("utf-16"), 3),  # read as json.loads reads it
    ],
)
def test_a_bodys_values_are_counted_outside_its_strings(raw: bytes, values: int) -> None:
    assert parse_body(raw, max_values=values) == json.loads(raw)
    with pytest.raises(BodyError, match=f"too many JSON values \\(over {values - 1} "):
        parse_body(raw, max_values=values - 1)


def test_a_string_that_never_closes_among_many_escaped_quotes_is_invalid_json() -> None:
    # Every quote after the first is escaped: a scan that tried each as a string's start
    # would read to the end from each one, for ever on a body this size.
    raw = b'["' + b'\\",' * 2_000_000
    with pytest.raises(BodyError, match="not valid JSON"):
        parse_body(raw)


def test_a_stop_watch_holds_back_what_may_start_a_sequence_and_stops_at_the_first() -> None:
    watch = StopWatch(["</answer>", "STOP"])
    assert watch.feed("The answer is 4.</ans") == ("The answer is", None)  # 8 held back
    assert watch.feed("wer> and more") == (" 4.", "</answer>")
    watch = StopWatch(["STOP"])
    assert watch.feed("no sequence here") == ("no sequence h", None)
    assert watch.feed("") == ("", None)
    assert watch.flush() == "ere"


@pytest.mark.parametrize(
    "parts",
    [("user-42",), ("You are terse.", "fix the bug"), ("", "é 漢字 \U0001f600" * 1000), ("a", "")],
)
def test_a_session_id_is_what_it_was_when_its_parts_were_joined_first(
    parts: tuple[str, ...],
) -> None:
    # Pins and sticky tiers are kept by this id: it must not change with how it is hashed.
    joined = "\x00".join(parts).encode()
    expected = "proxy-" + hashlib.sha1(joined, usedforsecurity=False).hexdigest()[:20]
    assert _session_id(*parts) == expected


def test_a_body_read_into_a_bytearray_parses_as_its_bytes() -> None:
    raw = json.dumps({"messages": [{"role": "user", "content": "x" * 100_000}]}).encode()
    assert parse_body(bytearray(raw)) == parse_body(raw) == json.loads(raw)


def test_an_unreachable_upstreams_url_is_shown_without_its_credentials_or_query() -> None:
    url = "https://user:s3cret-pass@gateway.example/v1/chat/completions?key=s3cret-query"
    said = unreachable_message(
        "openai",
        url,
        "OCP_PROXY_OPENAI_UPSTREAM",
        UpstreamUnreachable("ConnectError: refused"),
        600,
    )
    assert said == (
        "the openai upstream at https://gateway.example/v1/chat/completions did not answer: "
        "ConnectError: refused (set by OCP_PROXY_OPENAI_UPSTREAM)"
    )


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_a_tool_calls_arguments_are_streamed_in_pieces_that_cut_no_escape(size: int) -> None:
    # A client parsing the arguments so far (the openai SDK's helper, for a strict tool) met
    # half an escape (`\u00`) at a cut.
    arguments = json.dumps({"text": 'é\\"\n😀 a\\\\u0041'})
    pieces = openai.argument_pieces(arguments, size)
    assert "".join(pieces) == arguments and all(pieces)
    joined = ""
    for piece in pieces:
        joined += piece
        run = len(joined) - len(joined.rstrip("\\"))
        assert run % 2 == 0, joined  # no escape begun and left open
        head = joined[-6:]
        if (u := head.rfind("\\u")) >= 0 and (len(joined) - 6 + u) >= 0:
            before = joined[: len(joined) - len(head) + u]
            opened = (len(before) - len(before.rstrip("\\"))) % 2 == 0
            assert not opened or len(head) - u == 6, joined  # a \uXXXX cut short
        assert len(piece) <= size + 5
