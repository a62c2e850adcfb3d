"""Memory stores for tests (a pytest plugin, see tests/conftest.py): `db`, a fresh database;
`store`, a memory on it with no workspace; `indexed_store`, a memory beside the test
workspace, indexed as it is, whose citations resolve. A module that needs another (a clock,
a TTL) defines its own under the same name. `database_before` is a database an older OCP
left, for a migration's test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from ocp_server.db import connect
from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.memory import MemoryStore
from ocp_server.migrations import (
    MIGRATIONS,
    Migration,
    m047_traces_by_upstream_id,
    m049_traces_effort,
    migrate,
)

# The later migrations a migration's absence leaves out too: they build on what it made.
_NEEDS: dict[str, tuple[Migration, ...]] = {
    "m038_traces_proxied": (m047_traces_by_upstream_id, m049_traces_effort),
}


async def database_before(path: Path, migration: Migration) -> aiosqlite.Connection:
    """A database at `path` as written before `migration`: every other one applied (but
    those after it that need it: m047's index and m049's fill need m038's column), session
    's' in it; opened plain (not `connect`, which would migrate it)."""
    old = await aiosqlite.connect(path, isolation_level=None)
    needs = _NEEDS.get(migration.__name__, ())
    await migrate(old, tuple(m for m in MIGRATIONS if m is not migration and m not in needs))
    await old.execute("INSERT INTO sessions (id, workspace, started_at) VALUES ('s', '/ws', 1.0)")
    return old


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    conn = await connect(tmp_path / ".ocp" / "ocp.db")
    yield conn
    await conn.close()


@pytest.fixture
def store(db: aiosqlite.Connection) -> MemoryStore:
    return MemoryStore(db)


@pytest.fixture
async def indexed_store(workspace: Path) -> AsyncIterator[MemoryStore]:
    index = await WorkspaceIndex.open(workspace, workspace.parent / "ocp.db")
    await index.update()
    conn = await connect(workspace.parent / "ocp.db")
    yield MemoryStore(conn, workspace=workspace)
    await conn.close()
    await index.close()
