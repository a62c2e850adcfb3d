"""The Anthropic fake behaves like the real API, as seen by the official ``anthropic`` SDK:
messages, streams, errors, retries, tools, thinking and caching.

No test sleeps: only the fake's own ``delay`` / ``stream_delay`` knobs create latency, and every
client call has a bounded timeout."""

from __future__ import annotations

import json
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

from tests.fake_wire import SONNET, TIMEOUT, USER_HI, claude
from tests.fakes import FakeAnthropic
from tests.results import error_body, message_text


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
