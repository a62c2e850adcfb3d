"""ocp_model_route's paid calls go to the provider, not through OCP's own proxy, when the
environment an ocp-server inherits (Claude Code's, pointed at the proxy) names the proxy as
ANTHROPIC_BASE_URL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ocp_router import RouterSettings
from ocp_server.proxy import ProxySettings
from ocp_server.proxy.own_address import around_own_proxy, is_own_proxy
from tests.fakes import FakeAnthropic, FakeOllama
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
    # traced twice, once as a proxied request.
    proxy = start_proxy(proxy_env | {"ANTHROPIC_API_KEY": "sk-ant-test"}, store=False)
    env = paid_env(fake_ollama, fake_anthropic) | {
        "ANTHROPIC_BASE_URL": proxy.url,
        "OCP_PROXY_PORT": str(proxy.port),
        "OCP_PROXY_ANTHROPIC_UPSTREAM": fake_anthropic.url,
    }
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


@pytest.mark.parametrize(
    ("url", "own"),
    [
        ("http://127.0.0.1:8787", True),
        ("http://localhost:8787/", True),
        ("http://[::1]:8787", True),
        ("http://127.0.0.1:8788", False),
        ("https://api.anthropic.com", False),
        ("http://gateway.internal:8787", False),
        ("http://127.0.0.1:notaport", False),
    ],
)
def test_the_proxys_address_is_its_port_on_this_machine(url: str, own: bool) -> None:
    assert is_own_proxy(url, ProxySettings.from_env({})) is own


def test_an_openai_base_url_that_is_the_proxy_becomes_its_openai_upstream() -> None:
    env = {
        "OPENAI_BASE_URL": "http://127.0.0.1:9100/v1",
        "OCP_PROXY_PORT": "9100",
        "OCP_PROXY_OPENAI_UPSTREAM": "https://gateway.example/v1",
        "OCP_PROXY_TOKEN": "short",  # the proxy's business: not read here
    }
    settings = around_own_proxy(RouterSettings.from_env(env), env)
    assert settings.openai_base_url == "https://gateway.example/v1"
    assert settings.anthropic_base_url is None
