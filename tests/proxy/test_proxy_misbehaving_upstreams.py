"""Upstreams that answer, but not as they should, against the real proxy: a line that never
ends (paid or local), a local model that keeps trickling past OCP_LOCAL_TIMEOUT, and local
tool calls of the wrong shape. Each ends in the client's own dialect: a clean error event
mid-stream, else the paid tier answers (as for any local failure before the first byte)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import (
    ANTHROPIC_HEADERS,
    NDJSON,
    SDK_CHAT,
    SDK_MESSAGE,
    SIMPLE,
    SSE,
    TOOLS,
    messages_body,
    sdk_message,
    sse_events,
)
from tests.proxy.recorded import last_row

# A line longer than any an honest upstream sends (the proxy's cap is well below it), sent in
# pieces the size a socket read returns.
_PIECE = b"x" * 65536
_ENDLESS = (_PIECE,) * (24 * 16)  # 24 MiB, no newline


def _anthropic_event(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode()


def test_a_paid_anthropic_line_that_never_ends_is_cut_off_with_a_clean_error_event(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-opus-5-5",
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": 5, "output_tokens": 1},
        },
    }
    head = _anthropic_event("message_start", start) + b"event: content_block_delta\ndata: {"
    fake_anthropic.raw_stream_next((head, *_ENDLESS), SSE, path="/v1/messages")
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        response = http.post(
            "/v1/messages", json=messages_body(stream=True), headers=ANTHROPIC_HEADERS
        )
    assert response.status_code == 200
    assert len(response.content) < 10_000  # the broken line never reached the client
    events = sse_events(response.text)
    assert [name for name, _ in events] == ["message_start", "error"]
    error = json.loads(events[-1][1])["error"]
    assert error["type"] == "api_error"
    assert "longer than" in error["message"]
    row = proxy.call(last_row)
    assert "longer than" in row["error"] and row["answered_tier"] is None


def test_a_paid_openai_line_that_never_ends_is_an_error_the_sdk_raises(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    first = {"id": "c1", "object": "chat.completion.chunk", "choices": []}
    head = f"data: {json.dumps(first)}\n\n".encode() + b'data: {"id": "c1", "choices": [{"'
    fake_openai.raw_stream_next((head, *_ENDLESS), SSE, path="/v1/chat/completions")
    proxy = start_proxy(proxy_env)
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key="sk-openai", max_retries=0)
    with client, pytest.raises(openai.APIError, match="longer than"):
        chat = client.chat.completions.create(
            model=SDK_CHAT["model"], messages=SDK_CHAT["messages"], stream=True
        )
        for _ in chat:
            pass
    assert "longer than" in proxy.call(last_row)["error"]


def _ollama_line(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj) + "\n").encode()


_HELLO = _ollama_line({"message": {"role": "assistant", "content": "Hello"}, "done": False})


def test_a_local_line_that_never_ends_ends_the_stream_with_an_error_after_the_first_byte(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_ollama.raw_stream_next((_HELLO, *_ENDLESS), NDJSON, path="/api/chat")
    proxy = start_proxy(proxy_env)
    client = anthropic.Anthropic(base_url=proxy.url, api_key="sk-ant-test", max_retries=0)
    seen: list[str] = []
    with client, pytest.raises(anthropic.APIStatusError, match="longer than"):
        with client.messages.stream(
            model=SDK_MESSAGE["model"],
            max_tokens=100,
            messages=[{"role": "user", "content": SIMPLE}],
        ) as stream:
            seen.extend(stream.text_stream)
    assert seen == ["Hello"]
    assert fake_anthropic.requests_to("/v1/messages") == []  # too late to escalate
    assert "longer than" in proxy.call(last_row)["error"]


def _local_error_before_the_paid_answer(proxy: RunningProxy) -> str:
    """A simple request sent: it must be answered by the paid model after one failed local
    attempt, whose error this is."""
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        response = http.post(
            "/v1/messages", json=messages_body(text=SIMPLE), headers=ANTHROPIC_HEADERS
        )
    assert response.status_code == 200, response.text
    assert response.json()["content"][0]["text"].startswith("claude answer")
    row = proxy.call(last_row)
    assert [a["outcome"] for a in row["attempts"]] == ["error", "ok"]
    error: str = row["attempts"][0]["error"]
    return error


@pytest.mark.parametrize("kind", ["ollama", "openai"])
def test_a_local_line_that_never_ends_before_the_answer_escalates(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_openai: FakeOpenAI,
    kind: str,
) -> None:
    env = proxy_env
    if kind == "ollama":
        fake_ollama.raw_stream_next((_HELLO, *_ENDLESS), NDJSON, path="/api/chat")
    else:
        env = proxy_env | {
            "OCP_LOCAL_BACKEND": "openai",
            "OCP_LOCAL_BASE_URL": fake_openai.base_url,
        }
        fake_openai.raw_stream_next((b"data: {", *_ENDLESS), SSE, path="/v1/chat/completions")
    proxy = start_proxy(env)
    assert "longer than" in _local_error_before_the_paid_answer(proxy)


@pytest.mark.parametrize("stream", [False, True])
def test_a_local_model_still_trickling_at_ocp_local_timeout_is_stopped(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    stream: bool,
) -> None:
    # Every token comes well within the per-read timeout, but the whole answer would take
    # 10 s; OCP_LOCAL_TIMEOUT bounds the whole answer. Without a first byte sent the paid
    # tier answers; after it, the stream ends with an error naming the knob.
    fake_ollama.reply = "word " * 40
    fake_ollama.stream_delay = 0.25
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TIMEOUT": "2"})
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        response = http.post(
            "/v1/messages",
            json=messages_body(text=SIMPLE, stream=stream),
            headers=ANTHROPIC_HEADERS,
        )
    assert response.status_code == 200
    row = proxy.call(last_row)
    if stream:
        name, data = sse_events(response.text)[-1]
        assert name == "error"
        assert json.loads(data)["error"]["type"] == "timeout_error"
        assert "OCP_LOCAL_TIMEOUT" in json.loads(data)["error"]["message"]
        assert "OCP_LOCAL_TIMEOUT" in row["error"]
    else:
        assert response.json()["content"][0]["text"].startswith("claude answer")
        assert [a["outcome"] for a in row["attempts"]] == ["error", "ok"]
        assert "OCP_LOCAL_TIMEOUT" in row["attempts"][0]["error"]


# ---- a body read whole: a local error (a long paid body: test_proxy_long_answers.py) -------


def test_a_local_error_body_larger_than_the_cap_is_a_local_failure_and_escalates(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    fake_ollama.raw_stream_next(_ENDLESS, "text/plain", path="/api/chat", status=500)
    proxy = start_proxy(proxy_env)
    error = _local_error_before_the_paid_answer(proxy)
    assert "HTTP 500" in error
    assert "larger than" in error


# ---- local tool calls of the wrong shape ------------------------------------------------------

ESCALATES = None  # the expected outcome: the local answer is refused, the paid tier answers
READ_A = ("read_file", {"path": "a.py"})


def _openai_chunk(delta: Any, **extra: Any) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": None}
    return {"id": "c1", "object": "chat.completion.chunk", "choices": [choice]} | extra


def _call(function: Any, **extra: Any) -> dict[str, Any]:
    return {"index": 0, "id": "call_1", "type": "function", "function": function} | extra


OPENAI_CASES: dict[str, tuple[dict[str, Any], tuple[str, dict[str, Any]] | None]] = {
    "tool_calls-an-object": (
        _openai_chunk({"tool_calls": _call({"name": "read_file", "arguments": "{}"})}),
        ESCALATES,
    ),
    "tool_calls-a-string": (_openai_chunk({"tool_calls": "read_file"}), ESCALATES),
    "a-call-a-string": (_openai_chunk({"tool_calls": ["read_file"]}), ESCALATES),
    "no-function": (
        _openai_chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function"}]}),
        ESCALATES,
    ),
    "function-a-string": (_openai_chunk({"tool_calls": [_call("read_file")]}), ESCALATES),
    "name-a-number": (
        _openai_chunk({"tool_calls": [_call({"name": 7, "arguments": "{}"})]}),
        ESCALATES,
    ),
    "index-a-word": (
        _openai_chunk(
            {"tool_calls": [_call({"name": "read_file", "arguments": "{}"}, index="first")]}
        ),
        ESCALATES,
    ),
    "arguments-a-number": (
        _openai_chunk({"tool_calls": [_call({"name": "read_file", "arguments": 5})]}),
        ESCALATES,
    ),
    "arguments-not-json": (
        _openai_chunk({"tool_calls": [_call({"name": "read_file", "arguments": '{"path": '})]}),
        ESCALATES,
    ),
    # Python's json reads NaN and Infinity; JSON has neither, so no client could parse them.
    "arguments-nan": (
        _openai_chunk({"tool_calls": [_call({"name": "read_file", "arguments": '{"n": NaN}'})]}),
        ESCALATES,
    ),
    "arguments-an-object-with-infinity": (
        _openai_chunk(
            {"tool_calls": [_call({"name": "read_file", "arguments": {"n": float("inf")}})]}
        ),
        ESCALATES,
    ),
    "arguments-a-json-list": (
        _openai_chunk({"tool_calls": [_call({"name": "read_file", "arguments": "[1, 2]"})]}),
        ESCALATES,
    ),
    "choices-an-object": (
        {"id": "c1", "choices": {"index": 0, "delta": {"content": "hi"}}},
        ESCALATES,
    ),
    "delta-a-string": (
        {"id": "c1", "choices": [{"index": 0, "delta": "hi", "finish_reason": None}]},
        ESCALATES,
    ),
    # An object where a JSON string belongs says the same thing: taken as it is.
    "arguments-an-object": (
        _openai_chunk({"tool_calls": [_call({"name": "read_file", "arguments": READ_A[1]})]}),
        READ_A,
    ),
    # Usage is read for accounting only: an odd figure costs the client nothing.
    "odd-usage": (
        _openai_chunk(
            {"tool_calls": [_call({"name": "read_file", "arguments": json.dumps(READ_A[1])})]},
            usage={"prompt_tokens": "lots", "completion_tokens": [1]},
        ),
        READ_A,
    ),
}


def _ollama_message(tool_calls: Any = None, **extra: Any) -> dict[str, Any]:
    message = {"role": "assistant", "content": "", "tool_calls": tool_calls}
    return {"message": message, "done": False} | extra


OLLAMA_CASES: dict[str, tuple[dict[str, Any], tuple[str, dict[str, Any]] | None]] = {
    "tool_calls-an-object": (
        _ollama_message({"function": {"name": "read_file", "arguments": {}}}),
        ESCALATES,
    ),
    "a-call-a-string": (_ollama_message(["read_file"]), ESCALATES),
    "function-a-string": (_ollama_message([{"function": "read_file"}]), ESCALATES),
    "no-name": (_ollama_message([{"function": {"arguments": {}}}]), ESCALATES),
    "arguments-a-list": (
        _ollama_message([{"function": {"name": "read_file", "arguments": [1]}}]),
        ESCALATES,
    ),
    "message-a-string": ({"message": "read_file", "done": False}, ESCALATES),
    "arguments-nan": (
        _ollama_message([{"function": {"name": "read_file", "arguments": {"n": float("nan")}}}]),
        ESCALATES,
    ),
    "arguments-a-json-string-with-infinity": (
        _ollama_message([{"function": {"name": "read_file", "arguments": '{"n": -Infinity}'}}]),
        ESCALATES,
    ),
    # A JSON string where an object belongs (OpenAI's habit) says the same thing.
    "arguments-a-json-string": (
        _ollama_message([{"function": {"name": "read_file", "arguments": '{"path": "a.py"}'}}]),
        READ_A,
    ),
    # The last line may carry the call too; its usage is read for accounting only.
    "odd-usage": (
        _ollama_message(
            [{"function": {"name": "read_file", "arguments": READ_A[1]}}],
            done=True,
            prompt_eval_count="lots",
            eval_count=[1],
        ),
        READ_A,
    ),
}


def _openai_stream(chunk: dict[str, Any]) -> list[bytes]:
    finish = {"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}
    return [f"data: {json.dumps(c)}\n\n".encode() for c in (chunk, finish)] + [b"data: [DONE]\n\n"]


def _ollama_stream(line: dict[str, Any]) -> list[bytes]:
    if line.get("done"):
        return [_ollama_line(line)]
    done = {"message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop"}
    return [_ollama_line(line), _ollama_line(done | {"prompt_eval_count": 3, "eval_count": 2})]


@pytest.mark.parametrize(
    ("kind", "case"),
    [("openai", c) for c in OPENAI_CASES] + [("ollama", c) for c in OLLAMA_CASES],
)
@pytest.mark.parametrize("stream", [False, True])
def test_a_local_tool_call_of_the_wrong_shape_is_a_local_failure_not_a_500(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_openai: FakeOpenAI,
    kind: str,
    case: str,
    stream: bool,
) -> None:
    env = proxy_env | {"OCP_LOCAL_TOOLS": "1"}
    if kind == "openai":
        env |= {"OCP_LOCAL_BACKEND": "openai", "OCP_LOCAL_BASE_URL": fake_openai.base_url}
        chunk, expected = OPENAI_CASES[case]
        fake_openai.raw_stream_next(_openai_stream(chunk), SSE, path="/v1/chat/completions")
    else:
        line, expected = OLLAMA_CASES[case]
        fake_ollama.raw_stream_next(_ollama_stream(line), NDJSON, path="/api/chat")
    proxy = start_proxy(env, store=False)
    request = messages_body("claude-haiku-5-5", SIMPLE, tools=TOOLS)
    message = sdk_message(proxy, stream, **request)[0]
    row = proxy.call(last_row)
    if expected is ESCALATES:
        assert row["answered_tier"] == "mid"
        assert [a["outcome"] for a in row["attempts"]] == ["error", "ok"]
        assert row["attempts"][0]["error"]
    else:
        assert row["answered_tier"] == "local"
        calls = [(b.name, b.input) for b in message.content if b.type == "tool_use"]
        assert calls == [expected]
