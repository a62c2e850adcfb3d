"""The `openai` SDK through the proxy: simple requests answered locally, hard ones relayed to the
OpenAI upstream, and paid streams costed whether or not they asked for usage."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import HARD, SIMPLE
from tests.proxy.recorded import recorded_rows
from tests.proxy.sdk_clients import (
    close_clients,  # noqa: F401 - autouse, closes the SDK clients a test opened
    openai_client,
)


def test_openai_sdk_simple_requests_are_answered_locally_streaming_and_not(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    proxy = start_proxy(proxy_env)
    client = openai_client(proxy)
    completion = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": SIMPLE}]
    )
    assert completion.model == "gpt-4o"  # the model asked for (served_model.py)
    assert completion.choices[0].message.content == f"local answer: {SIMPLE}"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": SIMPLE}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == f"local answer: {SIMPLE}"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert fake_openai.requests == []


def test_openai_sdk_hard_requests_are_relayed_to_the_openai_upstream(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
    fake_ollama: FakeOllama,
) -> None:
    fake_openai.api_key = "sk-openai"
    proxy = start_proxy(proxy_env)
    client = openai_client(proxy)
    completion = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": HARD}], temperature=0.2
    )
    content = completion.choices[0].message.content
    assert content is not None and content.startswith("openai answer: ")
    sent = fake_openai.requests_to("/v1/chat/completions")[0]
    assert sent.body == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": HARD}],
        "temperature": 0.2,
    }
    assert sent.headers["authorization"] == "Bearer sk-openai"
    stream = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": HARD}], stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text.startswith("openai answer: ")
    assert fake_ollama.requests_to("/api/chat") == []


def test_a_paid_openai_stream_that_asked_for_no_usage_is_still_costed(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    # The SDK's default: no stream_options. OpenAI then streams no usage at all, and the
    # trace said 0 tokens and $0 for a paid answer (a daily budget never counted it).
    proxy = start_proxy(proxy_env)
    chunks = list(
        openai_client(proxy).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": HARD}], stream=True
        )
    )
    # The client gets the stream it asked for: no usage chunk, whose empty `choices` a
    # client indexing choices[0] would trip on.
    assert chunks and all(c.choices for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks).startswith("openai answer")
    sent = fake_openai.requests_to("/v1/chat/completions")[0].body
    assert sent["stream_options"] == {"include_usage": True}
    row = proxy.call(recorded_rows)[0]
    assert row["input_tokens"] > 0 and row["output_tokens"] > 0
    assert row["cost_usd"] > 0 and not row["cost_estimated"]


def test_a_paid_openai_stream_that_asked_for_usage_gets_it(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    proxy = start_proxy(proxy_env)
    chunks = list(
        openai_client(proxy).chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": HARD}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    row = proxy.call(recorded_rows)[0]
    assert row["output_tokens"] == chunks[-1].usage.completion_tokens > 0


def test_a_paid_openai_upstream_that_refuses_stream_options_is_asked_again_without(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    # Older Azure API versions and some servers refuse the stream_options the proxy adds:
    # every paid stream the client had asked nothing unusual of failed with their 400.
    refusal = {
        "error": {
            "message": "Unrecognized request argument supplied: stream_options",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    fake_openai.fail_next(400, refusal, path="/v1/chat/completions")
    proxy = start_proxy(proxy_env)
    for _ in range(2):
        chunks = list(
            openai_client(proxy).chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": HARD}], stream=True
            )
        )
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text.startswith("openai answer"), text
    sent = [r.body for r in fake_openai.requests_to("/v1/chat/completions")]
    # asked once with it; again without, and the next request (the upstream remembered) too
    assert ["stream_options" in b for b in sent] == [True, False, False]
    # traced once the stream has ended, after the input's count (in a worker thread)
    deadline = time.monotonic() + 20
    while len(rows := proxy.call(recorded_rows)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [r["status"] for r in rows] == [200, 200]
    assert rows[1]["notes"] == [
        "the upstream refused stream_options: asked again without, usage estimated"
    ]
    assert all(r["input_tokens"] > 0 and r["cost_usd"] > 0 and r["cost_estimated"] for r in rows)
    # The refused ask is an attempt of its own (unbilled: the upstream refused it), then the
    # one that answered; the next request, asked without at once, made one.
    refused, answered = rows[1]["attempts"]
    assert (refused["outcome"], refused["error_type"], refused["cost_usd"]) == (
        "error",
        "HTTP 400",
        0.0,
    )
    assert "stream_options" in refused["error"]
    assert answered["outcome"] == "ok" and rows[1]["escalations"] == 1
    assert [a["outcome"] for a in rows[0]["attempts"]] == ["ok"]
