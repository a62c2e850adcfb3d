"""An Anthropic API (or a proxy at ANTHROPIC_BASE_URL) whose answer never ends, or is huge:
the SDK's client reads a whole body up to the local backends' cap, a stream's line up to it,
then a BackendResponseError naming the cap, which the route escalates; nothing waits for the
timeout."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from ocp_router import BackendResponseError, GenerateRequest
from ocp_router.backends.anthropic import AnthropicBackend
from ocp_router.backends.anthropic_sdk import capped_http_client
from tests.fakes import FakeAnthropic

_PIECE = b"x" * 65536
_LONGER_THAN_THE_CAP = (_PIECE,) * (16 * 9)  # 9 MiB, then the fake stalls
# Far longer than the test takes with a cap: without one, the read waits this out.
_TIMEOUT = 10.0


def _backend(fake: FakeAnthropic) -> AnthropicBackend:
    return AnthropicBackend(
        "claude-sonnet-4-6", api_key="sk-ant-test", base_url=fake.url, timeout=_TIMEOUT
    )


async def test_an_endless_anthropic_answer_is_cut_at_the_cap(
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.hold_next(
        (b'{"type": "message", "content": [{"type": "text", "text": "', *_LONGER_THAN_THE_CAP),
        "application/json",
        path="/v1/messages",
    )
    async with _backend(fake_anthropic) as backend:
        with pytest.raises(BackendResponseError) as caught:
            await backend.generate(GenerateRequest(prompt="hi"))
    message = str(caught.value)
    assert "anthropic sent a response body longer than 8,388,608 bytes" in message
    assert "base_url" in message  # what to check
    assert caught.value.status_code == 200


async def test_an_endless_anthropic_error_body_is_cut_at_the_cap(
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.hold_next(
        (b'{"type": "error", "error": {"message": "', *_LONGER_THAN_THE_CAP),
        "application/json",
        path="/v1/messages",
        status=500,
    )
    async with _backend(fake_anthropic) as backend:
        with pytest.raises(BackendResponseError, match="longer than 8,388,608 bytes") as caught:
            await backend.generate(GenerateRequest(prompt="hi"))
    assert caught.value.status_code == 500


async def test_an_endless_stream_line_is_cut_at_the_cap(fake_anthropic: FakeAnthropic) -> None:
    # The backend answers whole messages; its client is what a stream would be read with.
    fake_anthropic.hold_next(
        (b"event: content_block_delta\ndata: ", *_LONGER_THAN_THE_CAP),
        "text/event-stream",
        path="/v1/messages",
    )
    async with _backend(fake_anthropic) as backend:
        stream = await backend._client.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=10,
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
        )
        with pytest.raises(BackendResponseError, match="line longer than 8,388,608 bytes"):
            async for _ in stream:
                pass


async def test_the_cap_is_on_a_stream_line_not_on_the_stream(
    fake_anthropic: FakeAnthropic,
) -> None:
    # A small cap stands for the real one: a stream longer than it, in short lines, is read
    # whole; the same answer unstreamed is one body, longer than the cap.
    fake_anthropic.reply = "lorem " * 2000  # 12 kB
    limit = 4096
    async with anthropic.AsyncAnthropic(
        api_key="sk-ant-test",
        base_url=fake_anthropic.url,
        max_retries=0,
        http_client=capped_http_client("check the fake.", limit=limit),
    ) as client:
        request: dict[str, Any] = {
            "model": "claude-sonnet-4-6",
            "max_tokens": 10_000,
            "messages": [{"role": "user", "content": "hi"}],
        }
        stream = await client.messages.create(**request, stream=True)
        text = "".join([e.delta.text async for e in stream if e.type == "content_block_delta"])
        assert text == fake_anthropic.reply
        with pytest.raises(BackendResponseError) as caught:
            await client.messages.create(**request)
    assert f"a response body longer than {limit:,} bytes" in str(caught.value)
    # An AnthropicError, which the SDK neither wraps as a connection error nor retries.
    assert isinstance(caught.value, anthropic.AnthropicError)
