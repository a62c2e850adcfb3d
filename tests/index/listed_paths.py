"""What the workspace's file listing returns, as a set of relative paths."""

from __future__ import annotations

from pathlib import Path

from ocp_server.index.files import list_workspace


def paths(ws: Path) -> set[str]:
    return {c.path for c in list_workspace(ws).candidates}
