"""The retrieval benchmark's corpora for the ranker scripts: where they are, unpacked once into
a cache, and indexed with their history in a throwaway database."""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from ocp_server.index.history import Commit, store_history
from ocp_server.index.lexical import Snapshot
from ocp_server.index.workspace import WorkspaceIndex

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench" / "retrieval"
# Where the corpora are unpacked (the default of every script's --cache).
CORPUS_CACHE = Path.home() / ".cache" / "ocp-bench" / "ranker-corpora"


def corpus_root(entry: dict[str, object], cache: Path) -> Path:
    """The corpus of a manifest entry, unpacked below `cache` the first time."""
    name = str(entry["name"])
    root = cache / name
    if not root.exists():
        cache.mkdir(parents=True, exist_ok=True)
        with tarfile.open(BENCH / "corpora" / f"{name}.tar.gz") as tar:
            tar.extractall(cache / f".{name}.tmp", filter="data")
        inner = next((cache / f".{name}.tmp").iterdir())
        inner.rename(root)
    return root


@asynccontextmanager
async def indexed_with_history(root: Path, commits: list[Commit]) -> AsyncIterator[WorkspaceIndex]:
    """`root` indexed in a throwaway database, with `commits` stored as its history."""
    with tempfile.TemporaryDirectory() as tmp:
        index = await WorkspaceIndex.open(root, Path(tmp) / "ocp.db", history_commits=0)
        try:
            await index.update()
            await index.db.execute("BEGIN IMMEDIATE")
            await store_history(index.db, commits)
            await index.db.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
            await index.db.execute("COMMIT")
            yield index
        finally:
            await index.close()


async def indexed_snapshot(root: Path, commits: list[Commit]) -> Snapshot:
    """The snapshot of `root` indexed with `commits` as its history."""
    async with indexed_with_history(root, commits) as index:
        return await index.snapshot()
