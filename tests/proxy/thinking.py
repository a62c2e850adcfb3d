"""What the tests of a local model's thinking share (test_proxy_reasoning, _thinking,
_think_tags, _effort): the thinking asked for, a local OpenAI-compatible server, a request
posted as its client would, and the thinking read back from an answer in either dialect."""

from __future__ import annotations

import json
from typing import Any

import httpx
from anthropic.types import Message

from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import (
    messages_body,
    sdk_message,
    sse_events,
)

ADAPTIVE = {"type": "adaptive"}
THOUGHT = "221 = 13 * 17, so it is not prime"


def openai_local(proxy_env: dict[str, str], fake: FakeOpenAI) -> dict[str, str]:
    """A local llama.cpp or vLLM: an OpenAI-compatible server."""
    return proxy_env | {"OCP_LOCAL_BACKEND": "openai", "OCP_LOCAL_BASE_URL": fake.base_url}


def sdk_message_with_thinking(proxy: RunningProxy, text: str, stream: bool) -> Message:
    """The Anthropic SDK's answer to `text` asked with adaptive thinking, streamed or not."""
    return sdk_message(proxy, stream, **messages_body(text=text, thinking=ADAPTIVE))[0]


def openai_reasoning(answered: httpx.Response, stream: bool) -> tuple[Any, str, Any]:
    """An OpenAI chat answer's reasoning, text and usage, whole (reasoning None when it has
    none) or streamed (its deltas joined; the usage its last chunk carries, None unless
    `stream_options.include_usage` asked for it)."""
    if not stream:
        message = answered.json()["choices"][0]["message"]
        return message.get("reasoning"), message["content"], answered.json()["usage"]
    chunks = [json.loads(data) for _, data in sse_events(answered.text) if data != "[DONE]"]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    reasoning = "".join(d.get("reasoning") or "" for d in deltas)
    text = "".join(d.get("content") or "" for d in deltas)
    return reasoning, text, chunks[-1].get("usage")
