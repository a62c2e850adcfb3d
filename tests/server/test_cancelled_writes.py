"""A call cancelled while its write waits for another process's lock (a second IDE window
writing, and the client giving up on the call) leaves no transaction behind. aiosqlite runs a
statement in its connection's thread whatever happens to the caller: a BEGIN that went through
after its caller had left kept the write lock, and every later write on that connection
failed ("cannot start a transaction within a transaction")."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

import ocp_wire as wire
from ocp_server.app import AppState
from tests.server.app_fixture import opened
from tests.server.held import held


@pytest.mark.parametrize("writer", ["memory", "index"])
async def test_a_write_cancelled_while_another_process_writes_leaves_no_transaction_open(
    app: AppState, workspace: Path, monkeypatch: pytest.MonkeyPatch, writer: str
) -> None:
    ws = await opened(app, workspace)
    db = ws.memory.db if writer == "memory" else ws.index.db
    await db.execute("PRAGMA busy_timeout = 60000")  # its BEGIN outwaits the other process

    def write() -> Awaitable[Any]:
        if writer == "memory":
            return app.save(ws, wire.SaveArgs(notes=["the deploy runs at 2am"]))
        (workspace / "src" / "later.py").write_text("def later():\n    pass\n")
        return ws.index.update()

    begun = asyncio.Event()
    execute: Callable[..., Any] = db.execute

    def noticed(sql: str, *args: Any) -> Any:
        if sql.startswith("BEGIN"):
            begun.set()
        return execute(sql, *args)

    scope = anyio.CancelScope()

    async def call() -> None:
        with scope:  # as the MCP SDK runs a call, which the client may cancel
            await write()

    async with held(workspace.parent / "ocp.db", "write"):
        monkeypatch.setattr(db, "execute", noticed)
        task = asyncio.create_task(call())
        await begun.wait()  # its BEGIN waits for the other process's lock
        monkeypatch.undo()
        scope.cancel()  # delivered at once: the caller stops waiting for its BEGIN
    await task
    await write()  # the next write goes through
    assert not db.in_transaction
