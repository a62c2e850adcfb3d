"""A body compressed on the wire is capped by its decoded size: a gzip body of a few kB can
decode to gigabytes. Every backend asks for `identity`; a server that compresses anyway is
decoded a piece at a time and stopped at the cap, and a capped Anthropic answer is not read
again by the SDK's retries."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import AsyncIterator

import pytest

from ocp_router import BackendResponseError, GenerateRequest, OllamaBackend, OpenAIBackend
from ocp_router.backends._http import inflated
from ocp_router.backends.anthropic import AnthropicBackend
from tests.fakes import FakeAnthropic, FakeOllama, FakeOpenAI

_CAP = 8 * 1024 * 1024
_TEXT_OVER_THE_CAP = "x" * (_CAP + 1024)
_TIMEOUT = 10.0


def _pieces(data: bytes, size: int = 4096) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def _anthropic_message(text: str) -> bytes:
    return json.dumps(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-6",
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 3, "output_tokens": 5},
        }
    ).encode()


def _anthropic(fake: FakeAnthropic, max_retries: int = 0) -> AnthropicBackend:
    return AnthropicBackend(
        "claude-sonnet-4-6",
        api_key="sk-ant-test",
        base_url=fake.url,
        timeout=_TIMEOUT,
        max_retries=max_retries,
    )


async def test_anthropic_asks_for_an_uncompressed_answer(fake_anthropic: FakeAnthropic) -> None:
    async with _anthropic(fake_anthropic) as backend:
        await backend.generate(GenerateRequest(prompt="hi"))
    assert fake_anthropic.requests[-1].headers["accept-encoding"] == "identity"


async def test_a_gzip_anthropic_answer_is_capped_by_its_decoded_size(
    fake_anthropic: FakeAnthropic,
) -> None:
    packed = gzip.compress(_anthropic_message(_TEXT_OVER_THE_CAP))
    assert len(packed) < _CAP // 100  # the wire bytes alone are far under the cap
    fake_anthropic.raw_stream_next(
        _pieces(packed),
        "application/json",
        path="/v1/messages",
        headers={"content-encoding": "gzip"},
    )
    async with _anthropic(fake_anthropic) as backend:
        with pytest.raises(BackendResponseError, match="longer than 8,388,608 bytes"):
            await backend.generate(GenerateRequest(prompt="hi"))


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_compressed_anthropic_answer_under_the_cap_is_read(
    fake_anthropic: FakeAnthropic, encoding: str
) -> None:
    body = _anthropic_message("hello " * 50_000)  # 300 kB: decoded in many pieces
    packed = gzip.compress(body) if encoding == "gzip" else zlib.compress(body)
    fake_anthropic.raw_stream_next(
        _pieces(packed, 100),
        "application/json",
        path="/v1/messages",
        headers={"content-encoding": encoding},
    )
    async with _anthropic(fake_anthropic) as backend:
        answer = await backend.generate(GenerateRequest(prompt="hi"))
    assert answer.text == "hello " * 50_000


async def test_an_anthropic_answer_in_an_unread_encoding_is_refused(
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.raw_stream_next(
        [b"\x1b\x00\x00\x00"],
        "application/json",
        path="/v1/messages",
        headers={"content-encoding": "br"},
    )
    async with _anthropic(fake_anthropic) as backend:
        with pytest.raises(BackendResponseError, match=r"content-encoding .*\(br\)"):
            await backend.generate(GenerateRequest(prompt="hi"))


async def test_a_capped_anthropic_answer_is_not_retried(fake_anthropic: FakeAnthropic) -> None:
    # The SDK retries a failed read; past the cap the answer is no honest one, and reading
    # it again is 8 MiB more each time (and the request billed again).
    fake_anthropic.hold_next(
        (b'{"type": "message", "content": [{"type": "text", "text": "', b"x" * (_CAP + 1)),
        "application/json",
        path="/v1/messages",
    )
    async with _anthropic(fake_anthropic, max_retries=2) as backend:
        with pytest.raises(BackendResponseError, match="longer than 8,388,608 bytes"):
            await backend.generate(GenerateRequest(prompt="hi"))
    assert [r.path for r in fake_anthropic.requests] == ["/v1/messages"]


async def test_the_local_backends_ask_for_uncompressed_answers(
    fake_ollama: FakeOllama, fake_openai: FakeOpenAI
) -> None:
    async with OllamaBackend("llama3.2", base_url=fake_ollama.url) as ollama:
        await ollama.generate(GenerateRequest(prompt="hi"))
    async with OpenAIBackend("m", base_url=fake_openai.base_url) as openai:
        await openai.generate(GenerateRequest(prompt="hi"))
    assert fake_ollama.requests[-1].headers["accept-encoding"] == "identity"
    assert fake_openai.requests[-1].headers["accept-encoding"] == "identity"


def _ollama_line(text: str, *, done: bool) -> bytes:
    line = {"model": "llama3.2", "message": {"role": "assistant", "content": text}, "done": done}
    if done:
        line |= {"done_reason": "stop", "prompt_eval_count": 1, "eval_count": 1}
    return json.dumps(line).encode() + b"\n"


async def test_a_long_ollama_line_inside_one_decoded_chunk_is_caught(
    fake_ollama: FakeOllama,
) -> None:
    # One gzip chunk on the wire decodes to a whole line past the cap, newline and all: the
    # cap was checked only on the unfinished line left at the end of a chunk.
    packed = gzip.compress(_ollama_line(_TEXT_OVER_THE_CAP, done=True))
    fake_ollama.raw_stream_next(
        [packed], "application/x-ndjson", path="/api/chat", headers={"content-encoding": "gzip"}
    )
    async with OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=_TIMEOUT) as backend:
        with pytest.raises(BackendResponseError, match="line longer than 8,388,608 bytes"):
            await backend.generate(GenerateRequest(prompt="hi"))


async def test_a_gzip_openai_compatible_answer_is_capped_by_its_decoded_size(
    fake_openai: FakeOpenAI,
) -> None:
    body = json.dumps({"choices": [{"message": {"content": _TEXT_OVER_THE_CAP}}]}).encode()
    fake_openai.raw_stream_next(
        [gzip.compress(body)],
        "application/json",
        path="/v1/chat/completions",
        headers={"content-encoding": "gzip"},
    )
    async with OpenAIBackend("m", base_url=fake_openai.base_url, timeout=_TIMEOUT) as backend:
        with pytest.raises(BackendResponseError, match="longer than 8,388,608 bytes"):
            await backend.generate(GenerateRequest(prompt="hi"))


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw deflate"])
async def test_a_compressed_body_is_decoded_a_piece_at_a_time(coding: str) -> None:
    body = b"\0" * 10_000_000 + b"end"
    if coding == "gzip":
        packed = gzip.compress(body)
    elif coding == "deflate":
        packed = zlib.compress(body)
    else:  # deflate as some servers send it: without the zlib header
        squeeze = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        packed = squeeze.compress(body) + squeeze.flush()

    async def one_byte_at_a_time() -> AsyncIterator[bytes]:
        for i in range(len(packed)):
            yield packed[i : i + 1]

    async def at_once() -> AsyncIterator[bytes]:
        yield packed  # 10 kB that decode to 10 MB

    for raw in (one_byte_at_a_time(), at_once()):
        pieces = [p async for p in inflated(raw, coding.removeprefix("raw "))]
        assert b"".join(pieces) == body
        assert max(len(p) for p in pieces) <= 65536
