"""ocp_model_route's paid calls go to the provider, not through OCP's own proxy.

Claude Code pointed at the proxy sets ANTHROPIC_BASE_URL to it, and an ocp-server it starts
inherits that: its paid calls went into the proxy, which routed them a second time (a route
forced to `top` could be answered locally) and traced them again. A paid endpoint on this
machine is asked once, at start, who it is (`GET /health`, which the proxy answers with
`"service": "ocp-proxy"`); the proxy's is replaced by the upstream the proxy relays that
dialect to (OCP_PROXY_ANTHROPIC_UPSTREAM / OCP_PROXY_OPENAI_UPSTREAM), read from the same
settings the proxy reads.

Asked, not told by OCP_PROXY_PORT: the proxy started with another port (`--port`, another
shell's settings) was missed, and another server on that port was taken for the proxy. Only
this machine's addresses are asked: nothing leaves it for the question. Where nothing listens
yet at the proxy's own address (OCP_PROXY_HOST / OCP_PROXY_PORT: the proxy started after this
server, as an IDE's MCP servers may start before a shell's proxy), that address still names it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import socket
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx

from ocp_router.config import RouterSettings
from ocp_server.proxy.loopback import is_loopback
from ocp_server.proxy.settings import ProxySettings

logger = logging.getLogger(__name__)

# What the proxy's /health says it is.
SERVICE = "ocp-proxy"
# Seconds the question may take (a server on this machine answers in milliseconds).
_ASK_TIMEOUT = 2.0
_ANSWER_BYTES = 4096  # a /health answer is a few bytes; a long one is not the proxy's

# The proxy's settings that say where it listens and where it relays; its others (a token of
# the wrong length, say) are the proxy's business, not the MCP server's.
_READ = (
    "OCP_PROXY_HOST",
    "OCP_PROXY_PORT",
    "OCP_PROXY_ANTHROPIC_UPSTREAM",
    "OCP_PROXY_OPENAI_UPSTREAM",
)


def on_this_machine(url: str) -> bool:
    """`url`'s host is this machine: a loopback name or address, the machine's own name, or
    an address a socket here can bind to (one of its interfaces'). No name is looked up."""
    host = urlsplit(url).hostname or ""
    if not host:
        return False
    if is_loopback(host) or host.lower() == socket.gethostname().lower():
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, 0))
        except OSError:
            return False
    return True


def _health_url(url: str) -> str:
    """The /health of `url`'s server (its credentials, path and query left out)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/health"


async def is_own_proxy(url: str, client: httpx.AsyncClient) -> bool | None:
    """`url` is served by an OCP proxy: its /health says so; None when nothing listens there
    (yet)."""
    try:
        async with client.stream("GET", _health_url(url)) as response:
            if response.status_code != 200:
                return False
            data = b""
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > _ANSWER_BYTES:
                    return False
    except httpx.ConnectError:  # nothing listens there (yet)
        return None
    except httpx.HTTPError:  # not a server that answers
        return False
    try:
        said = json.loads(data)
    except ValueError:
        return False
    return isinstance(said, dict) and said.get("service") == SERVICE


def _on_proxy_port(url: str, proxy: ProxySettings) -> bool:
    """`url` is where the proxy's settings say it listens: its port, on loopback or its host."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # not a port: not the proxy's
        return False
    return port == proxy.port and (
        is_loopback(parts.hostname or "") or parts.hostname == proxy.host
    )


async def around_own_proxy(
    settings: RouterSettings, env: Mapping[str, str] | None = None
) -> RouterSettings:
    """`settings` with a paid endpoint that is OCP's own proxy replaced by the provider the
    proxy relays to; each endpoint on this machine is asked once. Raises ConfigError naming
    an invalid OCP_PROXY_* it reads."""
    env = os.environ if env is None else env
    proxy = ProxySettings.from_env({k: env[k] for k in _READ if k in env})
    endpoints = {
        "anthropic_base_url": (settings.anthropic_base_url, proxy.anthropic_upstream),
        "openai_base_url": (settings.openai_base_url, proxy.openai_upstream),
    }
    asked = {_health_url(url) for url, _ in endpoints.values() if url and on_this_machine(url)}
    if not asked:
        return settings
    timeout = httpx.Timeout(_ASK_TIMEOUT)
    async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
        said = await asyncio.gather(*(is_own_proxy(url, client) for url in asked))
    # Nothing listening yet on the proxy's own port: the proxy started after this server (as
    # OCP_PROXY_PORT alone told it before the question); a server that answers is asked.
    own = {
        url
        for url, yes in zip(asked, said, strict=True)
        if yes or (yes is None and _on_proxy_port(url, proxy))
    }
    update = {
        field: upstream
        for field, (url, upstream) in endpoints.items()
        if url and _health_url(url) in own
    }
    for field in update:  # the upstream unnamed: its URL may hold a user and password
        logger.info(
            "%s is OCP's own proxy: ocp_model_route's paid calls go to the provider it relays "
            "to (OCP_PROXY_%s_UPSTREAM), not through it",
            field.upper(),
            field.split("_")[0].upper(),
        )
    return settings.model_copy(update=update) if update else settings
