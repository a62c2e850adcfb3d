"""OCPClient: starts `ocp-server` (or any command) over stdio and calls the four tools.

    async with OCPClient(env={"OCP_WORKSPACE": "/path/to/repo"}) as ocp:
        hits = await ocp.search("verify token")
        result = await ocp.route("why do two workers process the same job?")

Tool names, argument names and result models come from the wire models (ocp_wire), which the
server declares too: the client needs them, not the server. Without a `command` it starts the
ocp-server installed next to this interpreter, or the one on PATH. The server's environment is
the MCP SDK's short safe list, the OCP_* settings and provider keys of ours, then `env`
(environment.py says which and why).
"""

from __future__ import annotations

import asyncio
import importlib.util
import math
import os
import shlex
import shutil
import sys
import warnings
import weakref
from collections.abc import Awaitable, Mapping, Sequence
from contextlib import suppress
from typing import Any, Literal, Self, TypeVar

from mcp import ClientSession, StdioServerParameters
from mcp.shared.exceptions import MCPError
from mcp.types import (
    CONNECTION_CLOSED,
    REQUEST_TIMEOUT,
    CallToolResult,
    TextContent,
    TextResourceContents,
    Tool,
)
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError, to_json

import ocp_wire as wire
from ocp_client import options
from ocp_client.environment import server_environment
from ocp_client.options import StrPath
from ocp_client.server_task import ServerExit, close_soon, serve
from ocp_client.stderr_tail import StderrTail
from ocp_router.closing import ClosesOnExit
from ocp_router.redact import redact
from ocp_router.tiers import Effort

R = TypeVar("R", bound=BaseModel)
T = TypeVar("T")


class OCPToolError(RuntimeError):
    """The server answered a tool call with an error; the message is the server's."""


class OCPServerError(RuntimeError):
    """The server process did not start, or stopped answering; the message names its command
    and ends with the last lines it wrote on stderr, secrets redacted."""


class OCPTimeoutError(OCPServerError):
    """The server did not answer a request within the client's `timeout`. Unlike a server
    that died, it may still be running (a slow first index, a slow model): a retry may work."""


DEFAULT_TIMEOUT = 120.0
# How long past its server's own bound (OCP_ROUTE_TIMEOUT) a route may take: parsing and the
# trace's write, the call's trip. (A wait for a route slot, OCP_ROUTE_CONCURRENCY, is not in it.)
ROUTE_SLACK = 10.0
# Without a `timeout` given, how long a route waiting for its slot may hear nothing of it: the
# server tells a waiting route its place every 10 s (turns.py), so six missed in a row.
LINE_SILENCE = 60.0
_ROUTE_NAMES = frozenset({wire.ROUTE.name, wire.ROUTE.verb})

# Each tool's result model by either of its names (the server answers to both).
_OUTPUTS: dict[str, type[BaseModel]] = {
    **{tool.verb: tool.result for tool in wire.TOOL_SHAPES},
    **{tool.name: tool.result for tool in wire.TOOL_SHAPES},
}


def _installed_server(args: Sequence[str]) -> tuple[str, list[str]]:
    """The ocp-server installed next to this interpreter, else the one on PATH. A folder named
    ocp_server where the script runs (an OCP checkout) is found as a namespace package, with
    no origin: not a server."""
    spec = importlib.util.find_spec("ocp_server")
    if spec is not None and spec.origin is not None:
        return sys.executable, ["-m", "ocp_server.cli", *args]
    found = shutil.which("ocp-server")
    if found is None:
        raise FileNotFoundError(
            "ocp-server is not installed next to ocp-client nor on PATH: "
            "`pip install ocp-client[server]`, or pass the command that starts it"
        )
    return found, list(args)


class _Session(ClientSession):
    """Checks OCP's structured results with the pydantic models their output schemas are
    generated from: the same verdict as the SDK's jsonschema check, at a fortieth of the
    cost (about 5 ms for a 2,000-token brief). Other tools keep the SDK's check."""

    async def validate_tool_result(self, name: str, result: CallToolResult) -> None:
        model = _OUTPUTS.get(name)
        if model is None:
            await super().validate_tool_result(name, result)
            return
        try:
            model.model_validate(result.structured_content)
        except ValidationError as exc:
            raise RuntimeError(
                f"Invalid structured content returned by tool {name}: {exc}"
            ) from exc


class OCPClient(ClosesOnExit):
    """An ocp-server over stdio: `async with OCPClient(...) as ocp:` starts it and stops it.

    One method per tool (`search`, `restore`, `route`, `save`) with typed results
    (`ocp_wire`), `run` for any tool by its shape, `call` for the raw result. A tool's error is
    an OCPToolError; a server that does not start, dies or does not answer within `timeout`
    is an OCPServerError (OCPTimeoutError for the last), naming its command."""

    def __init__(
        self,
        command: StrPath | None = None,
        args: Sequence[StrPath] = (),
        *,
        env: Mapping[str, str] | None = None,
        cwd: StrPath | None = None,
        timeout: float | None = None,
    ) -> None:
        """`timeout`: seconds to wait for any answer; by default 120, and a route as long as
        its server may take on one (OCP_ROUTE_TIMEOUT of the server's environment) when that is
        longer: cut short, the server cancels it, a paid call it was making included. A route's
        time counts from when it takes its route slot (OCP_ROUTE_CONCURRENCY): its wait in
        line is bounded by `timeout` when one is given, else only by the server's silence."""
        checked_args = options.command_args(args)
        if command is None:
            command, checked_args = _installed_server(checked_args)
        self._params = StdioServerParameters(
            command=options.program(command),
            args=checked_args,
            env=options.server_env(env),
            cwd=os.fspath(cwd) if cwd is not None else None,
        )
        self.timeout = options.timeout_seconds(DEFAULT_TIMEOUT if timeout is None else timeout)
        self._bound_routes = timeout is None
        self._route_bound = 0.0  # the server's bound on a route, plus slack; set when opened
        self._task: asyncio.Task[None] | None = None
        self._closing: asyncio.Event | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._session: ClientSession | None = None
        self._stderr: StderrTail | None = None
        self._exited: ServerExit | None = None  # how the open server's process ended

    @property
    def command_line(self) -> str:
        """The server's command as a shell would read it (the environment is not shown)."""
        return shlex.join([self._params.command, *self._params.args])

    async def __aenter__(self) -> Self:
        if self._task is not None:  # a second server would replace the first, left running
            raise RuntimeError("this OCPClient is already open; close it or make another")
        loop = asyncio.get_running_loop()
        stderr = StderrTail()
        opened: asyncio.Future[ClientSession] = loop.create_future()
        closing = asyncio.Event()
        # The task must not hold `self`: a client dropped open is collected, and closes it.
        # Our environment as it is now, as a subprocess would take it.
        env = server_environment(os.environ, self._params.env or {})
        params = self._params.model_copy(update={"env": env})
        self._route_bound = _route_bound(env) + ROUTE_SLACK if self._bound_routes else 0.0
        exited = ServerExit()
        serving = serve(_Session, params, self.timeout, stderr, opened, closing, exited)
        task = loop.create_task(serving, name=f"ocp-server session {self._params.command}")
        try:
            session = await opened
        except FileNotFoundError as exc:  # not started; the message names the command
            cwd = self._params.cwd
            if cwd is not None and not os.path.isdir(cwd):  # else read as the command missing
                said = (
                    f"cwd {os.fspath(cwd)!r} is not an existing folder (the server's working "
                    "folder, its workspace when OCP_WORKSPACE is unset)"
                )
                raise FileNotFoundError(exc.errno, said) from exc
            hint = options.split_hint(self._params.command)
            if not hint:
                raise
            said = f"{exc.strerror}: {self._params.command!r}{hint}"
            raise FileNotFoundError(exc.errno, said) from exc
        except OSError:  # not started; the message names the command
            raise
        except Exception as exc:
            timed_out = isinstance(exc, MCPError) and exc.code == REQUEST_TIMEOUT
            what = f"did not answer within {self.timeout:g} s" if timed_out else "did not start"
            raise await self._server_error(
                what, stderr, timed_out=timed_out, exited=exited
            ) from exc
        except BaseException:  # cancelled while starting: stop the server before going on
            task.cancel()
            with suppress(BaseException):  # cancelled again: the task goes on stopping it
                await asyncio.shield(task)
            raise
        self._task, self._closing, self._session, self._stderr = task, closing, session, stderr
        self._exited = exited
        self._finalizer = weakref.finalize(self, _dropped_open, loop, closing, self.command_line)
        return self

    async def _server_error(
        self,
        what: str,
        stderr: StderrTail,
        wait: float = 2.0,
        *,
        timed_out: bool = False,
        exited: ServerExit | None = None,
    ) -> OCPServerError:
        """`exited`: its process, to say how it ended (`exit status 1`) once it has."""
        loop = asyncio.get_running_loop()
        until = loop.time() + wait  # one wait for both: its last words and its end
        last = await stderr.last_lines(wait)
        ended = await exited.ended(until - loop.time()) if exited is not None else None
        status = f" ({ended})" if ended else ""
        stray = exited.not_mcp if exited is not None else None
        stdout = (
            f"; on stdout, which carries only MCP messages, it wrote: {stray!r}" if stray else ""
        )
        if last:
            said = f"{status}{stdout}; its stderr ended with:\n{last}"
        else:
            said = f" ({ended}; nothing on stderr)" if ended else " (nothing on stderr)"
            said += stdout
        # A message like this one is what an agent shows its model: a secret the server (or a
        # traceback before its logging was set up) wrote on stderr must not ride along.
        error = OCPTimeoutError if timed_out else OCPServerError
        return error(redact(f"ocp-server {what}: `{self.command_line}`{said}").text)

    async def aclose(self) -> None:
        """Stop the server of a client opened without `async with` (`await
        client.__aenter__()`); closing a closed client does nothing."""
        task, closing, finalizer = self._task, self._closing, self._finalizer
        self._task = self._closing = self._finalizer = self._session = self._stderr = None
        self._exited = None
        if task is None or closing is None or finalizer is None:
            return
        finalizer.detach()
        closing.set()
        # Shielded: a caller cancelled meanwhile leaves the task to finish stopping the server.
        await asyncio.shield(task)

    @property
    def session(self) -> ClientSession:
        if self._session is None:
            raise RuntimeError("use `async with OCPClient(...) as client:` first")
        return self._session

    async def _from_server(self, request: Awaitable[T], timeout: float | None = None) -> T:
        """A request's answer; a server gone meanwhile, or silent for `timeout` (by default
        the client's), is an OCPServerError saying which."""
        try:
            return await request
        except MCPError as exc:
            if self._stderr is None:  # closed meanwhile, from another task
                if exc.code == CONNECTION_CLOSED:
                    raise OCPServerError(
                        "the client was closed while a request to ocp-server was waiting for "
                        f"its answer: `{self.command_line}`"
                    ) from exc
                raise
            if exc.code == CONNECTION_CLOSED:
                raise await self._server_error(
                    "closed the connection", self._stderr, exited=self._exited
                ) from exc
            if exc.code == REQUEST_TIMEOUT:  # still running: its stderr has not ended
                what = f"did not answer within {timeout or self.timeout:g} s"
                raise await self._server_error(what, self._stderr, wait=0, timed_out=True) from exc
            raise

    async def list_tools(self) -> list[Tool]:
        return list((await self._from_server(self.session.list_tools())).tools)

    async def call(self, name: str, arguments: Mapping[str, Any]) -> CallToolResult:
        """Call a tool by name and return the raw result (errors are not raised). Arguments
        that cannot be sent as JSON are a TypeError naming the argument, before anything is
        sent."""
        sent = _json_arguments(name, arguments)
        if name in _ROUTE_NAMES:
            return await self._route(name, sent)
        return await self._from_server(
            self.session.call_tool(name, sent, read_timeout_seconds=self.timeout), self.timeout
        )

    async def _route(self, name: str, sent: dict[str, Any]) -> CallToolResult:
        """A route, timed from when it takes its route slot (the server's progress notice):
        waiting in line behind OCP_ROUTE_CONCURRENCY others is not the route being slow, and a
        route cut short is cancelled. The wait in line is bounded by a `timeout` given, else
        by the server's silence (LINE_SILENCE)."""
        session = self.session
        bounded = not self._bound_routes
        line = self.timeout if bounded else LINE_SILENCE
        clock = _RouteClock(self._timeout_for(name), line, bounded=bounded)
        try:
            async with asyncio.timeout(None) as clock.timer:
                clock.started()
                return await self._from_server(
                    session.call_tool(  # timed by `clock`, not by the session's own timeout
                        name,
                        sent,
                        read_timeout_seconds=math.inf,
                        progress_callback=clock.on_progress,
                    )
                )
        except TimeoutError as exc:
            if clock.timer is None or not clock.timer.expired():
                raise
            stderr = self._stderr or StderrTail()
            raise await self._server_error(clock.missed(), stderr, wait=0, timed_out=True) from exc

    def _timeout_for(self, tool: str) -> float:
        """`timeout`, or for a route what its server may take on one (from its route slot),
        when that is longer."""
        return max(self.timeout, self._route_bound) if tool in _ROUTE_NAMES else self.timeout

    async def run(self, shape: wire.ToolShape[Any, R], /, **arguments: Any) -> R:
        """Call one of OCP's tools by its shape (`ocp_wire.TOOL_SHAPES`), with the fields of its
        argument model as keywords, and return its typed result. Arguments that are None or
        the model's default are left out (the server fills them in); a name the model does not
        have is a TypeError before anything is sent. A tool error raises OCPToolError."""
        fields = shape.args.model_fields
        unknown = sorted(set(arguments) - set(fields))
        if unknown:
            raise TypeError(
                f"{shape.name} has no argument {', '.join(unknown)}; it takes {', '.join(fields)}"
            )
        sent = {}
        for name, value in arguments.items():
            plain = _plain(value)
            if plain is not None and plain != fields[name].get_default(call_default_factory=True):
                sent[name] = plain
        result = await self.call(shape.name, sent)
        if result.is_error:
            text = " ".join(c.text for c in result.content if isinstance(c, TextContent))
            raise OCPToolError(text)
        out = shape.result.model_validate(result.structured_content)
        if isinstance(out, wire.RestoreResult) and not out.brief:
            # The server sends the brief once, as the text block (its structured `brief` is
            # empty): the model has it where callers read it.
            text = "".join(c.text for c in result.content if isinstance(c, TextContent))
            return out.model_copy(update={"brief": text})
        if isinstance(out, wire.RouteResult) and "" in (out.answer, out.prompt):
            # The server sends a model's answer, or an enriched prompt, once: to this client,
            # as the text's last block (that structured field is empty).
            last = result.content[-1]
            if isinstance(last, TextContent):
                field = "answer" if out.answer == "" else "prompt"
                return out.model_copy(update={field: last.text})
        return out

    # One method per tool, named by the verb's last word (`ToolShape.method`). Each carries
    # exactly its argument model's fields, with the model's defaults, so editors and type
    # checkers see them; tests/test_client.py fails when the two part.
    async def search(
        self,
        query: str,
        *,
        k: int = wire.DEFAULT_SEARCH_RESULTS,
        path_glob: str | None = None,
        language: str | None = None,
        max_tokens: int | None = None,
        group_by: Literal["chunk", "file"] = "chunk",
        workspace: str | None = None,
    ) -> wire.SearchResult:
        """The most relevant code of the workspace, cited path:start-end; `group_by="file"`
        answers with the best files, each with its best chunks."""
        return await self.run(wire.SEARCH, **_given(locals()))

    async def restore(
        self,
        query: str | None = None,
        *,
        max_tokens: int = 2000,
        stale: Literal["list", "count"] = "list",
        workspace: str | None = None,
        answer_of: str | None = None,
        answer_from: int = 0,
        decision: int | None = None,
    ) -> wire.RestoreResult:
        """The brief of earlier sessions; `stale="count"` only counts memories whose cited
        code changed instead of listing them. `answer_of` (a route's trace id) with
        `answer_from` reads on in a model answer that was cut to fit the client instead.
        `decision`: that one decision alone, by id, a replaced one too (`replaces #12`)."""
        return await self.run(wire.RESTORE, **_given(locals()))

    async def route(
        self,
        request: str | None = None,
        *,
        messages: Sequence[Mapping[str, Any]] | None = None,
        system: str | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        force: Literal["local", "mid", "top", "paid"] | None = None,
        model: str | None = None,
        effort: Effort | None = None,
        session_id: str | None = None,
        max_context_tokens: int | None = None,
        dry_run: bool = False,
        workspace: str | None = None,
    ) -> wire.RouteResult:
        """Route a request, or a whole conversation (`messages` in OpenAI or Anthropic shape,
        with its `system` prompt and `tools`). `effort`: how much the local model thinks
        ("none" to "high"; default: the model's own)."""
        return await self.run(wire.ROUTE, **_given(locals()))

    async def index_status(self) -> wire.IndexReport:
        """The `ocp://index/status` resource: files, chunks, skips by reason, last update,
        watcher and build progress of the server's workspace. The server's error answer
        (its database cannot be opened, say) is an OCPToolError, as a tool's is."""
        try:
            result = await self._from_server(self.session.read_resource(wire.STATUS_URI))
        except MCPError as exc:  # the server's answer: gone or silent are OCPServerErrors
            raise OCPToolError(exc.message) from exc
        for content in result.contents:
            if isinstance(content, TextResourceContents):
                return wire.IndexReport.model_validate_json(content.text)
        raise OCPToolError(f"{wire.STATUS_URI} returned no text")

    async def save(
        self,
        *,
        trace_id: str | None = None,
        outcome: str | None = None,
        summary: str | None = None,
        decisions: Sequence[wire.DecisionArg] = (),
        state: Mapping[str, str] | None = None,
        notes: Sequence[str | wire.NoteArg] = (),
        open_items: Sequence[str] = (),
        resolve: Sequence[int] = (),
        forget_decisions: Sequence[int] = (),
        forget_notes: Sequence[int] = (),
        session_id: str | None = None,
        workspace: str | None = None,
    ) -> wire.SaveResult:
        """Save for the next session. Decisions and notes (`wire.NoteArg`) may cite code;
        `forget_*` retire memories by id."""
        return await self.run(wire.SAVE, **_given(locals()))


def _dropped_open(
    loop: asyncio.AbstractEventLoop, closing: asyncio.Event, command_line: str
) -> None:
    """A client collected while open: its server is stopped, and a ResourceWarning says so, as
    asyncio's does for an unclosed transport (stopped first: a warning turned into an error
    must not leave the server running)."""
    close_soon(loop, closing)
    warnings.warn(
        f"unclosed OCPClient running `{command_line}`: its server is stopped now; close the "
        "client with `async with OCPClient(...)` or `await client.aclose()`",
        ResourceWarning,
        stacklevel=2,
    )


def _given(arguments: dict[str, Any]) -> dict[str, Any]:
    """A tool method's own arguments (its `locals()` on entry), without `self`."""
    return {name: value for name, value in arguments.items() if name != "self"}


def _json_arguments(tool: str, arguments: object) -> dict[str, Any]:
    """`arguments` as a dict the SDK can send; what it could not send is named here (it said
    "'NoneType' object is not iterable", or pydantic's "Unable to serialize unknown type")."""
    if not isinstance(arguments, Mapping):
        raise TypeError(
            f"{tool}: arguments must be a mapping of argument names to values ({{}} for none), "
            f"got {type(arguments).__name__}"
        )
    for key, value in arguments.items():
        try:
            to_json(value)  # as UTF-8, as sent: a lone surrogate fails here, not in the SDK
        except PydanticSerializationError as exc:
            if "surrogates not allowed" in str(exc):
                raise TypeError(
                    f"{tool}: argument {key!r} cannot be sent as JSON: it holds a lone "
                    "surrogate, which is no Unicode character (text read with "
                    "errors='surrogateescape': decode it with errors='replace')"
                ) from None
            raise TypeError(
                f"{tool}: argument {key!r} cannot be sent as JSON ({exc}): expected str, int, "
                "float, bool, None, lists and dicts of them, or a pydantic model"
            ) from None
    return dict(arguments)


def _plain(value: Any) -> Any:
    """An argument as JSON values: models dumped (unset optional fields left out), mappings
    as dicts, sequences as lists."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(item) for item in value]
    return value


class _RouteClock:
    """One route's deadline: `run` seconds from its start, which is when it is sent or, when
    the server says it waits for a route slot, when the server says it took one. In line, the
    deadline is `line` seconds from the first notice of the wait when `bounded` (a `timeout`
    was given), else `line` seconds from the last notice (the server fell silent)."""

    def __init__(self, run: float, line: float, *, bounded: bool) -> None:
        self.run, self.line, self.bounded = run, line, bounded
        self.timer: asyncio.Timeout | None = None
        self.queued_at: float | None = None
        self.waiting: str | None = None  # the server's last word on the wait, while in line
        self.queued = False  # waited for a slot before routing

    def started(self) -> None:
        self._reschedule(self.run)

    def _reschedule(self, seconds: float, since: float | None = None) -> None:
        assert self.timer is not None
        loop = asyncio.get_running_loop()
        self.timer.reschedule((loop.time() if since is None else since) + seconds)

    async def on_progress(self, progress: float, total: float | None, message: str | None) -> None:
        if message is None or self.timer is None or self.timer.expired():
            return
        if message.startswith(wire.SLOT_WAITING):
            now = asyncio.get_running_loop().time()
            if self.queued_at is None:
                self.queued_at = now
            self.waiting, self.queued = message, True
            self._reschedule(self.line, self.queued_at if self.bounded else now)
        elif message.startswith(wire.SLOT_TAKEN):
            self.waiting = None
            self._reschedule(self.run)

    def missed(self) -> str:
        """What ran out, for the timeout's message."""
        if self.waiting is None:
            taken = " of taking its route slot" if self.queued else ""
            return f"did not answer within {self.run:g} s{taken}"
        if self.bounded:
            return f"gave a route no route slot within {self.line:g} s ({self.waiting})"
        return f"said nothing for {self.line:g} s of a route waiting in line ({self.waiting})"


def _route_bound(env: Mapping[str, str]) -> float:
    """OCP_ROUTE_TIMEOUT as the server reads `env` (its default: the classifier's, the local
    and twice the paid timeout); 0 when a setting is invalid (the server's tools say which)."""
    from ocp_router.config import RouterSettings  # the router's settings, when first opened
    from ocp_router.errors import ConfigError

    try:
        return RouterSettings.from_env(env).total_timeout
    except ConfigError:
        return 0.0
