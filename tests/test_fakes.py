"""The fake model servers behave like the real ones, as seen by independent clients.

The Anthropic fake is checked with the official ``anthropic`` SDK; Ollama and the
OpenAI-compatible fake with plain ``httpx``. No test sleeps: only the fakes' own ``delay`` /
``stream_delay`` knobs create latency, and every client call has a bounded timeout.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from typing import Any

import anthropic
import httpx
import pytest
from anthropic.types import (
    MessageParam,
    TextBlockParam,
    ToolParam,
    ToolResultBlockParam,
)

from tests.fakes import FakeAnthropic, FakeOllama, FakeOpenAI, closed_port
from tests.fakes._http import Request, Response, StreamResponse
from tests.results import error_body, message_text

TIMEOUT = httpx.Timeout(10.0)
SONNET = "claude-sonnet-5-5"


def ndjson(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def sse_events(text: str) -> list[tuple[str | None, str]]:
    """(event name, data) pairs of a server-sent-events body."""
    out: list[tuple[str | None, str]] = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        event = None
        data: list[str] = []
        for line in block.splitlines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        out.append((event, "\n".join(data)))
    return out


def claude(fake: FakeAnthropic, **kw: Any) -> anthropic.AsyncAnthropic:
    kw.setdefault("api_key", "sk-ant-test")
    kw.setdefault("timeout", 10.0)
    return anthropic.AsyncAnthropic(base_url=fake.url, max_retries=0, **kw)


USER_HI: list[MessageParam] = [{"role": "user", "content": "What is the capital of Norway?"}]


# ---------------------------------------------------------------------------------------------
# Anthropic, through the official SDK
# ---------------------------------------------------------------------------------------------


async def test_the_anthropic_sdk_reads_a_plain_message_with_full_usage(
    fake_anthropic: FakeAnthropic,
) -> None:
    async with claude(fake_anthropic) as client:
        msg = await client.messages.create(model=SONNET, max_tokens=100, messages=USER_HI)
    assert msg.type == "message" and msg.role == "assistant" and msg.model == SONNET
    assert [b.type for b in msg.content] == ["text"]
    assert message_text(msg) == "claude answer: What is the capital of Norway?"
    assert msg.stop_reason == "end_turn"
    assert msg.usage.input_tokens == 6
    assert msg.usage.output_tokens == 8
    assert msg.usage.cache_creation_input_tokens == 0
    assert msg.usage.cache_read_input_tokens == 0
    req = fake_anthropic.last_request
    assert (req.method, req.path) == ("POST", "/v1/messages")
    assert req.headers["anthropic-version"]
    assert req.body["messages"] == USER_HI and req.body["max_tokens"] == 100


async def test_the_anthropic_sdk_stream_helper_yields_text_deltas_and_a_final_message(
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.reply = "Oslo is the capital of Norway."
    async with claude(fake_anthropic) as client:
        async with client.messages.stream(model=SONNET, max_tokens=100, messages=USER_HI) as s:
            deltas = [t async for t in s.text_stream]
            final = await s.get_final_message()
    assert len(deltas) == 6  # one delta per whitespace token: the stream is really chunked
    assert "".join(deltas) == "Oslo is the capital of Norway."
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 6 and final.usage.input_tokens == 6
    assert fake_anthropic.last_request.body["stream"] is True


async def test_a_raw_streaming_request_with_beta_query_gets_events_in_documented_order(
    fake_anthropic: FakeAnthropic,
) -> None:
    body = {"model": SONNET, "max_tokens": 50, "stream": True, "messages": USER_HI}
    headers = {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"}
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        r = await http.post(
            fake_anthropic.url + "/v1/messages?beta=true", json=body, headers=headers
        )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["transfer-encoding"] == "chunked"
    events = sse_events(r.text)
    names = [e for e, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert names[1:4] == ["ping", "content_block_start", "content_block_delta"]
    for name, data in events:
        assert json.loads(data)["type"] == name  # the event name matches the payload type
    start = json.loads(events[0][1])["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert set(start["usage"]) >= {
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    }
    delta = json.loads(events[-2][1])
    assert delta["delta"]["stop_reason"] == "end_turn" and delta["usage"]["output_tokens"] == 8
    req = fake_anthropic.last_request
    assert req.query == {"beta": "true"} and req.headers["x-api-key"] == "sk-ant-test"
    assert req.headers["anthropic-version"] == "2023-06-01"


async def test_a_wrong_api_key_raises_authentication_error_with_the_documented_body(
    fake_anthropic: FakeAnthropic,
) -> None:
    async with claude(fake_anthropic, api_key="sk-ant-wrong") as client:
        with pytest.raises(anthropic.AuthenticationError) as err:
            await client.messages.create(model=SONNET, max_tokens=10, messages=USER_HI)
    assert err.value.status_code == 401
    assert error_body(err.value)["type"] == "error"
    assert error_body(err.value)["error"]["type"] == "authentication_error"


def test_a_request_without_credentials_or_version_header_is_refused() -> None:
    body = {"model": SONNET, "max_tokens": 10, "messages": USER_HI}
    with FakeAnthropic() as fake, httpx.Client(timeout=TIMEOUT) as http:
        no_key = http.post(fake.url + "/v1/messages", json=body)
        no_version = http.post(
            fake.url + "/v1/messages", json=body, headers={"x-api-key": "sk-ant-test"}
        )
    assert no_key.status_code == 401
    assert no_key.json()["error"] == {
        "type": "authentication_error",
        "message": "x-api-key header is required",
    }
    assert no_version.status_code == 400
    assert no_version.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("status", "exc", "etype"),
    [
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
    ],
)
async def test_canned_failures_raise_the_sdk_error_class_for_their_status(
    fake_anthropic: FakeAnthropic, status: int, exc: type[anthropic.APIStatusError], etype: str
) -> None:
    fake_anthropic.fail_next(status)
    async with claude(fake_anthropic) as client:
        with pytest.raises(exc) as err:
            await client.messages.create(model=SONNET, max_tokens=10, messages=USER_HI)
        assert err.value.status_code == status
        assert error_body(err.value)["error"]["type"] == etype
        if status == 429:
            assert err.value.response.headers["retry-after"] == "1"
        # the failure was used up: the next call succeeds
        ok = await client.messages.create(model=SONNET, max_tokens=10, messages=USER_HI)
    assert ok.stop_reason in ("end_turn", "max_tokens")
    assert len(fake_anthropic.requests) == 2


async def test_the_sdk_retries_a_rate_limit_and_then_succeeds(
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.retry_after = "0.01"
    fake_anthropic.fail_next(429, times=2)
    async with anthropic.AsyncAnthropic(
        base_url=fake_anthropic.url, api_key="sk-ant-test", max_retries=2, timeout=10.0
    ) as client:
        msg = await client.messages.create(model=SONNET, max_tokens=50, messages=USER_HI)
    assert msg.stop_reason == "end_turn"
    retry_counts = [r.headers["x-stainless-retry-count"] for r in fake_anthropic.requests]
    assert retry_counts == ["0", "1", "2"]


async def test_count_tokens_answers_input_tokens_only(fake_anthropic: FakeAnthropic) -> None:
    async with claude(fake_anthropic) as client:
        counted = await client.messages.count_tokens(model=SONNET, messages=USER_HI)
    assert counted.input_tokens == 6
    assert fake_anthropic.last_request.path == "/v1/messages/count_tokens"


async def test_a_scripted_tool_use_round_trip_records_the_tool_result_sent_back() -> None:
    tools: list[ToolParam] = [
        {
            "name": "mcp__ocp__ocp_context_search",
            "description": "search",
            "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}},
        }
    ]
    script: list[dict[str, Any]] = [
        {"tool_use": {"name": "mcp__ocp__ocp_context_search", "input": {"query": "hello"}}},
        {"text": "Found it."},
    ]
    async with FakeAnthropic(script=script) as fake, claude(fake) as client:
        first: list[MessageParam] = [{"role": "user", "content": "search for hello"}]
        async with client.messages.stream(
            model=SONNET,
            max_tokens=200,
            messages=first,
            tools=tools,
        ) as s:
            turn1 = await s.get_final_message()
        assert turn1.stop_reason == "tool_use"
        tool_use = next(b for b in turn1.content if b.type == "tool_use")
        assert tool_use.name == "mcp__ocp__ocp_context_search"
        assert tool_use.input == {"query": "hello"}
        result: ToolResultBlockParam = {
            "type": "tool_result",
            "tool_use_id": tool_use.id,
            "content": "hit: hello",
        }
        history: list[MessageParam] = [
            *first,
            {"role": "assistant", "content": turn1.content},
            {"role": "user", "content": [result]},
        ]
        async with client.messages.stream(
            model=SONNET,
            max_tokens=200,
            messages=history,
            tools=tools,
        ) as s:
            turn2 = await s.get_final_message()
        assert turn2.stop_reason == "end_turn"
        assert message_text(turn2) == "Found it."
        assert fake.script_remaining == 0
        assert fake.tool_results() == [result]
        assert [r.body["stream"] for r in fake.requests] == [True, True]


async def test_with_thinking_on_the_fakes_own_tool_step_comes_back_and_a_foreign_one_not() -> None:
    # The API writes its own signed thinking block before a tool call when thinking is on; the
    # fake does not, so its own step comes back without one (as Claude Code resends it) and must
    # pass, while a step the fake never made (a local model's, through the proxy) is held to
    # the API's rule.
    script: list[dict[str, Any]] = [
        {"tool_use": {"name": "lookup", "input": {}}},
        {"text": "Done."},
    ]
    tools: list[ToolParam] = [{"name": "lookup", "input_schema": {"type": "object"}}]
    adaptive: dict[str, Any] = {"thinking": {"type": "adaptive"}}
    async with FakeAnthropic(script=script) as fake, claude(fake) as client:
        first: list[MessageParam] = [{"role": "user", "content": "look it up"}]
        turn1 = await client.messages.create(
            model=SONNET, max_tokens=200, messages=first, tools=tools, extra_body=adaptive
        )
        own = next(b for b in turn1.content if b.type == "tool_use")
        for step_id, accepted in ((own.id, True), ("toolu_made_elsewhere", False)):
            history: list[MessageParam] = [
                *first,
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": step_id, "name": "lookup", "input": {}}],
                },
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": step_id, "content": "x"}],
                },
            ]
            if accepted:
                turn2 = await client.messages.create(
                    model=SONNET, max_tokens=200, messages=history, tools=tools, extra_body=adaptive
                )
                assert message_text(turn2) == "Done."
            else:
                with pytest.raises(anthropic.BadRequestError) as err:
                    await client.messages.create(
                        model=SONNET,
                        max_tokens=200,
                        messages=history,
                        tools=tools,
                        extra_body=adaptive,
                    )
                assert "must start with a thinking block" in err.value.message


async def test_a_tool_result_without_a_matching_tool_use_is_a_bad_request(
    fake_anthropic: FakeAnthropic,
) -> None:
    messages: list[MessageParam] = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_x", "content": "?"}],
        },
    ]
    async with claude(fake_anthropic) as client:
        with pytest.raises(anthropic.BadRequestError) as err:
            await client.messages.create(model=SONNET, max_tokens=10, messages=messages)
    assert "tool_use_id" in err.value.message


async def test_sampling_parameters_are_rejected_on_5x_models(fake_anthropic: FakeAnthropic) -> None:
    async with claude(fake_anthropic) as client:
        with pytest.raises(anthropic.BadRequestError):
            await client.messages.create(
                model=SONNET, max_tokens=10, messages=USER_HI, extra_body={"temperature": 0.2}
            )


async def test_max_tokens_cuts_the_answer_and_a_scripted_refusal_is_reported(
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.script = [{"text": "I will not help with that.", "stop_reason": "refusal"}]
    fake_anthropic.reply = "one two three four five six"
    async with claude(fake_anthropic) as client:
        refused = await client.messages.create(model=SONNET, max_tokens=100, messages=USER_HI)
        cut = await client.messages.create(model=SONNET, max_tokens=3, messages=USER_HI)
    assert refused.stop_reason == "refusal"
    assert cut.stop_reason == "max_tokens"
    assert message_text(cut) == "one two three"
    assert cut.usage.output_tokens == 3


async def test_a_cache_breakpoint_writes_once_then_reads(fake_anthropic: FakeAnthropic) -> None:
    system: list[TextBlockParam] = [
        {"type": "text", "text": "stable context " * 50, "cache_control": {"type": "ephemeral"}}
    ]
    async with claude(fake_anthropic) as client:
        first = await client.messages.create(
            model=SONNET,
            max_tokens=50,
            system=system,
            messages=USER_HI,
        )
        second = await client.messages.create(
            model=SONNET,
            max_tokens=50,
            system=system,
            messages=USER_HI,
        )
    assert (first.usage.cache_creation_input_tokens, first.usage.cache_read_input_tokens) == (
        100,
        0,
    )
    assert (second.usage.cache_creation_input_tokens, second.usage.cache_read_input_tokens) == (
        0,
        100,
    )
    assert first.usage.input_tokens == second.usage.input_tokens == 6


async def test_an_error_event_mid_stream_raises_from_the_sdk_stream(
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.reply = "a fairly long answer that will be interrupted"
    fake_anthropic.fail_mid_stream(after=5)  # start, ping, block start, 2 deltas
    received: list[str] = []
    async with claude(fake_anthropic) as client:
        with pytest.raises(anthropic.APIStatusError) as err:
            async with client.messages.stream(model=SONNET, max_tokens=100, messages=USER_HI) as s:
                async for text in s.text_stream:
                    received.append(text)
    assert received == ["a", " fairly"]  # output had started: status stayed 200
    assert error_body(err.value)["error"]["type"] == "overloaded_error"


# ---------------------------------------------------------------------------------------------
# Ollama, through plain httpx
# ---------------------------------------------------------------------------------------------


def test_ollama_root_answers_liveness_for_get_and_head_and_reports_a_version(
    fake_ollama: FakeOllama,
) -> None:
    with httpx.Client(base_url=fake_ollama.url, timeout=TIMEOUT) as http:
        get = http.get("/")
        head = http.head("/")
        version = http.get("/api/version")
        missing = http.get("/api/nope")
    assert (get.status_code, get.text) == (200, "Ollama is running")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len("Ollama is running"))
    assert version.json() == {"version": "0.32.15"}
    assert (missing.status_code, missing.text) == (404, "404 page not found")


def test_ollama_tags_lists_models_with_realistic_fields() -> None:
    with FakeOllama(models=["llama3.2", "qwen3:4b", "nomic-embed-text"]) as fake:
        tags = httpx.get(fake.url + "/api/tags", timeout=TIMEOUT).json()
    names = [m["name"] for m in tags["models"]]
    assert names == ["llama3.2:latest", "qwen3:4b", "nomic-embed-text:latest"]
    qwen = tags["models"][1]
    assert set(qwen) >= {"name", "model", "modified_at", "size", "digest", "details"}
    assert qwen["details"]["family"] == "qwen3" and qwen["details"]["parameter_size"] == "4.0B"
    assert qwen["details"]["format"] == "gguf" and len(qwen["digest"]) == 64


def test_ollama_show_reports_capabilities_and_the_context_length_under_the_architecture_key() -> (
    None
):
    with (
        FakeOllama(
            models=["qwen3:4b"],
            capabilities=["completion", "tools", "thinking"],
            context_length=40960,
        ) as fake,
        httpx.Client(base_url=fake.url, timeout=TIMEOUT) as http,
    ):
        shown = http.post("/api/show", json={"model": "qwen3:4b"})
        unknown = http.post("/api/show", json={"model": "mistral"})
    info = shown.json()
    assert info["capabilities"] == ["completion", "tools", "thinking"]
    arch = info["model_info"]["general.architecture"]
    assert arch == "qwen3" and info["model_info"][f"{arch}.context_length"] == 40960
    assert unknown.status_code == 404 and "mistral" in unknown.json()["error"]


async def test_ollama_chat_streams_ndjson_when_stream_is_omitted(fake_ollama: FakeOllama) -> None:
    body = {"model": "llama3.2", "messages": [{"role": "user", "content": "say hi to me"}]}
    async with httpx.AsyncClient(base_url=fake_ollama.url, timeout=TIMEOUT) as http:
        async with http.stream("POST", "/api/chat", json=body) as r:
            assert r.headers["content-type"] == "application/x-ndjson"
            lines = [json.loads(line) async for line in r.aiter_lines() if line]
    assert all(not line["done"] for line in lines[:-1])
    text = "".join(line["message"]["content"] for line in lines)
    assert text == "local answer: say hi to me"
    assert len(lines) == 7  # six tokens, then the final line
    final = lines[-1]
    assert final["done"] is True and final["done_reason"] == "stop"
    assert final["message"] == {"role": "assistant", "content": ""}
    assert final["prompt_eval_count"] == 4 and final["eval_count"] == 6
    assert final["eval_duration"] == 6 * 10_000_000  # nanoseconds
    assert final["total_duration"] > final["eval_duration"]


def test_ollama_chat_without_streaming_is_one_object_and_omits_zero_load_duration(
    fake_ollama: FakeOllama,
) -> None:
    body = {"model": "llama3.2:latest", "stream": False, "messages": USER_HI}
    with httpx.Client(base_url=fake_ollama.url, timeout=TIMEOUT) as http:
        cold = http.post("/api/chat", json=body).json()
        warm = http.post("/api/chat", json=body).json()
    assert cold["message"] == {
        "role": "assistant",
        "content": "local answer: What is the capital of Norway?",
    }
    assert cold["done"] is True and cold["model"] == "llama3.2:latest"
    assert cold["load_duration"] > 0
    assert "load_duration" not in warm  # Go omitempty: already loaded -> absent, not 0


def test_ollama_counting_only_uncached_prompt_tokens_reads_a_repeat_as_one_token() -> None:
    first = [{"role": "user", "content": "explain this parser error " * 20}]
    longer = first + [{"role": "user", "content": "and this one"}]
    counts = []
    with FakeOllama(counts_cached_prompt=False) as fake:
        with httpx.Client(base_url=fake.url, timeout=TIMEOUT) as http:
            for messages in (first, first, longer):
                body = {"model": "llama3.2", "stream": False, "messages": messages}
                counts.append(http.post("/api/chat", json=body).json()["prompt_eval_count"])
    assert counts[0] > 60 and counts[1] == 1  # the whole prompt, then a cache hit
    assert 1 < counts[2] < 10  # only the new turn


def test_ollama_unknown_model_is_a_404_with_the_pull_hint(fake_ollama: FakeOllama) -> None:
    r = httpx.post(
        fake_ollama.url + "/api/chat",
        json={"model": "x", "messages": USER_HI},
        timeout=TIMEOUT,
    )
    assert r.status_code == 404
    assert r.json() == {"error": 'model "x" not found, try pulling it first'}


def test_ollama_rejects_tools_for_a_model_without_the_tools_capability() -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    with FakeOllama(models=["gemma3:270m"], capabilities=["completion"]) as fake:
        r = httpx.post(
            fake.url + "/api/chat",
            json={"model": "gemma3:270m", "messages": USER_HI, "tools": tools, "stream": False},
            timeout=TIMEOUT,
        )
    assert r.status_code == 400
    assert r.json()["error"].endswith("gemma3:270m does not support tools")


def test_ollama_rejects_content_part_arrays_on_the_native_api(fake_ollama: FakeOllama) -> None:
    messages = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    r = httpx.post(
        fake_ollama.url + "/api/chat",
        json={"model": "llama3.2", "messages": messages, "stream": False},
        timeout=TIMEOUT,
    )
    assert r.status_code == 400 and "cannot unmarshal array" in r.json()["error"]


def test_ollama_structured_output_returns_json_text_matching_the_schema(
    fake_ollama: FakeOllama,
) -> None:
    schema = {
        "type": "object",
        "properties": {
            "complexity": {"type": "string", "enum": ["simple", "complex"]},
            "files": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["complexity"],
    }
    r = httpx.post(
        fake_ollama.url + "/api/chat",
        json={"model": "llama3.2", "messages": USER_HI, "format": schema, "stream": False},
        timeout=TIMEOUT,
    )
    content = r.json()["message"]["content"]
    assert isinstance(content, str)
    parsed = json.loads(content)
    assert parsed["complexity"] in ("simple", "complex") and isinstance(parsed["files"], list)


def test_a_scripted_ollama_reply_sees_the_messages_and_num_predict_truncates(
    fake_ollama: FakeOllama,
) -> None:
    seen: list[list[dict[str, Any]]] = []

    def reply(messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
        seen.append(messages)
        return "alpha beta gamma delta"

    fake_ollama.reply = reply
    body = {"model": "llama3.2", "messages": USER_HI, "stream": False}
    with httpx.Client(base_url=fake_ollama.url, timeout=TIMEOUT) as http:
        full = http.post("/api/chat", json=body).json()
        cut = http.post("/api/chat", json={**body, "options": {"num_predict": 2}}).json()
    assert seen == [USER_HI, USER_HI]
    assert (full["message"]["content"], full["done_reason"]) == ("alpha beta gamma delta", "stop")
    assert (cut["message"]["content"], cut["done_reason"]) == ("alpha beta", "length")
    assert cut["eval_count"] == 2


def test_ollama_streams_thinking_first_and_tool_calls_in_a_non_final_chunk() -> None:
    reply = {"content": "", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]}
    caps = ["completion", "tools", "thinking"]
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    body = {"model": "qwen3:4b", "think": True, "tools": tools, "messages": USER_HI}
    with FakeOllama(models=["qwen3:4b"], reply=reply, capabilities=caps) as fake:
        lines = ndjson(httpx.post(fake.url + "/api/chat", json=body, timeout=TIMEOUT).text)
    thinking = "".join(line["message"].get("thinking", "") for line in lines)
    calls = [c for line in lines for c in line["message"].get("tool_calls", [])]
    assert thinking.startswith("thinking about:")
    assert calls == [
        {"function": {"index": 0, "name": "get_weather", "arguments": {"city": "Oslo"}}}
    ]
    assert "tool_calls" not in lines[-1]["message"] and lines[-1]["done"] is True


def test_an_ollama_failure_after_output_started_is_an_error_line_with_status_200(
    fake_ollama: FakeOllama,
) -> None:
    fake_ollama.fail_mid_stream("an error was encountered while running the model", after=2)
    r = httpx.post(
        fake_ollama.url + "/api/chat",
        json={"model": "llama3.2", "messages": USER_HI},
        timeout=TIMEOUT,
    )
    lines = ndjson(r.text)
    assert r.status_code == 200
    assert [line.get("done") for line in lines] == [False, False, None]
    assert lines[-1] == {"error": "an error was encountered while running the model"}


def test_ollama_generate_uses_response_and_streams_by_default(fake_ollama: FakeOllama) -> None:
    with httpx.Client(base_url=fake_ollama.url, timeout=TIMEOUT) as http:
        streamed = ndjson(
            http.post("/api/generate", json={"model": "llama3.2", "prompt": "hi"}).text
        )
        whole = http.post(
            "/api/generate", json={"model": "llama3.2", "prompt": "hi", "stream": False}
        ).json()
        loaded = http.post("/api/generate", json={"model": "llama3.2"}).json()
    assert "".join(line["response"] for line in streamed) == "local answer: hi"
    assert streamed[-1]["done"] is True and streamed[-1]["response"] == ""
    assert whole["response"] == "local answer: hi" and whole["done_reason"] == "stop"
    assert loaded == {**loaded, "response": "", "done": True, "done_reason": "load"}


def test_ollama_embed_returns_deterministic_vectors_and_rejects_bad_input() -> None:
    with (
        FakeOllama(models=["nomic-embed-text"]) as fake,
        httpx.Client(base_url=fake.url, timeout=TIMEOUT) as http,
    ):
        one = http.post(
            "/api/embed", json={"model": "nomic-embed-text", "input": "def foo(): pass"}
        )
        two = http.post(
            "/api/embed",
            json={"model": "nomic-embed-text", "input": ["def foo(): pass", "class Bar: ..."]},
        )
        bad = http.post("/api/embed", json={"model": "nomic-embed-text", "input": 42})
        chat = http.post("/api/chat", json={"model": "nomic-embed-text", "messages": USER_HI})
    assert len(one.json()["embeddings"]) == 1  # a list of vectors even for one input
    vecs = two.json()["embeddings"]
    assert vecs[0] == one.json()["embeddings"][0] and vecs[0] != vecs[1]
    assert abs(sum(x * x for x in vecs[0]) - 1.0) < 1e-4
    assert two.json()["prompt_eval_count"] == 6  # 3 + 3 whitespace tokens
    assert (bad.status_code, bad.json()) == (400, {"error": "invalid input type"})
    assert chat.status_code == 400 and "does not support chat" in chat.json()["error"]


# ---------------------------------------------------------------------------------------------
# OpenAI-compatible, through plain httpx
# ---------------------------------------------------------------------------------------------


def test_openai_chat_completion_has_choices_usage_and_finish_reason() -> None:
    with (
        FakeOpenAI(models=["gpt-x"]) as fake,
        httpx.Client(base_url=fake.base_url, timeout=TIMEOUT) as http,
    ):
        models = http.get("/models").json()
        r = http.post("/chat/completions", json={"model": "gpt-x", "messages": USER_HI})
        cut = http.post(
            "/chat/completions", json={"model": "gpt-x", "messages": USER_HI, "max_tokens": 2}
        )
        missing = http.post("/chat/completions", json={"model": "gpt-y", "messages": USER_HI})
    assert [m["id"] for m in models["data"]] == ["gpt-x"] and models["object"] == "list"
    body = r.json()
    assert body["object"] == "chat.completion"
    choice = body["choices"][0]
    assert choice["message"]["content"] == "openai answer: What is the capital of Norway?"
    assert choice["finish_reason"] == "stop"
    assert body["usage"] == {
        **body["usage"],
        "prompt_tokens": 6,
        "completion_tokens": 8,
        "total_tokens": 14,
    }
    assert cut.json()["choices"][0]["finish_reason"] == "length"
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "model_not_found"


async def test_openai_streaming_sends_deltas_then_a_usage_chunk_then_done(
    fake_openai: FakeOpenAI,
) -> None:
    body = {
        "model": "anything",
        "messages": USER_HI,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        async with http.stream("POST", fake_openai.base_url + "/chat/completions", json=body) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            datas = [line[6:] async for line in r.aiter_lines() if line.startswith("data: ")]
    assert datas[-1] == "[DONE]"
    chunks = [json.loads(d) for d in datas[:-1]]
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["total_tokens"] == 14
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1])
    assert text == "openai answer: What is the capital of Norway?"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert all(c["usage"] is None for c in chunks[:-1])


def test_openai_tool_call_arguments_are_a_json_string(fake_openai: FakeOpenAI) -> None:
    fake_openai.reply = {"content": None, "tool_calls": [{"name": "f", "arguments": {"a": 1}}]}
    r = httpx.post(
        fake_openai.base_url + "/chat/completions",
        json={"model": "m", "messages": USER_HI},
        timeout=TIMEOUT,
    )
    choice = r.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    call = choice["message"]["tool_calls"][0]
    assert call["type"] == "function" and json.loads(call["function"]["arguments"]) == {"a": 1}


def test_openai_auth_and_canned_errors_use_the_openai_error_shape() -> None:
    with (
        FakeOpenAI(api_key="sk-local") as fake,
        httpx.Client(base_url=fake.base_url, timeout=TIMEOUT) as http,
    ):
        no_auth = http.get("/models")
        wrong = http.get("/models", headers={"Authorization": "Bearer sk-nope-nope-nope"})
        fake.fail_next(429)
        fake.fail_next(500)
        ok_headers = {"Authorization": "Bearer sk-local"}
        limited = http.get("/models", headers=ok_headers)
        broken = http.get("/models", headers=ok_headers)
        fine = http.get("/models", headers=ok_headers)
    for r in (no_auth, wrong):
        assert r.status_code == 401
        assert set(r.json()["error"]) == {"message", "type", "param", "code"}
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert broken.status_code == 500 and broken.json()["error"]["type"] == "server_error"
    assert fine.status_code == 200


# ---------------------------------------------------------------------------------------------
# Shared knobs: latency, faults, recording
# ---------------------------------------------------------------------------------------------


def test_a_client_timeout_fires_against_a_slow_fake() -> None:
    # An answer a minute away: only the client's timeout ends the wait, and the fake sees the
    # client hang up (a timed bound here measured the machine's load, not the fake).
    with FakeOllama(delay=60.0) as fake:
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(fake.url + "/api/tags", timeout=httpx.Timeout(0.3))
        assert fake.hung_up.wait(30) and fake.hangups[0].path == "/api/tags"
        fake.delay = 0.0
        assert httpx.get(fake.url + "/api/tags", timeout=TIMEOUT).status_code == 200


async def test_the_anthropic_sdk_times_out_against_a_slow_fake() -> None:
    async with FakeAnthropic(delay=5.0) as fake, claude(fake, timeout=0.3) as client:
        with pytest.raises(anthropic.APITimeoutError):
            await client.messages.create(model=SONNET, max_tokens=10, messages=USER_HI)


async def test_a_refused_connection_is_a_connect_error_for_every_client(refused_url: str) -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.get(refused_url + "/api/tags", timeout=TIMEOUT)
    async with anthropic.AsyncAnthropic(
        base_url=refused_url, api_key="sk-ant-test", max_retries=0, timeout=5.0
    ) as client:
        with pytest.raises(anthropic.APIConnectionError):
            await client.messages.create(model=SONNET, max_tokens=10, messages=USER_HI)
    assert refused_url.startswith("http://127.0.0.1:") and closed_port() > 0


def test_stream_lines_arrive_one_by_one_not_all_at_the_end() -> None:
    # A minute between two lines: with the first in hand the client leaves, and the fake,
    # still waiting to send the second, sees it go. A stream held to its end would have come
    # whole once the fake had finished, with nobody left to see the client go.
    with FakeOllama(reply="a b c d", stream_delay=60.0) as fake:
        with httpx.stream(
            "POST",
            fake.url + "/api/chat",
            json={"model": "llama3.2", "messages": USER_HI},
            timeout=TIMEOUT,
        ) as r:
            first = json.loads(next(r.iter_lines()))
        assert first["done"] is False
        assert fake.hung_up.wait(30) and fake.hangups[0].path == "/api/chat"


@pytest.mark.parametrize("answer", ["a stream", "a whole body"])
def test_a_client_gone_before_the_fake_answers_is_a_hangup(answer: str) -> None:
    # On a loaded machine the fake may begin its answer after the client has left: its writes
    # fail, and that is the client hanging up too (a test waiting for it waited in vain).
    left = threading.Event()

    class Late(FakeOllama):
        def handle(self, req: Request) -> Response | StreamResponse:
            left.wait(30)
            return super().handle(req)

    with Late(stream_delay=60.0) as fake:
        body = json.dumps(
            {"model": "llama3.2", "messages": USER_HI, "stream": answer != "a whole body"}
        )
        with socket.create_connection(("127.0.0.1", fake.port)) as client:
            client.sendall(
                b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body.encode())
            )
            while not fake.requests:
                time.sleep(0.01)
            # Reset, as a client closing with unread bytes does: the fake's next write fails.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        left.set()
        assert fake.hung_up.wait(30) and [h.path for h in fake.hangups] == ["/api/chat"]


def test_drop_and_malformed_faults_break_the_response_like_a_real_network_would(
    fake_ollama: FakeOllama,
) -> None:
    fake_ollama.drop_next()
    fake_ollama.malformed_next(path="/api/tags")
    with httpx.Client(base_url=fake_ollama.url, timeout=TIMEOUT) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            http.get("/api/version")
        garbled = http.get("/api/tags")
        assert garbled.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            garbled.json()
        assert http.get("/api/tags").json()["models"]


def test_a_dropped_stream_ends_without_the_final_line(fake_ollama: FakeOllama) -> None:
    fake_ollama.drop_mid_stream(after=2)
    got: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        with httpx.stream(
            "POST",
            fake_ollama.url + "/api/chat",
            json={"model": "llama3.2", "messages": USER_HI},
            timeout=TIMEOUT,
        ) as r:
            for line in r.iter_lines():
                got.append(line)
    assert len([line for line in got if line]) <= 2


def test_fail_next_uses_the_vendor_error_body_and_a_path_filter(fake_ollama: FakeOllama) -> None:
    fake_ollama.fail_next(503, times=2, path="/api/chat")
    fake_ollama.fail_next(500, body={"error": "custom"}, headers={"x-extra": "1"})
    with httpx.Client(base_url=fake_ollama.url, timeout=TIMEOUT) as http:
        tags = http.get("/api/tags")  # not /api/chat: skips the first fault, takes the second
        chat1 = http.post("/api/chat", json={"model": "llama3.2", "messages": USER_HI})
        chat2 = http.post("/api/chat", json={"model": "llama3.2", "messages": USER_HI})
        chat3 = http.post("/api/chat", json={"model": "llama3.2", "messages": USER_HI})
    assert (tags.status_code, tags.json(), tags.headers["x-extra"]) == (
        500,
        {"error": "custom"},
        "1",
    )
    assert chat1.status_code == chat2.status_code == 503
    assert "server busy" in chat1.json()["error"]
    assert chat3.status_code == 200


def test_every_request_is_recorded_with_method_path_query_headers_and_body(
    fake_openai: FakeOpenAI,
) -> None:
    with httpx.Client(base_url=fake_openai.url, timeout=TIMEOUT) as http:
        http.get("/v1/models?limit=5", headers={"X-Trace": "abc"})
        http.post("/v1/chat/completions", json={"model": "m", "messages": USER_HI})
        http.post(
            "/v1/chat/completions", content=b"not json", headers={"content-type": "text/plain"}
        )
    first, second, third = fake_openai.requests
    method, path, query, headers, body = first
    assert (method, path, query, body) == ("GET", "/v1/models", {"limit": "5"}, None)
    assert headers["x-trace"] == "abc"
    assert second.body == {"model": "m", "messages": USER_HI}
    assert third.body == "not json"
    assert fake_openai.requests_to("/v1/chat/completions", "POST") == [second, third]
    assert fake_openai.errors == []


def test_a_slow_fake_records_a_client_that_hangs_up_and_not_one_that_waits() -> None:
    body = json.dumps({"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]})
    request = (
        f"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()
    with FakeOllama(delay=30.0) as fake:
        waiting = socket.create_connection(("127.0.0.1", fake.port), timeout=5)
        leaving = socket.create_connection(("127.0.0.1", fake.port), timeout=5)
        try:
            waiting.sendall(request)
            leaving.sendall(request)
            while len(fake.requests) < 2:
                time.sleep(0.01)
            leaving.close()
            assert fake.hung_up.wait(5)
            # Only the client that left: the one still waiting is not mistaken for it.
            assert [h.path for h in fake.hangups] == ["/api/chat"]
        finally:
            waiting.close()
