"""Fuzzing ocp-server through the real MCP client over stdio: hypothesis strategies for tool
calls (valid, mutated, oversized, unknown tools) and raw JSON-RPC lines, the oracle that says
which calls must be refused, and a client that runs in a background thread so hypothesis's
synchronous examples can drive it. Used by tests/server/test_fuzz_stdio.py (a few hundred
cases in every test run) and bench/soak.py (thousands, with a summary table)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, ValidationError

import ocp_wire as wire
from ocp_client import OCPClient
from ocp_router import PayloadError, parse_payload
from ocp_server.tool_table import TOOLS, ToolSpec

TOOL_NAMES = [spec.underscore for spec in TOOLS] + [spec.verb for spec in TOOLS]
MAX_ERROR_TEXT = 2_100  # the server caps error texts at 2,000 characters plus a note
NO_SUCH_DECISION = 1_000_000  # ids from here on are more than any fuzzing run saves

# ---- values -----------------------------------------------------------------------------------
_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=60)
_words = st.lists(
    st.sampled_from(
        "verify token session rotate explain refactor auth across all files why deadlock "
        "design architecture security fix bug the in of src/auth.py verify_token <context> "
        "</context> <task> ``` \n \t".split(" ")
    ),
    min_size=1,
    max_size=20,
).map(" ".join)
_prose = st.one_of(_words, _text.filter(lambda s: s.strip()))
_json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    _text,
)
_json = st.recursive(
    _json_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=4)),
    max_leaves=12,
)


def _oversized(limit: int) -> st.SearchStrategy[str]:
    return st.integers(min_value=limit + 1, max_value=limit + 50).map(lambda n: "x" * n)


_message = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system"]), "content": _prose}
)
_block_message = st.fixed_dictionaries(
    {
        "role": st.just("user"),
        "content": st.lists(
            st.one_of(
                st.fixed_dictionaries({"type": st.just("text"), "text": _prose}),
                st.fixed_dictionaries(
                    {"type": st.just("tool_result"), "tool_use_id": _text, "content": _text}
                ),
            ),
            min_size=1,
            max_size=3,
        ),
    }
)

VALID: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "ocp_context_search": st.fixed_dictionaries(
        {"query": _prose},
        optional={
            "k": st.integers(1, 50),
            "path_glob": st.sampled_from(["src/**", "*.py", "web/*", "nothing/*"]),
            "language": st.sampled_from(["python", "typescript", "go"]),
            "max_tokens": st.integers(100, 50_000),
        },
    ),
    "ocp_session_restore": st.fixed_dictionaries(
        {},
        optional={
            "query": _prose,
            "max_tokens": st.integers(300, 20_000),
            "stale": st.sampled_from(["list", "count"]),
            # ids the saves made (shown), and ones no save can have made (refused)
            "decision": st.one_of(
                st.integers(1, 40), st.integers(NO_SUCH_DECISION, wire.MAX_DB_ID)
            ),
        },
    ),
    "ocp_model_route": st.one_of(
        st.fixed_dictionaries(
            {"request": _prose},
            optional={
                "system": _prose,
                "force": st.sampled_from(["local", "mid", "top", "paid"]),
                "dry_run": st.booleans(),
                "max_context_tokens": st.integers(0, 100_000),
                "session_id": st.text("abcdef0123456789", min_size=1, max_size=40),
            },
        ),
        st.fixed_dictionaries(
            {"messages": st.lists(st.one_of(_message, _block_message), min_size=1, max_size=5)},
            optional={
                "tools": st.lists(
                    st.fixed_dictionaries({"name": _text, "description": _text}), max_size=3
                ),
                "dry_run": st.booleans(),
            },
        ),
    ),
    "ocp_result_save": st.fixed_dictionaries(
        {},
        optional={
            "summary": _prose,
            "decisions": st.lists(
                st.fixed_dictionaries(
                    {"title": _prose, "decision": _prose}, optional={"rationale": _prose}
                ),
                max_size=3,
            ),
            "state": st.dictionaries(_words, _text, max_size=5),
            "notes": st.lists(_text, max_size=3),
            "open_items": st.lists(_text, max_size=3),
            "outcome": _prose,
        },
    ),
}
_LIMITS = {  # a field of each tool, and a size just beyond its limit
    "ocp_context_search": ("query", 20_000),
    "ocp_session_restore": ("query", 5_000),
    "ocp_model_route": ("request", 400_000),
    "ocp_result_save": ("summary", 20_000),
}


@st.composite
def _mutated(draw: st.DrawFn, tool: str) -> dict[str, Any]:
    args = dict(draw(VALID[tool]))
    kind = draw(st.sampled_from(["drop", "extra", "retype", "oversize", "workspace", "ids"]))
    if kind == "drop" and args:
        args.pop(draw(st.sampled_from(sorted(args))))
    elif kind == "extra":
        args[draw(_text)] = draw(_json)
    elif kind == "retype":
        name = draw(st.sampled_from(sorted(args) or ["query"]))
        args[name] = draw(_json)
    elif kind == "oversize":
        name, limit = _LIMITS[tool]
        args[name] = draw(_oversized(limit))
    elif kind == "workspace":
        args["workspace"] = draw(st.sampled_from(["relative/path", "/no/such/folder", "", "~"]))
    else:
        args["trace_id"] = draw(st.sampled_from(["nope", "0" * 8, "f" * 32]))
        args["decisions"] = [{"title": "t", "decision": "d", "supersedes": 999_999}]
    return args


@dataclass(frozen=True)
class Case:
    tool: str
    arguments: dict[str, Any]

    @property
    def spec(self) -> ToolSpec | None:
        return next((s for s in TOOLS if self.tool in (s.verb, s.underscore)), None)


@st.composite
def tool_calls(draw: st.DrawFn) -> Case:
    """A tool call: mostly valid or mutated arguments for a real tool, sometimes nonsense."""
    choice = draw(st.integers(0, 19))
    if choice == 0:
        return Case(draw(_text), draw(st.dictionaries(_text, _json, max_size=3)))
    tool = draw(st.sampled_from(sorted(VALID)))
    name = tool.replace("_", ".") if draw(st.booleans()) and choice % 5 == 0 else tool
    args = draw(VALID[tool]) if choice % 2 else draw(_mutated(tool))
    return Case(name, args)


def must_refuse(case: Case) -> bool:
    """Whether the server must answer this call with a tool error: an unknown tool, arguments
    its schema rejects, a conversation no provider accepts, or a reference to nothing."""
    spec = case.spec
    if spec is None:
        return True
    try:
        args = spec.args.model_validate(case.arguments)
    except ValidationError:
        return True
    if isinstance(args, wire.RouteArgs) and args.messages is not None:
        try:
            parse_payload(args.messages, system=args.system, tools=args.tools)
        except PayloadError:
            return True
    if isinstance(args, wire.RestoreArgs) and args.answer_of is None:
        if args.decision is not None and args.decision >= NO_SUCH_DECISION:
            return True
    if isinstance(args, wire.SaveArgs):
        if args.trace_id is not None or any(d.supersedes for d in args.decisions):
            return True
    workspace = getattr(args, "workspace", None)
    if not workspace:
        return False
    path = Path(workspace).expanduser()
    return not (path.is_absolute() and path.is_dir())


# ---- raw JSON-RPC lines -----------------------------------------------------------------------
_request_id = st.one_of(st.integers(-(2**40), 2**40), st.text("abc123", min_size=1, max_size=8))


ANY_ID = "any id"  # a parse error: its id is recovered when it can be, else null
NO_ANSWER = "no answer"  # a notification or a response: nothing may answer it


@st.composite
def raw_lines(draw: st.DrawFn) -> tuple[bytes, Any]:
    """A line for the server's stdin, and the id its answer must carry (or ANY_ID, or
    NO_ANSWER)."""
    rid = draw(_request_id)
    kind = draw(st.integers(0, 7))
    if kind == 0:  # garbage bytes
        return draw(st.binary(min_size=1, max_size=200)).replace(b"\n", b" ") + b"x", ANY_ID
    if kind == 1:  # valid JSON, not an object
        value = draw(st.one_of(_json_scalar, st.lists(_json, max_size=3)))
        return json.dumps(value).encode(), None
    if kind == 2:  # a request with a bad member
        bad = draw(st.sampled_from(["jsonrpc", "method", "params"]))
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": "tools/list"}
        message[bad] = draw(st.one_of(st.integers(), st.lists(st.integers(), max_size=2)))
        return json.dumps(message).encode(), rid
    if kind == 3:  # a tool call with junk arguments
        message = {
            "jsonrpc": "2.0",
            "id": rid,
            "method": "tools/call",
            "params": {"name": draw(st.sampled_from(TOOL_NAMES)), "arguments": draw(_json)},
        }
        return json.dumps(message).encode(), rid
    if kind == 4:  # truncated
        message = {"jsonrpc": "2.0", "id": rid, "method": "tools/list"}
        text = json.dumps(message).encode()
        return text[: draw(st.integers(1, len(text) - 1))], ANY_ID
    if kind == 5:  # an unknown method
        return json.dumps({"jsonrpc": "2.0", "id": rid, "method": draw(_text)}).encode(), rid
    if kind == 6:  # a notification or a response: never answered
        message = draw(
            st.sampled_from(
                [
                    {"jsonrpc": "2.0", "method": "notifications/whatever"},
                    {"jsonrpc": "2.0", "id": rid, "result": {}},
                ]
            )
        )
        return json.dumps(message).encode(), NO_ANSWER
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": "ping"}).encode(), rid


# ---- a client driven from synchronous code ----------------------------------------------------
def text_of(result: CallToolResult) -> str:
    return " ".join(c.text for c in result.content if isinstance(c, TextContent))


class ServerGone(RuntimeError):
    """The server process ended or stopped answering."""


@dataclass
class BackgroundClient:
    """OCPClient on its own event loop thread: `call` blocks until the answer, or raises
    TimeoutError (a hang) or ServerGone (a crash)."""

    env: Mapping[str, str] = field(repr=False)
    cwd: Path | None = None
    _loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    _client: OCPClient | None = field(default=None, repr=False)
    _ready: threading.Event = field(default_factory=threading.Event, repr=False)
    _stop: asyncio.Event | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _error: BaseException | None = None

    def __enter__(self) -> BackgroundClient:
        self._thread = threading.Thread(target=self._run, name="fuzz client", daemon=True)
        self._thread.start()
        if not self._ready.wait(90) or self._client is None:
            raise ServerGone(f"the server did not start: {self._error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(30)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            async with OCPClient(env=dict(self.env), cwd=self.cwd, timeout=60) as client:
                self._client = client
                self._ready.set()
                await self._stop.wait()
        except BaseException as exc:  # noqa: BLE001 - reported to the caller
            self._error = exc
            self._ready.set()

    def call(self, name: str, arguments: Mapping[str, Any], timeout: float) -> CallToolResult:
        assert self._loop is not None and self._client is not None
        if self._error is not None or not self._thread or not self._thread.is_alive():
            raise ServerGone(repr(self._error))
        future = asyncio.run_coroutine_threadsafe(
            self._client.call(name, dict(arguments)), self._loop
        )
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise TimeoutError(f"{name} gave no answer within {timeout}s") from None
        except Exception as exc:  # noqa: BLE001 - the session broke: the server is gone
            raise ServerGone(f"{type(exc).__name__}: {exc}") from exc


def check_answer(case: Case, result: CallToolResult) -> str | None:
    """What is wrong with the server's answer to `case`, or None."""
    refuse = must_refuse(case)
    if refuse and not result.is_error:
        return "a non-error answer to invalid input"
    if result.is_error:
        if len(text_of(result)) > MAX_ERROR_TEXT:
            return f"an error text of {len(text_of(result)):,} characters"
        return None
    spec = case.spec
    assert spec is not None
    try:
        output: BaseModel = spec.output.model_validate(result.structured_content)
    except ValidationError as exc:
        return f"structured content that does not match the output schema: {exc}"
    if isinstance(output, wire.RestoreResult):
        return _decision_shown(case, output)
    return None if output is not None else "no structured content"


def _decision_shown(case: Case, out: wire.RestoreResult) -> str | None:
    """A restore asking for one decision by id shows that one alone, as the brief's first
    item (active or stale, whatever the stale policy and budget), or refuses."""
    assert case.spec is not None
    args = case.spec.args.model_validate(case.arguments)
    if not isinstance(args, wire.RestoreArgs) or args.decision is None or args.answer_of:
        return None
    shown = [d.id for d in out.decisions] + [s.id for s in out.stale if s.kind == "decision"]
    if shown != [args.decision]:
        return f"decision {args.decision} asked for; shown: {shown}"
    if out.notes or out.state or out.open_items or out.omitted or "left out" in out.brief:
        return f"decision {args.decision} asked for; more shown or left out: {out.brief!r}"
    if "not listed" in out.brief:  # the one asked for is listed, stale or not
        return f"decision {args.decision} asked for; the brief counts one as not listed"
    return None
