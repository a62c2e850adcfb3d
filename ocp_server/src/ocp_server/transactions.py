"""Starting a transaction on an aiosqlite connection whose caller may be cancelled.

aiosqlite runs each statement in its connection's thread, whatever happens to the coroutine
awaiting it. A caller cancelled while its BEGIN waits for the write lock (another process
writing, for up to the busy timeout) leaves at once, and the BEGIN goes through later behind
its back: the transaction stays open, holding the write lock from every other process, and
each later BEGIN on the connection fails ("cannot start a transaction within a transaction").
"""

from __future__ import annotations

import contextlib
import sqlite3

import aiosqlite
import anyio

from ocp_server.schema import check_writable


async def begin(db: aiosqlite.Connection, statement: str = "BEGIN IMMEDIATE") -> None:
    """Run `statement` (a BEGIN). Cancelled meanwhile, it ends the transaction the BEGIN may
    still open before the cancellation goes on. A write transaction (anything but a plain
    BEGIN) on a database a newer OCP migrated is ended and refused (schema.py)."""
    try:
        await db.execute(statement)
    except sqlite3.Error:
        raise  # it did not begin
    except BaseException:
        # Queued behind the BEGIN (the thread runs them in order), so it runs once that has.
        with anyio.CancelScope(shield=True), contextlib.suppress(sqlite3.Error):
            await db.execute("ROLLBACK")  # an error: the BEGIN failed, nothing to end
        raise
    if statement.strip().upper() == "BEGIN":
        return  # a read: the version matters to what is written
    try:
        await check_writable(db)
    except BaseException:
        with anyio.CancelScope(shield=True), contextlib.suppress(sqlite3.Error):
            await db.execute("ROLLBACK")
        raise


async def rollback(db: aiosqlite.Connection) -> None:
    """End the open transaction, if SQLite has not already: after some errors (a disk found
    full at COMMIT, an I/O error) it rolls back by itself, and a ROLLBACK then would raise
    "no transaction is active" in place of the error that says what went wrong."""
    if db.in_transaction:
        await db.execute("ROLLBACK")
