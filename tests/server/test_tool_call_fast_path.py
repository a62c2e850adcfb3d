"""`tools/call` on a handshake-era connection is answered with the tool's wire form as it is,
without the SDK's second dump of it (tool_answers.ToolCallsInWireForm): the bytes a client reads
must be the ones the SDK's own path writes, on every protocol version, for answers and for
every kind of error."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import mcp_types.methods
import mcp_types.version as versions
import pytest
from mcp.server.lowlevel.server import Server
from mcp.shared.message import SessionMessage

import ocp_wire as wire
from ocp_server import tool_answers
from ocp_server.jsonrpc_line import check_line, encode_message
from ocp_server.server import build_server
from ocp_server.settings import ServerSettings

Ask = Callable[[dict[str, Any]], Awaitable[bytes]]

CALLS: tuple[dict[str, Any], ...] = (
    {"name": wire.SEARCH.name, "arguments": {"query": "verify token", "k": 5}},
    {"name": wire.SEARCH.verb, "arguments": {"query": "billing total"}},  # the dotted name
    {"name": wire.RESTORE.name, "arguments": {}},  # a model's answer, not a search's
    {"name": wire.SEARCH.name, "arguments": {"query": "x", "k": "many"}},  # names the field
    {"name": wire.SEARCH.name, "arguments": {"query": "x", "surprise": 1}},
    {"name": "ocp_nothing", "arguments": {}},  # unknown tool
    {"name": 5, "arguments": {}},  # not a tools/call: the SDK's INVALID_PARAMS
    {"arguments": {}},
)


@asynccontextmanager
async def connection(server: Server[Any]) -> AsyncIterator[Ask]:
    """`server` over in-memory streams; `ask` sends one message and returns the bytes of
    its answer as stdio writes them (b"" for a notification)."""
    to_server, server_in = anyio.create_memory_object_stream[SessionMessage | Exception](16)
    server_out, from_server = anyio.create_memory_object_stream[SessionMessage](16)

    async def ask(message: dict[str, Any]) -> bytes:
        parsed = check_line(json.dumps(message).encode())
        await to_server.send(SessionMessage(parsed))  # type: ignore[arg-type]
        if "id" not in message:
            return b""
        while True:
            answer = (await from_server.receive()).message
            if getattr(answer, "id", None) == message["id"]:
                return encode_message(answer)

    async with to_server, from_server, anyio.create_task_group() as tg:
        tg.start_soon(server.run, server_in, server_out, server.create_initialization_options())
        yield ask
        to_server.close()  # the client leaves: the server ends


#: When the index last completed an update: the watcher's catch-up update, once it is armed
#: after the first build, may stamp it between the two answers compared.
_LAST_UPDATE = re.compile(rb'"last_update":"[^"]*"')


def _untimed(answer: bytes) -> bytes:
    return _LAST_UPDATE.sub(b'"last_update":"-"', answer)


def call(request_id: int, params: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


@pytest.mark.parametrize("version", versions.HANDSHAKE_PROTOCOL_VERSIONS)
async def test_tool_calls_answer_the_bytes_the_sdks_own_path_answers(
    version: str, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCP_OLLAMA_URL", "http://127.0.0.1:9")
    server = build_server(ServerSettings(workspace=workspace, db_path=workspace.parent / "ocp.db"))
    fast = [m for m in server.middleware if isinstance(m, tool_answers.ToolCallsInWireForm)]
    assert len(fast) == 1 and server.middleware[-1] is fast[0]  # innermost: inside the spans
    sdk_only = server.middleware[:-1]
    sdk_dumps = 0
    sdk_dump = mcp_types.methods.serialize_server_result

    def counted(*args: Any, **kwargs: Any) -> dict[str, Any]:
        nonlocal sdk_dumps
        sdk_dumps += 1
        return sdk_dump(*args, **kwargs)

    monkeypatch.setattr(mcp_types.methods, "serialize_server_result", counted)

    async def both(ask: Ask, message: dict[str, Any]) -> tuple[bytes, bytes]:
        server.middleware = [*sdk_only, *fast]
        ours = await ask(message)
        server.middleware = list(sdk_only)
        return ours, await ask(message)

    with anyio.fail_after(60):
        async with connection(server) as ask:
            # Before `initialize` the SDK answers (its gate), with or without the fast path.
            ours, sdks = await both(ask, call(1, CALLS[0]))
            assert ours == sdks and b"error" in ours
            client = {"name": "t", "version": "1"}
            init = {"protocolVersion": version, "capabilities": {}, "clientInfo": client}
            initialize = {"jsonrpc": "2.0", "id": 2, "method": "initialize", "params": init}
            initialized = await ask(initialize)
            assert json.loads(initialized)["result"]["protocolVersion"] == version
            await ask({"jsonrpc": "2.0", "method": "notifications/initialized"})
            while json.loads(await ask(call(3, CALLS[0])))["result"]["structuredContent"]["index"][
                "building"
            ]:
                await anyio.sleep(0.05)  # the first index: answers change until it is built
            tool_answers._wire_order(version)
            for i, params in enumerate(CALLS, start=10):
                server.middleware = [*sdk_only, *fast]
                before = sdk_dumps
                ours = await ask(call(i, params))
                answered = json.loads(ours).get("result", {})
                if "structuredContent" in answered and not answered.get("isError"):
                    assert sdk_dumps == before  # a tool's answer: no second dump
                server.middleware = list(sdk_only)
                theirs = await ask(call(i, params))
                assert _untimed(ours) == _untimed(theirs), params
