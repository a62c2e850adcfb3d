"""A search imports nothing: whatever it needs is loaded with the app (server._load_app), in
the background after `initialize`, not on a client's first search. Run in a fresh
interpreter, since this one has imported everything by now."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ocp_server.index.workspace import WorkspaceIndex

CONFIG = '''"""Reading the configuration."""
from pathlib import Path


def load_config(path: Path) -> dict[str, str]:
    """The settings in `path`."""
    if path.is_dir():
        raise ValueError(f"Config file '{path}' is a directory")
    return dict(line.split("=", 1) for line in path.read_text().splitlines())
'''

QUERIES = (
    "load_config",
    "Config file '/home/me/x.toml' is a directory",
    "read the settings from a configuration file",
    "is a directory",
)

SEARCH = """
import asyncio, json, sys
from pathlib import Path
from ocp_server.server import _load_app
from ocp_server.index.workspace import WorkspaceIndex

_load_app()

async def main(ws, db, queries):
    async with await WorkspaceIndex.open(Path(ws), Path(db)) as index:
        await index.preload()
        before = set(sys.modules)
        for query in queries:
            assert (await index.search(query, refresh=False)).results, query
        print(json.dumps(sorted(set(sys.modules) - before)))

asyncio.run(main(*json.loads(sys.argv[1])))
"""


async def test_a_search_imports_no_module(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "config.py").write_text(CONFIG)
    (ws / "README.md").write_text("# Demo\n\nReads a configuration file.\n")
    db = tmp_path / "ocp.db"
    async with await WorkspaceIndex.open(ws, db) as index:
        await index.update()
    argv = json.dumps([str(ws), str(db), list(QUERIES)])
    out = subprocess.run(
        [sys.executable, "-c", SEARCH, argv], capture_output=True, text=True, check=True
    )
    imported = json.loads(out.stdout)
    assert imported == [], imported
