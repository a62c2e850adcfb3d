"""The OpenAI-compatible fake behaves like the real API, as seen by plain ``httpx``: completions,
streamed deltas and usage, tool call arguments, auth and canned errors.

No test sleeps, and every client call has a bounded timeout."""

from __future__ import annotations

import json

import httpx

from tests.fake_wire import TIMEOUT, USER_HI
from tests.fakes import FakeOpenAI


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
