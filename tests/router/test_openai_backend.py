"""OpenAIBackend against a fake OpenAI-compatible server speaking the documented wire shape."""

from __future__ import annotations

import httpx
import pytest

from ocp_router import (
    BackendAuthError,
    BackendError,
    BackendRateLimited,
    BackendResponseError,
    BackendTimeout,
    BackendUnavailable,
    GenerateRequest,
    OpenAIBackend,
)
from ocp_router.backends._http import transport_error
from ocp_router.config import RouterSettings, build_local
from tests.fakes import FakeOpenAI


async def test_generate_reads_choices_and_usage(fake_openai: FakeOpenAI) -> None:
    fake_openai.reply = "use a dict comprehension"
    backend = OpenAIBackend("gpt-4o-mini", base_url=fake_openai.base_url, max_tokens=64)
    response = await backend.generate(GenerateRequest(prompt="invert a dict", system="terse"))
    assert response.text == "use a dict comprehension"
    assert response.prompt_tokens > 0 and response.completion_tokens == 4
    assert response.stop_reason == "stop"
    body = fake_openai.requests_to("/v1/chat/completions")[0].body
    assert body["max_tokens"] == 64 and body["stream"] is False
    assert body["messages"][0] == {"role": "system", "content": "terse"}
    await backend.aclose()


async def test_bearer_key_is_sent_and_a_wrong_key_is_an_auth_error() -> None:
    with FakeOpenAI(api_key="sk-right") as fake:
        async with OpenAIBackend("m", base_url=fake.base_url, api_key="sk-right") as good:
            assert (await good.generate(GenerateRequest(prompt="hi"))).text
        assert fake.requests[-1].headers["authorization"] == "Bearer sk-right"
        async with OpenAIBackend("m", base_url=fake.base_url, api_key="sk-wrong") as bad:
            with pytest.raises(BackendAuthError, match="Set the `api_key` argument"):
                await bad.generate(GenerateRequest(prompt="hi"))
            assert "sk-wrong" not in repr(bad)


@pytest.mark.parametrize("status", [401, 404, 429, 500])
async def test_a_server_that_quotes_the_key_back_does_not_put_it_in_the_error(
    fake_openai: FakeOpenAI, status: int
) -> None:
    # Proxies in front of OpenAI-compatible servers may echo the key they were sent; the
    # error's text goes into the route's trace and its log line.
    key = "sk-echoed-0123456789abcdefghij"
    fake_openai.fail_next(status, body={"error": {"message": f"no such key {key} here"}})
    async with OpenAIBackend("m", base_url=fake_openai.base_url, api_key=key) as backend:
        with pytest.raises(BackendError) as caught:
            await backend.generate(GenerateRequest(prompt="hi"))
    assert key not in str(caught.value)
    assert "no such key" in str(caught.value)  # the rest of the server's message stays


@pytest.mark.parametrize(
    ("status", "error"),
    [(429, BackendRateLimited), (500, BackendResponseError), (404, BackendUnavailable)],
)
async def test_error_statuses_map_onto_the_router_hierarchy(
    fake_openai: FakeOpenAI, status: int, error: type[BackendError]
) -> None:
    fake_openai.fail_next(status)
    backend = OpenAIBackend("m", base_url=fake_openai.base_url)
    with pytest.raises(error):
        await backend.generate(GenerateRequest(prompt="hi"))
    await backend.aclose()


async def test_a_missing_model_is_unavailable_in_one_sentence() -> None:
    with FakeOpenAI(models=["gpt-x"]) as fake:
        async with OpenAIBackend("gpt-nope", base_url=fake.base_url) as backend:
            with pytest.raises(BackendUnavailable) as caught:
                await backend.generate(GenerateRequest(prompt="hi"))
    message = str(caught.value)
    assert "gpt-nope" in message and ".." not in message


@pytest.mark.parametrize(
    ("headers", "said"),
    [
        ({"retry-after": "7"}, "retry after 7 s"),
        ({"retry-after-ms": "1500"}, "retry after 1.5 s"),  # what the SDKs read first
        ({"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}, "retry after Wed, 21 Oct 2026"),
        ({}, "retry later"),
    ],
)
async def test_a_rate_limit_says_when_to_retry_in_any_form_the_server_gives(
    fake_openai: FakeOpenAI, headers: dict[str, str], said: str
) -> None:
    fake_openai.fail_next(429, headers=headers)
    async with OpenAIBackend("m", base_url=fake_openai.base_url) as backend:
        with pytest.raises(BackendRateLimited) as caught:
            await backend.generate(GenerateRequest(prompt="hi"))
    assert said in str(caught.value)
    assert "GMT s" not in str(caught.value)


async def test_malformed_body_is_a_response_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.malformed_next()
    backend = OpenAIBackend("m", base_url=fake_openai.base_url)
    with pytest.raises(BackendResponseError):
        await backend.generate(GenerateRequest(prompt="hi"))
    await backend.aclose()


async def test_slow_server_times_out(fake_openai: FakeOpenAI) -> None:
    fake_openai.delay = 3.0
    backend = OpenAIBackend("m", base_url=fake_openai.base_url, timeout=0.3)
    with pytest.raises(BackendTimeout):
        await backend.generate(GenerateRequest(prompt="hi"))
    await backend.aclose()


async def test_availability_follows_the_models_endpoint(
    fake_openai: FakeOpenAI, refused_url: str
) -> None:
    async with OpenAIBackend("m", base_url=fake_openai.base_url) as up:
        assert await up.is_available()
    async with OpenAIBackend("m", base_url=refused_url + "/v1") as down:
        assert not await down.is_available()


@pytest.mark.parametrize(
    ("exc", "sent"),
    [
        (httpx.ConnectTimeout("x"), False),
        (httpx.PoolTimeout("x"), False),
        (httpx.WriteTimeout("x"), False),
        (httpx.ReadTimeout("x"), True),
    ],
)
def test_an_httpx_timeout_before_the_request_left_is_marked_unsent(
    exc: httpx.TimeoutException, sent: bool
) -> None:
    err = transport_error(exc, backend="openai", url="http://127.0.0.1:1", hint="")
    assert isinstance(err, BackendTimeout) and err.sent is sent


async def test_an_unreachable_local_openai_compatible_server_is_not_called_openai(
    fake_openai: FakeOpenAI, refused_url: str
) -> None:
    # OCP_LOCAL_BACKEND=openai is llama.cpp, LM Studio or vLLM: "cannot reach openai at URL"
    # was read as OpenAI's paid API. The error's `backend` stays the backend's name.
    env = {"OCP_LOCAL_BACKEND": "openai", "OCP_LOCAL_BASE_URL": refused_url + "/v1"}
    async with build_local(RouterSettings.from_env(env)) as down:  # type: ignore[attr-defined]
        with pytest.raises(BackendUnavailable) as raised:
            await down.generate(GenerateRequest(prompt="hi"))
    said = str(raised.value)
    assert said.startswith(f"cannot reach the local OpenAI-compatible server at {refused_url}/v1")
    assert "OCP_LOCAL_BASE_URL" in said and raised.value.backend == "openai"
    fake_openai.fail_next(401)
    env = {"OCP_LOCAL_BACKEND": "openai", "OCP_LOCAL_BASE_URL": fake_openai.base_url}
    async with build_local(RouterSettings.from_env(env)) as refusing:  # type: ignore[attr-defined]
        with pytest.raises(BackendAuthError, match="^the local OpenAI-compatible server rejected"):
            await refusing.generate(GenerateRequest(prompt="hi"))
    # Built by hand, it is still no OpenAI (test_openai_compatible_named.py).
    async with OpenAIBackend("m", base_url=refused_url + "/v1") as paid:
        with pytest.raises(BackendUnavailable, match="^cannot reach the OpenAI-compatible server"):
            await paid.generate(GenerateRequest(prompt="hi"))
