"""ocp_model_route's paid calls go to the provider, not through OCP's own proxy, when the
environment an ocp-server inherits (Claude Code's, pointed at the proxy) names the proxy as
ANTHROPIC_BASE_URL (or OPENAI_BASE_URL): the server asks the endpoint who it is."""

from __future__ import annotations

import asyncio
import copy
import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from ocp_router import RouterSettings
from ocp_router.backends.base import GenerateRequest
from ocp_router.config import build_paid
from ocp_server.proxy.own_address import (
    AskedWhenCalled,
    around_own_proxy,
    asked_when_called,
    on_this_machine,
    sorted_endpoints,
)
from tests.fakes import FakeAnthropic, FakeOllama
from tests.fakes._http import closed_port
from tests.proxy.conftest import RunningProxy
from tests.server.inproc import inproc_client, paid_env, text_of


async def test_a_route_whose_anthropic_base_url_is_the_proxy_goes_to_the_provider_it_relays_to(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    # Through the proxy, a route forced to `top` was routed again (answerable locally) and
    # traced twice, once as a proxied request. The proxy was known by OCP_PROXY_PORT alone:
    # one on another port (--port, another shell's settings) was missed.
    proxy = start_proxy(proxy_env | {"ANTHROPIC_API_KEY": "sk-ant-test"}, store=False)
    env = paid_env(fake_ollama, fake_anthropic) | {
        "ANTHROPIC_BASE_URL": proxy.url,
        "OCP_PROXY_ANTHROPIC_UPSTREAM": fake_anthropic.url,
    }
    monkeypatch.delenv("OCP_PROXY_PORT", raising=False)
    async with inproc_client(workspace, monkeypatch, env) as client:
        routed = await client.call_tool(
            "ocp_model_route", {"request": "design a distributed lock", "force": "top"}
        )
    assert not routed.is_error, text_of(routed)
    assert (routed.structured_content or {})["trace"]["tier"] == "top"
    sent = fake_anthropic.requests_to("/v1/messages")
    assert len(sent) == 1 and "x-ocp-proxy" not in sent[0].headers  # not relayed by the proxy
    async with httpx.AsyncClient(base_url=proxy.url) as http:
        served = (await http.get("/api/stats")).json()
    assert served["recent"] == [], served


async def test_an_openai_base_url_that_is_the_proxy_becomes_its_openai_upstream(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    proxy = start_proxy(proxy_env, store=False)
    env = {
        "OPENAI_BASE_URL": proxy.url.replace("127.0.0.1", "localhost") + "/v1",
        "OCP_PROXY_OPENAI_UPSTREAM": "https://gateway.example/v1",
        "OCP_PROXY_TOKEN": "short",  # the proxy's business: not read here
    }
    settings = await around_own_proxy(RouterSettings.from_env(env), env)
    assert settings.openai_base_url == "https://gateway.example/v1"
    assert settings.anthropic_base_url is None


async def test_another_server_on_the_proxys_configured_port_is_not_taken_for_the_proxy(
    fake_anthropic: FakeAnthropic,
) -> None:
    # Known by its port, any server there (a gateway of the user's own on 8787, say) had
    # its URL replaced by api.anthropic.com.
    env = {
        "ANTHROPIC_BASE_URL": fake_anthropic.url,
        "OCP_PROXY_PORT": str(urlsplit(fake_anthropic.url).port),
        "OCP_PROXY_ANTHROPIC_UPSTREAM": "https://elsewhere.example",
    }
    settings = await around_own_proxy(RouterSettings.from_env(env), env)
    assert settings.anthropic_base_url == fake_anthropic.url
    assert [r.path for r in fake_anthropic.requests] == ["/health"]  # asked once, no more


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_the_proxys_own_port_with_nothing_listening_yet_is_still_taken_for_the_proxy() -> (
    None
):
    # Asked at start, a proxy started after the MCP server answered nothing and the server's
    # paid calls went through it once it was up (OCP_PROXY_PORT alone had named it before).
    port = closed_port()  # kept bound: no other worker's fake can answer there
    env = {
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}",
        "OCP_PROXY_PORT": str(port),
        "OCP_PROXY_ANTHROPIC_UPSTREAM": "https://elsewhere.example",
    }
    settings = await around_own_proxy(RouterSettings.from_env(env), env)
    assert settings.anthropic_base_url == "https://elsewhere.example"
    # nothing listening on another port is another endpoint, not the proxy
    other = env | {"OCP_PROXY_PORT": str(port + 1 if port < 65535 else port - 1)}
    kept = await around_own_proxy(RouterSettings.from_env(other), other)
    assert kept.anthropic_base_url == f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(
    ("url", "here"),
    [
        ("http://127.0.0.1:8787", True),
        ("http://localhost:8787/", True),
        ("http://[::1]:8787", True),
        ("http://0.0.0.0:9000", True),
        ("https://api.anthropic.com", False),  # never asked: the question stays on this machine
        ("http://gateway.internal:8787", False),
        ("http://203.0.113.9:8787", False),  # an address of no interface here (TEST-NET-3)
    ],
)
def test_only_endpoints_on_this_machine_are_asked_who_they_are(url: str, here: bool) -> None:
    assert on_this_machine(url) is here


async def test_a_proxy_started_later_on_another_port_is_recognised_at_the_next_paid_call(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    # Asked once at start, a proxy started after the MCP server on a port the server was not
    # told of (`--port`) answered nothing then, and every later paid call went through it.
    port = _free_port()  # bound by a server below
    env = paid_env(fake_ollama, fake_anthropic) | {
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}",
        "OCP_PROXY_ANTHROPIC_UPSTREAM": fake_anthropic.url,
    }
    monkeypatch.delenv("OCP_PROXY_PORT", raising=False)  # the default, not `port`
    async with inproc_client(workspace, monkeypatch, env) as client:
        proxy_settings = proxy_env | {"ANTHROPIC_API_KEY": "sk-ant-test"}
        proxy = await asyncio.to_thread(start_proxy, proxy_settings, store=False, port=port)
        for request in ("design a distributed lock", "design a rate limiter"):
            routed = await client.call_tool("ocp_model_route", {"request": request, "force": "top"})
            assert not routed.is_error, text_of(routed)
    sent = fake_anthropic.requests_to("/v1/messages")
    assert len(sent) == 2 and not any("x-ocp-proxy" in r.headers for r in sent)
    async with httpx.AsyncClient(base_url=proxy.url) as http:
        served = (await http.get("/api/stats")).json()
    assert served["recent"] == [], served


async def test_another_server_started_later_where_nothing_listened_is_kept_and_asked_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The user's own gateway came up after the server: the paid calls go to it, and it is
    # asked who it is once, not before every call.
    port = _free_port()  # bound by a server below
    env = {
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}",
        "OCP_PAID_MODEL": "claude-sonnet-5-5",
        "OCP_PROXY_ANTHROPIC_UPSTREAM": "https://elsewhere.example",
    }
    monkeypatch.delenv("OCP_PROXY_PORT", raising=False)
    settings, unanswered = await sorted_endpoints(RouterSettings.from_env(env), env)
    assert settings.anthropic_base_url == env["ANTHROPIC_BASE_URL"]
    assert unanswered == {"anthropic_base_url": "https://elsewhere.example"}
    paid = asked_when_called(build_paid(settings), settings, unanswered)
    assert isinstance(paid, AskedWhenCalled)
    wrapped = paid.backend
    with FakeAnthropic() as gateway:
        gateway.stop()
        gateway.start(port)
        try:
            for prompt in ("one", "two"):
                answer = await paid.generate(GenerateRequest(prompt, max_tokens=16))
                assert answer.text
        finally:
            await paid.aclose()
    assert paid.backend is wrapped
    assert [r.path for r in gateway.requests] == ["/health", "/v1/messages", "/v1/messages"]


def test_a_paid_backend_asked_when_called_copies_and_shows_its_backends_attributes() -> None:
    settings = RouterSettings.from_env(
        {"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}
    )
    inner = build_paid(settings)
    assert inner is not None
    paid = AskedWhenCalled(inner, settings, "anthropic_base_url", "https://x.example")
    assert paid.name == "anthropic" and paid.model == inner.model
    assert paid.names is getattr(inner, "names")  # noqa: B009 - not on the protocol
    copied = copy.copy(paid)  # looked up `_backend` on an object without one: recursion
    assert copied.backend is inner


def test_a_paid_endpoint_that_answered_at_start_is_not_asked_again() -> None:
    settings = RouterSettings.from_env(
        {"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}
    )
    paid = build_paid(settings)
    assert asked_when_called(paid, settings, {}) is paid
    assert asked_when_called(None, settings, {"anthropic_base_url": "https://x.example"}) is None
