"""AnthropicBackend through the real anthropic SDK against a fake Messages API."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2
import pytest

from ocp_router import (
    BackendAuthError,
    BackendError,
    BackendRateLimited,
    BackendResponseError,
    BackendTimeout,
    BackendUnavailable,
    GenerateRequest,
    GenerateResponse,
)
from ocp_router.backends.anthropic import AnthropicBackend
from ocp_router.backends.anthropic_sdk import translate
from tests.fakes import FakeAnthropic


def _backend(fake: FakeAnthropic, **kw: Any) -> AnthropicBackend:
    kw.setdefault("max_retries", 0)
    return AnthropicBackend("claude-sonnet-4-6", api_key="sk-ant-test", base_url=fake.url, **kw)


async def _generate(backend: AnthropicBackend, prompt: str = "hi") -> GenerateResponse:
    async with backend:
        return await backend.generate(GenerateRequest(prompt=prompt))


async def test_generate_returns_text_usage_and_stop_reason(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.reply = "Use a saga with compensating actions."
    backend = _backend(fake_anthropic, max_tokens=200)
    response = await backend.generate(GenerateRequest(prompt="design it", system="be careful"))
    assert response.text == "Use a saga with compensating actions."
    assert response.stop_reason == "end_turn"
    assert response.prompt_tokens > 0 and response.completion_tokens > 0
    body = fake_anthropic.message_requests()[0]
    assert body["max_tokens"] == 200 and body["system"] == "be careful"
    assert "temperature" not in body
    await backend.aclose()


async def test_no_system_prompt_sends_no_system_field(fake_anthropic: FakeAnthropic) -> None:
    backend = _backend(fake_anthropic)
    await backend.generate(GenerateRequest(prompt="hi"))
    assert "system" not in fake_anthropic.message_requests()[0]
    await backend.aclose()


async def test_refusal_stop_reason_is_reported(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.script = [{"text": "", "stop_reason": "refusal"}]
    response = await _generate(_backend(fake_anthropic), "x")
    assert response.stop_reason == "refusal"


async def test_missing_key_fails_at_construction_saying_which_argument() -> None:
    with pytest.raises(BackendAuthError, match="`api_key`"):
        AnthropicBackend(api_key=None)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, BackendAuthError),
        (429, BackendRateLimited),
        (529, BackendRateLimited),
        (500, BackendResponseError),
        (404, BackendUnavailable),
    ],
)
async def test_http_errors_map_onto_the_router_hierarchy(
    fake_anthropic: FakeAnthropic, status: int, error: type[BackendError]
) -> None:
    fake_anthropic.fail_next(status)
    with pytest.raises(error):
        await _generate(_backend(fake_anthropic))


@pytest.mark.parametrize("status", [400, 500])
async def test_an_api_that_quotes_the_key_back_does_not_put_it_in_the_error(
    fake_anthropic: FakeAnthropic, status: int
) -> None:
    # A gateway at ANTHROPIC_BASE_URL may echo the key it was sent; the error's text goes
    # into the route's trace and its log line.
    body = {"type": "error", "error": {"type": "api_error", "message": "bad sk-ant-test here"}}
    fake_anthropic.fail_next(status, body=body)
    with pytest.raises(BackendError) as caught:
        await _generate(_backend(fake_anthropic))
    assert "sk-ant-test" not in str(caught.value)
    assert "bad" in str(caught.value)


async def test_a_rate_limit_says_when_to_retry_by_retry_after_ms_first(
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.fail_next(429, headers={"retry-after-ms": "2500", "retry-after": "3"})
    with pytest.raises(BackendRateLimited, match=r"retry after 2\.5 s or route elsewhere"):
        await _generate(_backend(fake_anthropic))


async def test_sdk_retries_a_rate_limit_then_succeeds(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.fail_next(429, headers={"retry-after": "0"})
    response = await _generate(_backend(fake_anthropic, max_retries=2))
    assert response.text
    assert len(fake_anthropic.message_requests()) == 2


async def test_timeout_and_refused_connection(
    fake_anthropic: FakeAnthropic, refused_url: str
) -> None:
    fake_anthropic.delay = 3.0
    with pytest.raises(BackendTimeout):
        await _generate(_backend(fake_anthropic, timeout=0.3))
    refused = AnthropicBackend(api_key="k", base_url=refused_url, max_retries=0)
    with pytest.raises(BackendUnavailable):
        await _generate(refused)


async def test_malformed_body_is_a_backend_error(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.malformed_next()
    with pytest.raises(BackendError):
        await _generate(_backend(fake_anthropic))


def test_every_sdk_error_class_is_translated() -> None:
    request = httpx2.Request("POST", "https://api.anthropic.com/v1/messages")
    status_classes = [
        c
        for c in vars(anthropic).values()
        if isinstance(c, type) and issubclass(c, anthropic.APIStatusError)
    ]
    assert len(status_classes) >= 10
    for cls in status_classes:
        response = httpx2.Response(getattr(cls, "status_code", 500) or 500, request=request)
        err = translate(cls("boom", response=response, body=None), "m")
        assert isinstance(err, BackendError), cls
    for exc in (
        anthropic.APIConnectionError(request=request),
        anthropic.APITimeoutError(request=request),
        anthropic.APIResponseValidationError(httpx2.Response(200, request=request), body=None),
    ):
        assert isinstance(translate(exc, "m"), BackendError)


@pytest.mark.parametrize(
    ("cause", "sent"),
    [
        (httpx2.ConnectTimeout("x"), False),
        (httpx2.PoolTimeout("x"), False),
        (httpx2.WriteTimeout("x"), False),
        (httpx2.ReadTimeout("x"), True),
        (None, True),  # no cause: it may have been read, so it is billed
    ],
)
def test_a_timeout_before_the_request_left_is_marked_unsent(
    cause: BaseException | None, sent: bool
) -> None:
    # The SDK raises APITimeoutError from httpx2's own timeout: its class says when it came.
    request = httpx2.Request("POST", "https://api.anthropic.com/v1/messages")
    exc = anthropic.APITimeoutError(request=request)
    exc.__cause__ = cause
    err = translate(exc, "m")
    assert isinstance(err, BackendTimeout) and err.sent is sent
