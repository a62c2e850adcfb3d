"""A local answer's usage in the Anthropic dialect, as the API counts it: `input_tokens` is the
uncached input, beside `cache_read_input_tokens` (reference anthropic-openai.md A4)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import SIMPLE, messages_body, sdk_message


@pytest.mark.parametrize("stream", [False, True])
def test_a_local_servers_cached_prompt_tokens_are_anthropics_cache_reads(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
    stream: bool,
) -> None:
    # A local OpenAI-compatible server (vLLM, llama.cpp) that served 7 prompt tokens from its
    # cache: an Anthropic client was told all the prompt was uncached input and 0 cache reads,
    # where the OpenAI dialect said 7 cached.
    figures = {
        "prompt_tokens": 20,
        "prompt_tokens_details": {"cached_tokens": 7},
        "completion_tokens_details": {"reasoning_tokens": 3},
    }
    fake_openai.reply = {"content": "a local answer", "usage": figures}
    local = {"OCP_LOCAL_BACKEND": "openai", "OCP_LOCAL_BASE_URL": fake_openai.base_url}
    proxy = start_proxy(proxy_env | local)
    usage = sdk_message(proxy, stream, **messages_body(text=SIMPLE))[0].usage
    assert usage.cache_read_input_tokens == 7
    assert usage.input_tokens == 13  # 20 read, 7 of them from the cache
    assert usage.output_tokens_details is not None
    assert usage.output_tokens_details.thinking_tokens == 3
    assert fake_openai.requests_to("/v1/chat/completions")  # answered locally
