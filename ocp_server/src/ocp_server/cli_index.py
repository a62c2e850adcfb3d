"""`ocp-server index` and `ocp-server search`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ocp_router.errors import ConfigError
from ocp_server.db import DatabaseError
from ocp_server.index.models import IndexSummary, SearchResponse
from ocp_server.index.workspace import WorkspaceIndex, default_db_path
from ocp_server.settings import ServerSettings

JSON_FIELDS = ("path", "start_line", "end_line", "symbol", "kind", "score", "text")


def _max_file_bytes() -> int:
    """OCP_MAX_FILE_BYTES as the server reads it (one parser for every entry point)."""
    try:
        return ServerSettings.from_env().max_file_bytes
    except ConfigError as exc:
        raise SystemExit(f"error: {exc}") from exc


def add_index_commands(sub: Any) -> None:
    index = sub.add_parser("index", help="index the workspace (incremental)")
    index.add_argument("path", nargs="?", help="workspace to index (default: the workspace)")
    index.set_defaults(handler=run_index)
    search = sub.add_parser("search", help="search the workspace index")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=8, help="number of results (default 8)")
    search.add_argument("--json", action="store_true", help="print a JSON list of results")
    search.add_argument("--glob", dest="path_glob", help="only paths matching this glob")
    search.add_argument("--language", help="only this language (python, go, …)")
    search.set_defaults(handler=run_search)


async def _index(workspace: Path, console: Console) -> IndexSummary | None:
    index = await WorkspaceIndex.open(
        workspace, default_db_path(workspace), max_file_bytes=_max_file_bytes()
    )
    async with index:
        with Progress(
            TextColumn("indexing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("files", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            return await index.update(progress)


def run_index(args: argparse.Namespace, workspace: Path) -> int:
    workspace = Path(args.path).resolve() if args.path else workspace
    console = Console(stderr=True)
    try:
        summary = asyncio.run(_index(workspace, console))
    except (DatabaseError, NotADirectoryError) as exc:
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        return 1
    if summary is None:
        console.print("another ocp-server process is indexing this workspace; nothing to do")
        return 0
    table = Table(title=f"index of {workspace}", show_header=False)
    table.add_row("files", f"{summary.files:,}")
    table.add_row("chunks", f"{summary.chunks:,}")
    table.add_row("read (looked changed)", f"{summary.scanned:,}")
    table.add_row("re-chunked (content changed)", f"{summary.changed:,}")
    table.add_row("removed", f"{summary.removed:,}")
    skipped = ", ".join(f"{k} {v:,}" for k, v in sorted(summary.skipped.items())) or "none"
    table.add_row("skipped", skipped)
    table.add_row("seconds", f"{summary.seconds:.2f}")
    table.add_row("database", f"{summary.db_bytes / 1e6:.1f} MB at {default_db_path(workspace)}")
    Console().print(table)
    return 0


async def _search(workspace: Path, args: argparse.Namespace) -> SearchResponse:
    index = await WorkspaceIndex.open(
        workspace, default_db_path(workspace), max_file_bytes=_max_file_bytes()
    )
    async with index:
        status = await index.status()
        if status.files == 0:
            await index.update()
        return await index.search(
            args.query, k=args.k, path_glob=args.path_glob, language=args.language
        )


def run_search(args: argparse.Namespace, workspace: Path) -> int:
    if args.k < 1:
        print("error: -k must be at least 1", file=sys.stderr)
        return 2
    try:
        response = asyncio.run(_search(workspace, args))
    except (DatabaseError, NotADirectoryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        rows = [{f: getattr(r, f) for f in JSON_FIELDS} for r in response.results]
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return 0
    console = Console()
    if response.note:
        console.print(f"[yellow]{response.note}[/yellow]")
    if not response.results:
        console.print("no results")
    for r in response.results:
        title = f"[bold]{r.citation}[/bold]  {r.kind} {r.symbol or ''}  score {r.score:.2f}"
        console.print(title)
        preview = "\n".join(r.text.split("\n")[:8])
        console.print(preview, markup=False, highlight=False)
        console.print()
    return 0
