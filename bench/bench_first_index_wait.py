"""Searches made over stdio while a large workspace's first index is being built.

    uv run python bench/bench_first_index_wait.py                  # 50,000 one-line files
    uv run python bench/bench_first_index_wait.py --cmd /work/main/.venv/bin/ocp-server

Starts `ocp-server` on a fresh workspace of `--files` one-line Python files (made once in
`--cache`), then makes `--searches` searches `--gap` seconds apart (after each answer) and
prints, for each, its round trip, the files indexed so far and whether its note says it
waited. With OCP_FIRST_INDEX_WAIT at its default, only the first search should wait.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters, stdio_client
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]


def workspace(cache: Path, files: int) -> Path:
    root = cache / f"tiny-{files}"
    marker = root / ".complete"
    if marker.exists():
        return root
    for i in range(files):
        folder = root / f"pkg{i // 1000:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod{i}.py").write_text(f"def function_{i}():\n    return {i}\n")
    marker.write_text("")
    return root


async def run(cmd: str, root: Path, searches: int, gap: float) -> list[tuple[float, int, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/root"),
            "OCP_WORKSPACE": str(root),
            "OCP_DB_PATH": str(Path(tmp) / "ocp.db"),
            "OCP_OLLAMA_URL": "http://127.0.0.1:9",
        }
        params = StdioServerParameters(command=cmd, args=[], env=env)
        rows: list[tuple[float, int, str]] = []
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            for i in range(searches):
                started = time.perf_counter()
                result = await session.call_tool("ocp_context_search", {"query": f"function_{i}"})
                seconds = time.perf_counter() - started
                out: dict[str, Any] = dict(result.structured_content or {})
                note = out.get("note") or ""
                waited = re.search(r"waited (\d+\.\d)s", note)
                state = (
                    f"building, waited {waited[1]} s"
                    if waited
                    else ("building, no wait" if "still being built" in note else "complete")
                )
                rows.append((seconds, int(out.get("index", {}).get("files", 0)), state))
                await asyncio.sleep(gap)
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cmd", default=str(ROOT / ".venv" / "bin" / "ocp-server"))
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--searches", type=int, default=5)
    parser.add_argument("--gap", type=float, default=2.0)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "ocp-bench")
    args = parser.parse_args()
    root = workspace(args.cache, args.files)
    rows = asyncio.run(run(args.cmd, root, args.searches, args.gap))
    table = Table(title=f"searches during the first index of {args.files:,} files ({args.cmd})")
    for column in ("search", "round trip (s)", "files indexed", "answer"):
        table.add_column(column)
    for i, (seconds, files, state) in enumerate(rows, 1):
        table.add_row(str(i), f"{seconds:.2f}", f"{files:,}", state)
    Console().print(table)


if __name__ == "__main__":
    main()
