"""Putting the proxy together: the router (as `ocp_model_route` builds it), the workspace's
trace store, one HTTP client for every upstream, and uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import importlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path

import httpx
import uvicorn

from ocp_router import RouterSettings
from ocp_server.app import AppState
from ocp_server.daemon_thread import in_daemon_thread
from ocp_server.proxy.app import Proxy, build_app
from ocp_server.proxy.recorder import Recorder
from ocp_server.proxy.settings import ProxySettings
from ocp_server.settings import ServerSettings

logger = logging.getLogger(__name__)


class ProxyListenError(Exception):
    """The proxy could not listen where it was told: the port taken, an address not here."""


class _BindErrorHeldBack(logging.Filter):
    """uvicorn logs a failed bind (the OSError itself as the message), then exits; `_serve`
    says it once, in its own words. Only that record is held back: one logged while this
    server has not started yet. An OSError logged once it listens is shown."""

    def __init__(self, server: uvicorn.Server) -> None:
        super().__init__()
        self.server = server

    def filter(self, record: logging.LogRecord) -> bool:
        return self.server.started or not isinstance(record.msg, OSError)


# The router decides paid tiers only when it has a paid backend. A proxy client usually
# brings its own key, so without one in the environment the router gets this stand-in: the
# proxy never calls the router's paid backend (it relays the client's own request), only
# its decisions, tiers and prices are used.
CLIENT_KEY = "ocp-proxy-client-credentials"


def routing_settings(router_settings: RouterSettings) -> RouterSettings:
    if router_settings.paid_configured or router_settings.paid_backend not in (
        "anthropic",
        "openai",
    ):
        return router_settings
    field = "anthropic_api_key" if router_settings.paid_backend == "anthropic" else "openai_api_key"
    return router_settings.model_copy(update={field: CLIENT_KEY})


# What a proxy's first request imported on the event loop: anyio loads the backend of the
# loop it runs on at its first use (Starlette's request handling), 21 modules, 20-27 ms
# compiled from source (no bytecode cache) or several ms from it, every other client waiting.
_FIRST_USE = ("anyio._backends._asyncio",)


def _import_first_use() -> None:
    for name in _FIRST_USE:
        importlib.import_module(name)


@contextlib.asynccontextmanager
async def open_proxy(
    settings: ProxySettings,
    workspace: Path | None,
    *,
    env: Mapping[str, str] | None = None,
    server_settings: ServerSettings | None = None,
) -> AsyncIterator[Proxy]:
    """A ready `Proxy`. `workspace` None: no trace store (the dashboard still works)."""
    # imported in a thread meanwhile, not on the loop at the first request
    imported = in_daemon_thread(_import_first_use, "ocp-import")
    router_settings = RouterSettings.from_env(env)
    state = await AppState.create(
        server_settings or ServerSettings.from_env(env),
        router_settings=routing_settings(router_settings),
    )
    router = state.router
    client = httpx.AsyncClient(
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        follow_redirects=False,
        trust_env=False,
    )
    recorder: Recorder | None = None
    try:
        memory = opened = None
        if workspace is not None:  # its trace store, and the calibration routing learned
            opened = await state.workspace(workspace, watch=False)
            memory = opened.memory
        recorder = Recorder(
            memory,
            str(workspace or ""),
            recent=settings.recent,
            trace_content=settings.trace_content,
            ledger=state.ledger,
        )
        recorder.start()
        await imported
        yield Proxy(settings, router, router_settings, recorder, client, opened)
    finally:
        if recorder is not None:
            await recorder.aclose()
        await client.aclose()
        await state.aclose()


def uvicorn_server(proxy: Proxy, settings: ProxySettings) -> uvicorn.Server:
    config = uvicorn.Config(
        build_app(proxy),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=int(settings.shutdown_grace),
        server_header=False,
    )
    return uvicorn.Server(config)


def bound_port(server: uvicorn.Server) -> int:
    for s in server.servers:
        for sock in s.sockets:
            port: int = sock.getsockname()[1]
            return port
    raise RuntimeError("the proxy is not listening")


async def serve(
    settings: ProxySettings,
    workspace: Path | None,
    on_listening: Callable[[str], None] = lambda url: None,
) -> None:
    """Serve until SIGINT/SIGTERM; open streams get OCP_PROXY_SHUTDOWN_GRACE seconds.
    `on_listening` gets the base URL once the socket is bound (the CLI tells the user)."""
    async with open_proxy(settings, workspace) as proxy:
        server = uvicorn_server(proxy, settings)
        task = asyncio.create_task(_serve(server, settings))
        while not server.started and not task.done():
            await asyncio.sleep(0.02)
        if server.started:
            on_listening(f"http://{settings.host}:{bound_port(server)}")
        await task


async def _serve(server: uvicorn.Server, settings: ProxySettings) -> None:
    log = logging.getLogger("uvicorn.error")
    held_back = _BindErrorHeldBack(server)
    log.addFilter(held_back)
    try:
        await server.serve()
    except SystemExit as exc:  # uvicorn's way out when it cannot bind
        if server.started:
            raise
        cause = exc.__context__
        where = f"{settings.host}:{settings.port}"
        if isinstance(cause, OSError) and cause.errno == errno.EADDRINUSE:
            raise ProxyListenError(
                f"cannot listen on {where}: the address is already in use (another "
                "`ocp-server proxy`?); pick another port with --port or OCP_PROXY_PORT"
            ) from cause
        reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else cause
        raise ProxyListenError(f"cannot listen on {where}: {reason or exc}") from cause
    finally:
        log.removeFilter(held_back)
