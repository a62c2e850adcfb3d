"""The schema version of OCP's database, and what an older server does once it is passed.

`PRAGMA user_version` holds how many of the migrations in `migrations.MIGRATIONS` have run on
the database (a shipped migration keeps its place in that list, so the count is a version).
Two servers of different versions may share one database (two MCP clients, one updated). The
newer one migrates it on opening, and the older one, still running, would go on writing as
its own schema did: chunks without the names m019 and m021 added, which the newer one's
lookups then miss, and traces, notes and session ids unredacted that m022-m024 redacted. So
every write transaction first reads the version, under the write lock it has just taken: past
what this code knows, the transaction is ended and the write refused with what to do. A server
that opens such a database refuses it at once (claiming it for its workspace is a write); one
that was running when it moved on goes on reading (search, restore) and refuses to write (a
route's answer still comes back, unrecorded, saying so).
"""

from __future__ import annotations

import aiosqlite

from ocp_server.errors import DatabaseError

#: The migrations this code knows (a test keeps it equal to `len(migrations.MIGRATIONS)`).
SCHEMA_VERSION = 46


class SchemaTooNew(DatabaseError):
    """The database was migrated by a newer OCP than this one: this one must not write it."""

    def __init__(self, found: int, path: str) -> None:
        where = f" at {path}" if path else ""
        super().__init__(
            f"the OCP database{where} was migrated by a newer ocp-server (schema version "
            f"{found}; this server knows {SCHEMA_VERSION}), so this older server no longer "
            "writes to it: what it would write the newer one cannot read right. Restart the "
            "MCP client (or this server) so that it runs the newer ocp-server, and run the same "
            "version in every client sharing the workspace."
        )
        self.found = found


async def stored_version(db: aiosqlite.Connection) -> int:
    ((version,),) = await db.execute_fetchall("PRAGMA user_version")
    return int(version)


async def check_writable(db: aiosqlite.Connection) -> None:
    """Raise SchemaTooNew when a newer OCP migrated the database past this code's schema.
    Call it inside the write transaction, where the version read is the one being written."""
    found = await stored_version(db)
    if found > SCHEMA_VERSION:
        rows = await db.execute_fetchall("PRAGMA database_list")
        path = next((str(r[2]) for r in rows if r[1] == "main"), "")
        raise SchemaTooNew(found, path)
