"""A local answer in the OpenAI and Anthropic dialects looks like the provider's own: tool calls,
stream events, null refusals, fingerprints, usage details and tool ids."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, cast

import anthropic
import httpx
import openai
import pytest

from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import SIMPLE, TOOLS
from tests.proxy.sdk_clients import (
    OPENAI_TOOLS,
    anthropic_client,
    close_clients,  # noqa: F401 - autouse, closes the SDK clients a test opened
    openai_client,
)

TWO_CALLS = {
    "content": "",
    "tool_calls": [
        {"name": "read_file", "arguments": {"path": "a.py"}},
        {"name": "read_file", "arguments": {"path": "b.py"}},
    ],
}


@pytest.mark.parametrize("stream", [False, True])
def test_a_local_tool_call_answer_in_the_openai_dialect_looks_like_openais(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_openai: FakeOpenAI,
    stream: bool,
) -> None:
    # OpenAI: ids `call_…`, one per call; content null when the assistant only calls tools
    fake_ollama.reply = TWO_CALLS
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    client = openai_client(proxy)
    tools = cast(Any, OPENAI_TOOLS)
    messages: list[Any] = [{"role": "user", "content": SIMPLE}]
    completion: openai.types.chat.ChatCompletion
    if stream:  # as the SDK's helper puts the stream together, piece by piece
        pieces: dict[int, list[str]] = {0: [], 1: []}
        with client.chat.completions.stream(model="gpt-4o", tools=tools, messages=messages) as s:
            for event in s:
                if event.type == "tool_calls.function.arguments.delta":
                    pieces[event.index].append(event.arguments_delta)
            completion = s.get_final_completion()
        # OpenAI's order: the call (its name, arguments "") first, then its arguments
        assert [p[0] for p in pieces.values()] == ["", ""]
        assert ["".join(p) for p in pieces.values()] == ['{"path": "a.py"}', '{"path": "b.py"}']
    else:
        completion = client.chat.completions.create(model="gpt-4o", tools=tools, messages=messages)
    assert completion.model == "gpt-4o"  # the model asked for (served_model.py)
    (choice,) = completion.choices
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls or []
    assert [json.loads(c.function.arguments) for c in calls if c.type == "function"] == [
        {"path": "a.py"},
        {"path": "b.py"},
    ]
    ids = [c.id for c in calls]
    assert all(i.startswith("call_") for i in ids) and len(set(ids)) == 2
    assert fake_openai.requests == []


def _sse_deltas(proxy: RunningProxy, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The `delta` of each chunk of a streamed chat completion, as sent."""
    deltas = []
    with httpx.stream("POST", proxy.url + "/v1/chat/completions", json=body, timeout=20) as r:
        for line in r.iter_lines():
            if line.startswith("data: {"):
                deltas += [c["delta"] for c in json.loads(line[6:])["choices"]]
    return deltas


def test_a_streamed_local_answer_in_the_openai_dialect_opens_and_calls_tools_as_openai_does(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    # The first delta lacked OpenAI's `"refusal": null`, and a call came whole in one delta:
    # OpenAI sends its index, id, type and name with arguments "", then the arguments in pieces.
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": SIMPLE}], "stream": True}
    assert _sse_deltas(proxy, body)[0] == {"role": "assistant", "content": "", "refusal": None}
    text = 'é\\n"' * 300  # escapes the pieces must not cut
    fake_ollama.reply = {
        "content": "",
        "tool_calls": [
            {"name": "read_file", "arguments": {"path": "a.py"}},
            {"name": "write_file", "arguments": {"path": "b.py", "text": text}},
        ],
    }
    deltas = _sse_deltas(proxy, body | {"tools": OPENAI_TOOLS})
    opening, *rest, finish = deltas
    (call,) = opening.pop("tool_calls")
    assert opening == {"role": "assistant", "content": None, "refusal": None}
    assert call["id"].startswith("call_")
    assert call | {"id": ""} == {
        "index": 0,
        "id": "",
        "type": "function",
        "function": {"name": "read_file", "arguments": ""},
    }
    assert finish == {}
    calls = [d["tool_calls"][0] for d in rest]
    second = next(i for i, c in enumerate(calls) if c.get("id"))
    assert calls[second]["function"] == {"name": "write_file", "arguments": ""}
    for index, pieces in ((0, calls[:second]), (1, calls[second + 1 :])):
        assert all(set(p) == {"index", "function"} and p["index"] == index for p in pieces)
        assert all(set(p["function"]) == {"arguments"} for p in pieces)
    arguments = [
        "".join(p["function"]["arguments"] for p in c)
        for c in (calls[:second], calls[second + 1 :])
    ]
    assert [json.loads(a) for a in arguments] == [{"path": "a.py"}, {"path": "b.py", "text": text}]
    assert len(calls) - second - 1 > 1  # a long one comes in several pieces


@pytest.mark.parametrize("calls_tools", [False, True])
def test_a_local_answer_in_the_openai_dialect_has_openais_null_refusal_annotations_and_logprobs(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_openai: FakeOpenAI,
    calls_tools: bool,
) -> None:
    # A whole answer's message lacked `"refusal": null` and `"annotations": []`, and no choice,
    # whole or streamed, had `"logprobs": null`: OpenAI sends all of them. The SDK's `to_dict`
    # leaves out what the wire did not send, so it tells a null sent from one missing.
    if calls_tools:
        fake_ollama.reply = TWO_CALLS
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    client = openai_client(proxy)
    body: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": SIMPLE}]}
    if calls_tools:
        body["tools"] = OPENAI_TOOLS
    (choice,) = client.chat.completions.create(**body).choices
    sent = choice.to_dict()
    assert sent["logprobs"] is None and "logprobs" in sent
    message = cast(dict[str, Any], sent["message"])
    assert message["refusal"] is None and "refusal" in message
    assert message["annotations"] == []
    assert bool(message.get("tool_calls")) == calls_tools
    raw = httpx.post(proxy.url + "/v1/chat/completions", json=body, timeout=20).json()
    (raw_choice,) = raw["choices"]
    assert raw_choice["logprobs"] is None and "logprobs" in raw_choice
    raw_message = raw_choice["message"]
    assert raw_message["refusal"] is None and "refusal" in raw_message
    assert raw_message["annotations"] == []

    streamed = body | {"stream": True, "stream_options": {"include_usage": True}}
    choices = [c for chunk in client.chat.completions.create(**streamed) for c in chunk.choices]
    assert len(choices) > 2
    assert all("logprobs" in c.to_dict() and c.logprobs is None for c in choices)
    raw_choices = []
    with httpx.stream("POST", proxy.url + "/v1/chat/completions", json=streamed, timeout=20) as r:
        for line in r.iter_lines():
            if line.startswith("data: {"):
                raw_choices += json.loads(line[6:])["choices"]
    assert len(raw_choices) == len(choices)
    assert all("logprobs" in c and c["logprobs"] is None for c in raw_choices)
    assert fake_openai.requests == []


def test_a_local_answer_in_the_openai_dialect_has_openais_fingerprint_tier_and_usage_details(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    # No `system_fingerprint`, no `service_tier`, and a usage without the breakdowns that
    # Continue, Cline, the AI SDK and LiteLLM read (`prompt_tokens_details.cached_tokens`,
    # `completion_tokens_details.reasoning_tokens`): OpenAI sends all of them, and streamed,
    # `"usage": null` on every chunk but the last when the usage is asked for.
    proxy = start_proxy(proxy_env)
    client = openai_client(proxy)
    body: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": SIMPLE}]}
    whole = client.chat.completions.create(**body)
    fingerprint = whole.system_fingerprint
    assert fingerprint is not None and re.fullmatch(r"fp_[0-9a-f]{10}", fingerprint)
    assert whole.service_tier == "default"
    assert whole.usage is not None and whole.usage.prompt_tokens > 0
    details = whole.usage.prompt_tokens_details
    assert details is not None and details.cached_tokens == 0
    completion = whole.usage.completion_tokens_details
    assert completion is not None and completion.reasoning_tokens == 0

    streamed = body | {"stream": True, "stream_options": {"include_usage": True}}
    chunks: list[dict[str, Any]] = []
    with httpx.stream("POST", proxy.url + "/v1/chat/completions", json=streamed, timeout=20) as r:
        for line in r.iter_lines():
            if line.startswith("data: {"):
                chunks.append(json.loads(line[6:]))
    assert len(chunks) > 2
    assert {c["system_fingerprint"] for c in chunks} == {fingerprint}
    assert {c["service_tier"] for c in chunks} == {"default"}
    assert all("usage" in c and c["usage"] is None for c in chunks[:-1])
    last = chunks[-1]["usage"]
    assert last["prompt_tokens_details"]["cached_tokens"] == 0
    assert last["completion_tokens_details"]["reasoning_tokens"] == 0
    assert fake_openai.requests == []


def test_a_local_openai_compatible_servers_cached_and_reasoning_tokens_reach_the_client(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    # A local server that reports them (vLLM, llama.cpp): the client was told 0 of neither.
    figures = {
        "prompt_tokens_details": {"cached_tokens": 7},
        "completion_tokens_details": {"reasoning_tokens": 3},
    }
    fake_openai.reply = {"content": "a local answer", "usage": figures}
    local = {"OCP_LOCAL_BACKEND": "openai", "OCP_LOCAL_BASE_URL": fake_openai.base_url}
    proxy = start_proxy(proxy_env | local)
    body: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": SIMPLE}]}
    usage = openai_client(proxy).chat.completions.create(**body).usage
    assert usage is not None
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 7
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 3
    assert [r.path for r in fake_openai.requests_to("/v1/chat/completions")]  # answered locally


def test_a_local_tool_call_in_the_anthropic_dialect_has_a_toolu_id_even_if_ollama_named_one(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    fake_ollama.reply = {
        "content": "",
        "tool_calls": [{"id": "call_ollama1", "name": "read_file", "arguments": {"path": "a"}}],
    }
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    client = anthropic_client(proxy)
    args: dict[str, Any] = {
        "model": "claude-haiku-5-5",
        "max_tokens": 100,
        "tools": TOOLS,
        "messages": [{"role": "user", "content": SIMPLE}],
    }
    message = client.messages.create(**args)
    with client.messages.stream(**args) as stream:
        streamed = stream.get_final_message()
    blocks = [*message.content, *streamed.content]
    ids = [b.id for b in blocks if isinstance(b, anthropic.types.ToolUseBlock)]
    assert len(ids) == 2 and all(i.startswith("toolu_") for i in ids)


def test_an_openai_tool_result_sent_back_pairs_with_its_call_at_ollama(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    # The id the client got from a local answer comes back on the tool message; Ollama pairs
    # a result with its call by the tool's name.
    fake_ollama.reply = TWO_CALLS
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    client = openai_client(proxy)
    messages: list[Any] = [{"role": "user", "content": SIMPLE}]
    first = client.chat.completions.create(
        model="gpt-4o", tools=cast(Any, OPENAI_TOOLS), messages=messages
    )
    message = first.choices[0].message
    calls = message.tool_calls or []
    messages.append(message.model_dump(exclude_none=True))
    messages += [
        {"role": "tool", "tool_call_id": c.id, "content": f"text of {i}"}
        for i, c in enumerate(calls)
    ]
    fake_ollama.reply = {"content": "done"}
    second = client.chat.completions.create(
        model="gpt-4o", tools=cast(Any, OPENAI_TOOLS), messages=messages
    )
    assert second.choices[0].message.content == "done"
    sent = fake_ollama.requests_to("/api/chat")[-1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "tool"]
    assert [c["function"]["arguments"] for c in sent[1]["tool_calls"]] == [
        {"path": "a.py"},
        {"path": "b.py"},
    ]
    assert [(m["tool_name"], m["content"]) for m in sent[2:]] == [
        ("read_file", "text of 0"),
        ("read_file", "text of 1"),
    ]
