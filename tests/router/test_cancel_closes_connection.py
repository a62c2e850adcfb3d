"""On the wire: a route cancelled (or out of time) while a model is answering closes its
connection, so the provider stops generating what nobody will read. Each fake answers slowly
and records the moment the client's socket closes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from ocp_router import OCPRouter, OllamaBackend, RoutingFailed
from ocp_router import router as router_module
from ocp_router.backends.anthropic import AnthropicBackend
from ocp_router.backends.openai import OpenAIBackend
from tests.fakes import FakeAnthropic, FakeOllama, FakeOpenAI, FakeServer

HARD = "design the architecture of our payment service: sharding, consistency, failover"
# Generous: a socket closed on cancel is seen by the fake in milliseconds; one left open
# until the backend's own timeout (minutes here) is not seen at all.
SEEN_WITHIN = 5.0


def _paid_router(paid: AnthropicBackend | OpenAIBackend, total_timeout: float = 300) -> OCPRouter:
    return OCPRouter(local=None, paid=paid, top_model=None, total_timeout=total_timeout)


async def _cancel_when_asked(
    router: OCPRouter, fake: FakeServer, force: str | None = None
) -> float:
    """Start a route, cancel it once the fake has the request; the monotonic cancel time."""
    task = asyncio.create_task(router.route(HARD, force=force))
    while not fake.requests:  # the fake is answering (or about to: a hangup all the same)
        await asyncio.sleep(0.01)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return cancelled_at


async def _hangup_after(fake: FakeServer, since: float) -> float:
    assert await asyncio.to_thread(fake.hung_up.wait, SEEN_WITHIN), "the client never hung up"
    [hangup] = fake.hangups
    return hangup.at - since


async def test_a_cancelled_anthropic_call_closes_its_connection(
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.delay = 120.0
    router = _paid_router(
        AnthropicBackend(api_key="sk-ant-test", base_url=fake_anthropic.url, timeout=300)
    )
    try:
        cancelled_at = await _cancel_when_asked(router, fake_anthropic)
        assert 0 <= await _hangup_after(fake_anthropic, cancelled_at) < SEEN_WITHIN
    finally:
        await router.aclose()


async def test_a_cancelled_openai_call_closes_its_connection(fake_openai: FakeOpenAI) -> None:
    fake_openai.delay = 120.0
    router = _paid_router(
        OpenAIBackend("gpt-x", api_key="sk-test", base_url=fake_openai.url + "/v1", timeout=300)
    )
    try:
        cancelled_at = await _cancel_when_asked(router, fake_openai)
        assert 0 <= await _hangup_after(fake_openai, cancelled_at) < SEEN_WITHIN
    finally:
        await router.aclose()


async def test_a_cancelled_local_stream_closes_its_connection(fake_ollama: FakeOllama) -> None:
    fake_ollama.stream_delay = 30.0  # one chunk, then a long pause before the next
    router = OCPRouter(
        local=OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=300), paid=None
    )
    try:
        cancelled_at = await _cancel_when_asked(router, fake_ollama, force="local")
        assert 0 <= await _hangup_after(fake_ollama, cancelled_at) < SEEN_WITHIN
    finally:
        await router.aclose()


class _HeldLimit:
    """asyncio as the router sees it, but with a time limit that runs out when the test says."""

    def __init__(self) -> None:
        self.limit = asyncio.timeout(None)

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    def timeout(self, delay: float | None) -> asyncio.Timeout:
        return self.limit


async def test_a_route_out_of_time_closes_the_paid_connection(
    fake_anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The limit runs out while the fake holds the request: a real 0.5 s limit also ran out
    # on a loaded machine before the request was sent, with no connection yet to close.
    fake_anthropic.delay = 120.0
    held = _HeldLimit()
    monkeypatch.setattr(router_module, "asyncio", held)
    router = _paid_router(
        AnthropicBackend(api_key="sk-ant-test", base_url=fake_anthropic.url, timeout=300)
    )
    try:
        route = asyncio.create_task(router.route(HARD))
        while not fake_anthropic.message_requests():
            await asyncio.sleep(0.01)
        held.limit.reschedule(asyncio.get_running_loop().time())  # out of time now
        with pytest.raises(RoutingFailed, match="time limit"):
            await route
        timed_out_at = time.monotonic()
        assert await asyncio.to_thread(fake_anthropic.hung_up.wait, SEEN_WITHIN)
        [hangup] = fake_anthropic.hangups
        assert hangup.at <= timed_out_at + SEEN_WITHIN
    finally:
        await router.aclose()
