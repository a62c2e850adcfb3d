"""ocp-server started over stdio on a test workspace, with the fake Ollama as its local model:
the environment it is given, and a wait until its first index build answers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import ocp_wire as wire
from ocp_client import OCPClient
from tests.fakes import FakeOllama


def server_env(
    workspace: Path, ollama: FakeOllama, *, db_path: Path | None = None, **extra: str
) -> dict[str, str]:
    """The server's settings: `workspace`, its database next to it (`ocp.db` unless
    `db_path`, which windows sharing one database name), `ollama` as the local model, and
    `extra` settings."""
    return {
        "OCP_WORKSPACE": str(workspace),
        "OCP_OLLAMA_URL": ollama.url,
        "OCP_DB_PATH": str(db_path or workspace.parent / "ocp.db"),
        **extra,
    }


async def wait_for_index(client: OCPClient, query: str) -> wire.SearchResult:
    """The first answer to `query` that finds something once the build is over (30 s)."""
    async with asyncio.timeout(30):
        while True:
            result = await client.search(query)
            if result.results and not result.index.building:
                return result
            await asyncio.sleep(0.2)
