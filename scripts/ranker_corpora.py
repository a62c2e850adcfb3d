"""The retrieval benchmark's corpora for the ranker scripts: where they are, unpacked once into
a cache, their history read from the git mirrors of their repositories, and indexed with it in
a throwaway database; the command line every measuring script shares."""

from __future__ import annotations

import argparse
import json
import tarfile
import tempfile
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from ocp_server.index.history import (
    DEFAULT_HISTORY_COMMITS,
    Commit,
    read_history,
    store_history,
)
from ocp_server.index.lexical import Snapshot
from ocp_server.index.workspace import WorkspaceIndex

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench" / "retrieval"
# Where the corpora are unpacked (the default of every script's --cache).
CORPUS_CACHE = Path.home() / ".cache" / "ocp-bench" / "ranker-corpora"
# Bare clones of the corpora's repositories, <owner>+<name>/repo, for their history (the
# default of every script's --mirrors).
MIRRORS = ROOT.parent / ".mirror"


def manifest_corpora() -> list[dict[str, Any]]:
    """The benchmark's corpora, as its manifest lists them."""
    corpora: list[dict[str, Any]] = json.loads((BENCH / "manifest.json").read_text("utf-8"))[
        "corpora"
    ]
    return corpora


def mirror_repo(entry: Mapping[str, object], mirrors: Path) -> Path:
    """The git mirror of a manifest entry's repository, below `mirrors`."""
    name = str(entry["repository"]).removeprefix("github.com/").replace("/", "+")
    return mirrors / name / "repo"


def corpus_history(entry: Mapping[str, object], mirrors: Path) -> list[Commit]:
    """A corpus's history as the index reads it: its newest commits up to its snapshot."""
    return read_history(
        mirror_repo(entry, mirrors), DEFAULT_HISTORY_COMMITS, rev=str(entry["snapshot"])
    )


def corpus_parser(
    doc: str | None, variants: Iterable[str] | None = None, *, mirrors: bool = True
) -> argparse.ArgumentParser:
    """A measuring script's command line: described by its docstring's first line, the
    `variants` it compares (none named: all) when it has any, where the corpora are unpacked
    (--cache) and, when it reads their history, where their repositories are (--mirrors)."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n")[0])
    if variants is not None:
        parser.add_argument("variants", nargs="*", choices=[[], *variants], default=[])
    parser.add_argument(
        "--cache", type=Path, default=CORPUS_CACHE, help="where the corpora are unpacked"
    )
    if mirrors:
        parser.add_argument(
            "--mirrors",
            type=Path,
            default=MIRRORS,
            help="bare clones of the corpora's repositories (<owner>+<name>/repo) for history",
        )
    return parser


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
