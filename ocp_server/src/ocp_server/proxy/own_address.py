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
Where nothing listens yet at another address of this machine (a proxy to be started with
`--port`), the paid endpoint is asked again before each paid call until something answers there
(`AskedWhenCalled`): asked once at start, a proxy started later was never recognised.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from ocp_router.backends.base import GenerateRequest, GenerateResponse, ModelBackend
from ocp_router.config import RouterSettings, build_paid
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
    return (await sorted_endpoints(settings, env))[0]


async def sorted_endpoints(
    settings: RouterSettings, env: Mapping[str, str] | None = None
) -> tuple[RouterSettings, dict[str, str]]:
    """`around_own_proxy`'s settings, and the endpoints where nothing listened yet (off the
    proxy's own address): field (`anthropic_base_url`) to the upstream it becomes if OCP's
    proxy answers there later (`AskedWhenCalled`)."""
    env = os.environ if env is None else env
    proxy = ProxySettings.from_env({k: env[k] for k in _READ if k in env})
    endpoints = {
        "anthropic_base_url": (settings.anthropic_base_url, proxy.anthropic_upstream),
        "openai_base_url": (settings.openai_base_url, proxy.openai_upstream),
    }
    asked = {_health_url(url) for url, _ in endpoints.values() if url and on_this_machine(url)}
    if not asked:
        return settings, {}
    timeout = httpx.Timeout(_ASK_TIMEOUT)
    async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
        answers = await asyncio.gather(*(is_own_proxy(url, client) for url in asked))
    said = dict(zip(asked, answers, strict=True))
    # Nothing listening yet on the proxy's own port: the proxy started after this server (as
    # OCP_PROXY_PORT alone told it before the question); a server that answers is asked.
    own = {url for url, yes in said.items() if yes or (yes is None and _on_proxy_port(url, proxy))}
    update: dict[str, Any] = {}
    unanswered: dict[str, str] = {}
    for field, (url, upstream) in endpoints.items():
        if not url or _health_url(url) not in said:
            continue
        if _health_url(url) in own:
            update[field] = upstream
            _say_replaced(field)
        elif said[_health_url(url)] is None:
            unanswered[field] = upstream
    return (settings.model_copy(update=update) if update else settings), unanswered


def _say_replaced(field: str) -> None:
    logger.info(  # the upstream unnamed: its URL may hold a user and password
        "%s is OCP's own proxy: ocp_model_route's paid calls go to the provider it relays "
        "to (OCP_PROXY_%s_UPSTREAM), not through it",
        field.upper(),
        field.split("_")[0].upper(),
    )


class AskedWhenCalled:
    """A paid backend whose endpoint (on this machine) had nothing listening at start: before
    each call it is asked again who it is, until something answers there. OCP's proxy is then
    replaced by the upstream it relays to, for this call and every later one; any other
    server is kept and asked no more."""

    def __init__(
        self, backend: ModelBackend, settings: RouterSettings, field: str, upstream: str
    ) -> None:
        self._backend = backend
        self._settings = settings
        self._field = field
        self._upstream: str | None = upstream  # None: answered, asked no more
        self._lock = asyncio.Lock()

    @property
    def backend(self) -> ModelBackend:
        """The backend calls go to now."""
        return self._backend

    @property
    def model(self) -> str:
        return self._backend.model

    @property
    def name(self) -> str:  # the trace's backend label is the wrapped backend's
        return str(getattr(self._backend, "name", type(self._backend).__name__))

    def __getattr__(self, attr: str) -> Any:
        """The wrapped backend's other public attributes (its probe, say). Private ones are
        not looked up there: copy's and pickle's lookups before `__init__` would recurse."""
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self._backend, attr)

    async def is_available(self) -> bool:
        await self._ask()
        return await self._backend.is_available()

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        await self._ask()
        return await self._backend.generate(request)

    async def aclose(self) -> None:
        close = getattr(self._backend, "aclose", None)
        if close is not None:
            await close()

    async def _ask(self) -> None:
        if self._upstream is None:
            return
        async with self._lock:  # concurrent routes ask once
            upstream = self._upstream
            if upstream is None:
                return
            url = getattr(self._settings, self._field)
            async with httpx.AsyncClient(
                timeout=httpx.Timeout(_ASK_TIMEOUT), trust_env=False
            ) as client:
                said = await is_own_proxy(url, client)
            if said is None:  # still nothing there: asked again next call
                return
            self._upstream = None
            if not said:
                return
            replaced = build_paid(self._settings.model_copy(update={self._field: upstream}))
            if replaced is None:  # not configured: cannot happen for a backend that exists
                return
            old, self._backend = self._backend, replaced
            close = getattr(old, "aclose", None)
            if close is not None:
                await close()
            _say_replaced(self._field)


def asked_when_called(
    paid: ModelBackend | None, settings: RouterSettings, unanswered: Mapping[str, str]
) -> ModelBackend | None:
    """`paid`, asked again before each call when its endpoint is one of `unanswered`
    (`sorted_endpoints`); else `paid` itself."""
    field = "openai_base_url" if settings.paid_backend == "openai" else "anthropic_base_url"
    if paid is None or field not in unanswered:
        return paid
    return AskedWhenCalled(paid, settings, field, unanswered[field])
