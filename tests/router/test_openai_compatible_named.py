"""An OpenAIBackend pointed at a server other than OpenAI's (llama.cpp, vLLM, LM Studio,
OpenRouter, Together) names that server in its errors, not "openai": a user of a local server
read "cannot reach openai" as OpenAI's paid API being down. OpenAI's own API keeps its name."""

from __future__ import annotations

import re

import httpx
import pytest

from ocp_router import (
    BackendResponseError,
    BackendTimeout,
    BackendUnavailable,
    GenerateRequest,
    OpenAIBackend,
)
from tests.fakes import FakeOpenAI

_PIECE = b"x" * 65536
_LONGER_THAN_THE_CAP = (_PIECE,) * (16 * 9)  # 9 MiB, past the 8 MiB cap on a body


def _says_openai(message: str) -> bool:
    """Whether `message` calls a server "openai" (the backend's name, not its URL)."""
    return re.search(r"(?<![/.\w-])openai(?![.\w-])", message, re.IGNORECASE) is not None


async def test_an_unreachable_compatible_server_is_named_by_its_url(refused_url: str) -> None:
    async with OpenAIBackend("m", base_url=refused_url + "/v1") as backend:
        with pytest.raises(BackendUnavailable) as raised:
            await backend.generate(GenerateRequest(prompt="hi"))
    said = str(raised.value)
    assert said.startswith(f"cannot reach the OpenAI-compatible server at {refused_url}/v1")
    assert not _says_openai(said), said
    assert raised.value.backend == "openai"  # the error's backend is still the backend's name


async def test_a_malformed_answer_names_the_compatible_server(fake_openai: FakeOpenAI) -> None:
    fake_openai.malformed_next()
    async with OpenAIBackend("m", base_url=fake_openai.base_url) as backend:
        with pytest.raises(BackendResponseError) as raised:
            await backend.generate(GenerateRequest(prompt="hi"))
    said = str(raised.value)
    assert said.startswith(f"the OpenAI-compatible server at {fake_openai.base_url} sent a")
    assert "could not read" in said and not _says_openai(said), said


async def test_a_model_list_that_is_not_one_names_the_compatible_server(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.malformed_next(path="/v1/models")
    async with OpenAIBackend("m", base_url=fake_openai.base_url) as backend:
        with pytest.raises(BackendResponseError) as raised:
            await backend.probe()
    said = str(raised.value)
    assert said.startswith(f"the OpenAI-compatible server at {fake_openai.base_url} sent a")
    assert not _says_openai(said), said


async def test_a_body_past_the_cap_names_the_compatible_server(fake_openai: FakeOpenAI) -> None:
    fake_openai.hold_next(
        (b'{"choices": [{"message": {"content": "', *_LONGER_THAN_THE_CAP),
        "application/json",
        path="/v1/chat/completions",
    )
    async with OpenAIBackend("m", base_url=fake_openai.base_url, timeout=10.0) as backend:
        with pytest.raises(BackendResponseError) as raised:
            await backend.generate(GenerateRequest(prompt="hi"))
    said = str(raised.value)
    assert said.startswith(f"the OpenAI-compatible server at {fake_openai.base_url} sent a")
    assert "longer than 8,388,608 bytes" in said and not _says_openai(said), said


async def test_a_compatible_server_that_does_not_answer_in_time_is_named(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.delay = 3.0
    async with OpenAIBackend("m", base_url=fake_openai.base_url, timeout=0.3) as backend:
        with pytest.raises(BackendTimeout) as answer:
            await backend.generate(GenerateRequest(prompt="hi"))
        with pytest.raises(BackendTimeout) as check:  # /models within CHECK_TIMEOUT
            await backend.check()
    for said in (str(answer.value), str(check.value)):
        assert said.startswith(f"the OpenAI-compatible server at {fake_openai.base_url} ")
        assert not _says_openai(said), said


async def test_openais_own_api_keeps_its_name() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    async with OpenAIBackend("gpt-4o-mini", client=client) as backend:
        with pytest.raises(BackendUnavailable) as raised:
            await backend.generate(GenerateRequest(prompt="hi"))
    assert str(raised.value).startswith("cannot reach OpenAI at https://api.openai.com/v1")


async def test_a_name_given_is_the_name_said(refused_url: str) -> None:
    async with OpenAIBackend("m", base_url=refused_url + "/v1", said="OpenRouter") as backend:
        with pytest.raises(BackendUnavailable, match="^cannot reach OpenRouter at "):
            await backend.generate(GenerateRequest(prompt="hi"))
