"""The MCP server: four tools over stdio on the mcp SDK's low-level Server.

The low-level server gives full control of what matters to real clients: underscore tool
names by default (several clients reject dots) with the dotted verb as the title, calls by
either name, argument errors that name the field, and results whose structured content is
complete on its own next to a short text rendering.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp.types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    CallToolRequestParams,
    CallToolResult,
    ListResourcesResult,
    ListToolsResult,
    NotificationParams,
    PaginatedRequestParams,
    ReadResourceRequestParams,
    ReadResourceResult,
    Resource,
    TextContent,
    TextResourceContents,
)
from opentelemetry import trace
from pydantic import BaseModel, ValidationError

import ocp_wire as wire
from ocp_router.errors import ConfigError
from ocp_server import __version__, read_ahead
from ocp_server.argument_errors import argument_error, clip, echo
from ocp_server.build_progress import build_notice
from ocp_server.collector import importing
from ocp_server.daemon_thread import in_daemon_thread
from ocp_server.enclosing import ServerAnswering
from ocp_server.errors import (
    DatabaseError,
    InputError,
    RootsMovedAway,
    RouteFailure,
    WorkspaceError,
    busy_text,
    database_busy,
    database_fault_text,
)
from ocp_server.mcp_config import SERVER_NAME
from ocp_server.protocol_errors import ProtocolErrorsNamed
from ocp_server.render import render, route_answer
from ocp_server.request_ids import unique_request_ids
from ocp_server.runtime import Runtime
from ocp_server.settings import ServerSettings, resolve_after_roots_moved, resolve_workspace
from ocp_server.stdio import hardened_stdio
from ocp_server.tool_answers import ToolCallsInWireForm, call_outcome, tool_result
from ocp_server.tool_table import TOOLS, ToolSpec, list_tools_result
from ocp_server.turns import ProgressNotices, Turns

if TYPE_CHECKING:
    # Loaded after `initialize` is answered (see `_load_app`): the router, the index and
    # their libraries take longer to import than a client waits for the handshake.
    from ocp_router import OCPRouter
    from ocp_server.app import AppState
    from ocp_server.workspaces import Workspace

logger = logging.getLogger(__name__)
T = TypeVar("T")


def instructions(settings: ServerSettings) -> str:
    """What the server tells the client at `initialize`, the tools named as it lists them."""
    # TOOL_SHAPES is in this order (ocp_wire.tools)
    search, restore, route, save = (settings.tool_name(t) for t in wire.TOOL_SHAPES)
    return (
        "OCP gives you this workspace's code and memory. Search before reading files "
        f"({search}), restore earlier sessions' decisions at the start ({restore}), route a "
        f"question to a local or paid model with context ({route}), and save decisions and "
        f"outcomes for the next session ({save})."
    )


STATUS_URI = wire.STATUS_URI
STATUS_RESOURCE = Resource(
    name="index-status",
    title="OCP index status",
    uri=STATUS_URI,
    description="The workspace index: files, chunks, files skipped by reason, last update, "
    "which process watches for changes, and the progress of a running build.",
    mime_type="application/json",
)
RESOURCE_NOT_FOUND = -32002  # the MCP specification's code for an unknown resource URI


def _find(name: str) -> ToolSpec | None:
    for spec in TOOLS:
        if name in (spec.verb, spec.underscore):
            return spec
    return None


# Error texts are cut to this length: a 1 MB tool name must not come back whole.
MAX_ERROR_CHARS = 2_000


def error_result(message: str, structured: dict[str, Any] | None = None) -> CallToolResult:
    """A tool error. Its text quotes what the caller sent (a path, an id): `clip` redacts it
    like any result. `structured` comes redacted (a failed route's is built like an answer)."""
    return CallToolResult(
        content=[TextContent(type="text", text=clip(message, MAX_ERROR_CHARS))],
        structured_content=structured,
        is_error=True,
    )


def internal_error_text(verb: str, exc: BaseException) -> str:
    """What the caller sees of an unexpected exception (errors.py: never "bad input")."""
    return (
        f"{verb} failed: internal error ({type(exc).__name__}: {exc}). The server keeps "
        "serving; the traceback is in its stderr log."
    )


def failure_text(verb: str, db_path: Path | None, exc: BaseException) -> str:
    """What the caller sees of an exception a tool call or a resource read ended in (inside
    its `except`): a busy or refused database is said as such; anything else is a bug,
    logged with its traceback."""
    if database_busy(exc):
        return busy_text(verb, db_path)
    if said := database_fault_text(verb, db_path, exc):
        logger.warning("%s failed: %s", verb, exc)
        return said
    logger.exception("%s failed", verb)
    return internal_error_text(verb, exc)


def config_error_text(error: str) -> str:
    return (
        f"OCP is not configured correctly: {error}. Fix it in the env block of your MCP "
        "config (or your shell), then restart the server."
    )


def build_server(
    settings: ServerSettings | None,
    *,
    router: OCPRouter | None = None,
    clock: Callable[[], float] | None = None,
    cwd: Path | None = None,
    config_error: str | None = None,
) -> Server[Runtime]:
    """The MCP server: the composition root. `router`: route with this one instead of one
    made from the environment; `clock`: memory's clock (tests move it instead of sleeping);
    `cwd`: the working directory a workspace falls back to. With `settings` None (they could
    not be read), `config_error` says why, and every tool answers with it."""
    background: set[asyncio.Task[Workspace]] = set()
    if settings is not None and clock is not None:
        settings = dataclasses.replace(settings, clock=clock)
    listed = settings or ServerSettings()
    # Routes that run at once: each may hold the local model (Ollama answers one request at a
    # time by default, OLLAMA_NUM_PARALLEL=1) or a paid call for a minute. Without a bound a
    # client's 300 routes sent at once were 300 requests at Ollama, each one's timeout running
    # down in its queue. The rest wait here, in order, before any timeout starts; a cancelled
    # one leaves the line. Searches, restores and saves are never held behind them.
    # A route waiting here is told its place in line when the client asked for progress
    # (turns.py): the client's own timeout for the call runs while it waits.
    turns = {wire.ROUTE.name: Turns(listed.route_concurrency)}
    answering = ServerAnswering(listed)  # a folder inside an indexed project: its index

    async def start(runtime: Runtime) -> None:
        assert settings is not None
        try:
            app_state = await _in_daemon_thread(_load_app)
            runtime.state = state = await app_state.create(settings, router=router)
        except ConfigError as exc:
            logger.error("configuration error: %s", exc)
            runtime.config_error = str(exc)
            return
        except Exception as exc:
            logger.exception("the server could not start")
            runtime.config_error = f"the server could not start ({type(exc).__name__}: {exc})"
            return
        if state.routing_error is not None:  # the route tool answers with it; the rest serve
            logger.error("routing is not configured correctly: %s", state.routing_error)
        named = settings.workspace is not None or settings.claude_project_dir is not None
        if named:
            # Warm up in the background, but only a workspace named by the environment: the
            # client's roots come before the working directory, and they can only be asked
            # once the session is up.
            try:
                path: Path | None = resolve_workspace(settings, None, None, cwd, state.kept)
            except WorkspaceError:
                path = None
            if path is not None:
                opened = state.workspace(answering(path)[0])
                warm = asyncio.create_task(opened, name="open workspace")
                warm.add_done_callback(_log_failure)
                background.add(warm)

    @asynccontextmanager
    async def lifespan(_: Server[Runtime]) -> AsyncIterator[Runtime]:
        runtime = Runtime(None, config_error)
        if settings is not None and config_error is None:
            # Not awaited here: `initialize` is answered while the app loads; every tool
            # call and resource read waits for it (Runtime.ready).
            runtime.starting = asyncio.create_task(start(runtime), name="start")
        try:
            yield runtime
        finally:
            # Shielded: when the transport cancels the server, its connections still close.
            with anyio.CancelScope(shield=True):
                if runtime.starting is not None:
                    # A client that leaves while the app loads does not wait for it: the load
                    # runs in a daemon thread, and nothing is opened before it is done.
                    runtime.starting.cancel()
                    await asyncio.gather(runtime.starting, return_exceptions=True)
                for task in background:
                    task.cancel()
                await asyncio.gather(*background, return_exceptions=True)
                if runtime.state is not None:
                    await runtime.state.aclose()

    async def on_list_tools(
        ctx: ServerRequestContext[Runtime], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        _no_cursor(params)
        return list_tools_result(listed)

    async def on_roots_list_changed(
        ctx: ServerRequestContext[Runtime], params: NotificationParams | None
    ) -> None:
        if settings is not None:
            await ctx.lifespan_context.roots_changed(ctx, settings, cwd)

    async def workspace_for(
        ctx: ServerRequestContext[Runtime], state: AppState, argument: str | None
    ) -> tuple[Workspace, Path | None]:
        """The workspace a call opens, and the folder it keeps to when that workspace is a
        project above the one configured (enclosing.py), else None."""
        assert settings is not None
        if not argument and (
            settings.workspace is not None or settings.claude_project_dir is not None
        ):
            path = resolve_workspace(settings, None, None, cwd, state.kept)  # env comes first
        else:
            # The client's roots come before the working directory, and bound the folders a
            # `workspace` argument may name.
            roots = await ctx.lifespan_context.client_roots(ctx)
            path = resolve_workspace(settings, argument, roots, cwd)
        try:
            opened, inside = answering(path)
            return await state.workspace(opened), inside
        except RootsMovedAway:  # between resolving the folder and opening it
            roots = await ctx.lifespan_context.client_roots(ctx)
            path = resolve_after_roots_moved(settings, argument, path, roots, cwd)
            opened, inside = answering(path)
            return await state.workspace(opened), inside

    async def on_call_tool(
        ctx: ServerRequestContext[Runtime], params: CallToolRequestParams
    ) -> CallToolResult | dict[str, Any]:
        started = time.perf_counter()
        result = await answer_tool_call(ctx, params)
        if logger.isEnabledFor(logging.DEBUG):  # `-v`: what each call came to, and its time
            logger.debug(
                "%s: %s in %.0f ms",
                clip(params.name),
                call_outcome(result),
                (time.perf_counter() - started) * 1000,
            )
        return result

    async def answer_tool_call(
        ctx: ServerRequestContext[Runtime], params: CallToolRequestParams
    ) -> CallToolResult | dict[str, Any]:
        spec = _find(params.name)
        if spec is None:
            names = ", ".join(listed.tool_name(s.shape) for s in TOOLS)
            return error_result(f"unknown tool {echo(params.name)}; this server has: {names}")
        runtime = ctx.lifespan_context
        state = await runtime.ready()
        if state is None:
            return error_result(config_error_text(runtime.config_error or "unknown error"))
        try:
            args = spec.args.model_validate(params.arguments or {})
        except ValidationError as exc:
            return error_result(argument_error(exc))
        ws: Workspace | None = None
        argument = getattr(args, "workspace", None)
        try:
            ws, inside = await workspace_for(ctx, state, argument)
            if inside is not None and not argument and "workspace" in type(args).model_fields:
                # kept to the configured folder, as if the call's `workspace` named it
                args = args.model_copy(update={"workspace": str(inside)})
        except WorkspaceError as exc:
            # A route can go without a workspace (no context, no memory), unless the caller
            # named one: a refused `workspace` is never ignored.
            if spec.needs_workspace or argument:
                return error_result(str(exc))
        except (DatabaseError, OSError) as exc:
            return error_result(f"cannot open the workspace's index: {exc}")
        if ws is None:
            return await run_tool(ctx, spec, state, ws, args)
        state.workspaces.hold(ws)  # not closed under the call if the client's roots change
        try:
            return await run_tool(ctx, spec, state, ws, args)
        finally:
            await state.workspaces.release(ws)

    async def run_tool(
        ctx: ServerRequestContext[Runtime],
        spec: ToolSpec,
        state: AppState,
        ws: Workspace | None,
        args: BaseModel,
    ) -> CallToolResult | dict[str, Any]:
        # Told to clients that show progress (none is sent when the call carried no token).
        wanted = bool(ctx.meta and ctx.meta.get("progress_token") is not None)
        notices = ProgressNotices(ctx.session.report_progress, wanted=wanted)
        if ws is not None and ws.index.building:
            await notices.send(*build_notice(ws.index.progress))
        line = turns.get(spec.underscore)
        client = ctx.session.client_params
        state.client = client_name = client.client_info.name if client is not None else ""
        try:
            async with (
                line.turn(notices.route_wait(line.limit)) if line else nullcontext(False)
            ) as waited:
                if waited:
                    await notices.send(f"{wire.SLOT_TAKEN}: routing now")
                out = await spec.handler(state, ws, args)
        except RouteFailure as failure:
            # Nothing could answer: a tool error, with the attempts and the full trace.
            return error_result(render(failure.result), failure.result.model_dump(mode="json"))
        except (InputError, ConfigError) as exc:  # bad references in arguments (unknown id, …)
            return error_result(str(exc))
        except Exception as exc:  # a bug or a broken environment: never shown as bad input
            return error_result(failure_text(spec.verb, ws.index.db_path if ws else None, exc))
        if isinstance(out, wire.RouteResult):  # its prompt where this client's model reads
            out = route_answer(out, client_name)
        return tool_result(out)

    async def on_list_resources(
        ctx: ServerRequestContext[Runtime], params: PaginatedRequestParams | None
    ) -> ListResourcesResult:
        _no_cursor(params)
        return ListResourcesResult(resources=[STATUS_RESOURCE])

    async def on_read_resource(
        ctx: ServerRequestContext[Runtime], params: ReadResourceRequestParams
    ) -> ReadResourceResult:
        if str(params.uri) != STATUS_URI:
            uri = clip(str(params.uri))  # a 1 MB URI is not sent back whole
            raise MCPError(RESOURCE_NOT_FOUND, f"no resource {uri}; OCP has {STATUS_URI}")
        state = await ctx.lifespan_context.ready()
        if state is None:
            raise MCPError(
                INVALID_PARAMS, config_error_text(ctx.lifespan_context.config_error or "")
            )
        # A failure is a JSON-RPC error with a code: the SDK sends any other exception's as 0.
        try:
            ws, _ = await workspace_for(ctx, state, None)  # the status is the project's
        except WorkspaceError as exc:
            raise MCPError(INVALID_PARAMS, str(exc)) from exc
        except (DatabaseError, OSError) as exc:  # its message names the database and why
            said = f"cannot open the workspace's index: {exc}"
            raise MCPError(INTERNAL_ERROR, clip(said, MAX_ERROR_CHARS)) from exc
        from ocp_server.status import index_report  # loaded with the app (see _load_app)

        watching = ws.watcher is not None and not ws.watcher.done()
        state.workspaces.hold(ws)
        try:
            report = await index_report(ws.index, watching=watching)
        except Exception as exc:  # a busy or damaged database, a bug
            said = failure_text(f"reading {STATUS_URI}", ws.index.db_path, exc)
            raise MCPError(INTERNAL_ERROR, clip(said, MAX_ERROR_CHARS)) from exc
        finally:
            await state.workspaces.release(ws)
        text = report.model_copy(update={"routing_error": state.routing_error}).model_dump_json()
        contents = [TextResourceContents(uri=STATUS_URI, mime_type="application/json", text=text)]
        return ReadResourceResult(contents=contents)

    with warnings.catch_warnings():
        # Roots are deprecated by the 2026-07-28 protocol, but today's clients still send them.
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        server = Server(
            SERVER_NAME,
            version=__version__,
            title="OCP",
            instructions=instructions(listed),
            lifespan=lifespan,
            on_list_tools=on_list_tools,
            on_list_resources=on_list_resources,
            on_read_resource=on_read_resource,
            on_roots_list_changed=on_roots_list_changed,
        )
    # A plain request handler, which may answer in the wire form (a dict; see tool_result)
    server.add_request_handler("tools/call", CallToolRequestParams, on_call_tool)
    # (matched by name: the class lives in a private module of the SDK)
    server.middleware = [
        _SpansWhenTraced(m) if type(m).__name__ == "OpenTelemetryMiddleware" else m
        for m in server.middleware
    ]
    # Innermost: the spans, when traced, still cover every call and see the named errors.
    server.middleware.append(ProtocolErrorsNamed())
    server.middleware.append(ToolCallsInWireForm(on_call_tool))
    return server


@dataclass(frozen=True, slots=True)
class _SpansWhenTraced:
    """The SDK's OpenTelemetry middleware, run only while a tracer provider takes its spans
    (`opentelemetry-instrument` installs one before the server starts; a host may later):
    without one each request's span goes nowhere, and costs 0.05 ms of the 0.7 a request
    spends outside the tools."""

    spans: ServerMiddleware[Any]

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
            return await call_next(ctx)
        return await self.spans(ctx, call_next)


def _no_cursor(params: PaginatedRequestParams | None) -> None:
    """Every list is one page: a cursor is one this server never gave (MCP: -32602)."""
    if params is not None and params.cursor:
        raise MCPError(
            INVALID_PARAMS,
            f"Invalid params: `params.cursor`: this server lists everything on one page and "
            f"gave no cursor (got {echo(params.cursor)})",
        )


def _load_app() -> type[AppState]:
    """The tools' implementation and everything it imports (the router, the index, numpy,
    tree-sitter): loaded once the server is up, so `initialize` does not wait for it."""
    with importing():
        import numpy.ma  # noqa: F401 - np.isin's first call imports it: 25-90 ms of a search

        import ocp_server.status  # noqa: F401 - the status resource's, loaded here too
        from ocp_server.app import AppState

    return AppState


async def _in_daemon_thread(fn: Callable[[], T]) -> T:
    """`fn()` in a daemon thread: unlike asyncio.to_thread's pool, one that never holds up
    the process's exit when the client leaves before it is done."""
    return await in_daemon_thread(fn, "ocp-load")


def _log_failure(task: asyncio.Task[Workspace]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("opening the workspace failed: %s", task.exception())


async def serve_stdio(settings: ServerSettings | None, config_error: str | None = None) -> None:
    """Serve until the client leaves (stdin closes); see ocp_server.stdio."""
    server = build_server(settings, config_error=config_error)
    async with hardened_stdio() as (read, write):
        read, write = unique_request_ids(read, write)
        read_ahead.install()  # no relay task between the stream and the SDK's dispatcher
        await server.run(read, write, server.create_initialization_options())
