"""Which folder a citation's path is relative to: the workspace root, and for a save scoped
to a sub-folder (its `workspace` naming one) that folder too; and what to say when neither
holds an indexed file of that path."""

from __future__ import annotations

import os
from pathlib import Path

import aiosqlite

from ocp_router.redact_names import redact_name
from ocp_server.index.files import path_exclusion
from ocp_server.index.ignore_rules import IgnoreRules

#: At most this many indexed files a path that is not indexed may have meant.
MEANT_AT_MOST = 3


def places(raw: str, path: str, scope: str | None) -> tuple[str, ...]:
    """Where a citation's `path` may point, in order: as written (relative to the root), then
    under `scope`, the sub-folder a scoped save names ('src'), for a relative path (a scoped
    search's `path_glob` is relative to it too)."""
    if scope and not os.path.isabs(raw.strip()):
        return path, f"{scope}/{path}"
    return (path,)


async def files_ending_in(
    db: aiosqlite.Connection, path: str, ocpignore: IgnoreRules | None
) -> list[str]:
    """Indexed files whose path ends in /`path` (`auth.py`: src/auth.py), the shortest first:
    what a path written relative to another folder may have meant."""
    tail = "/" + path
    rows = await db.execute_fetchall(
        "SELECT path FROM files WHERE skip_reason IS NULL AND substr(path, -?) = ? "
        "ORDER BY length(path), path LIMIT ?",
        (len(tail), tail, MEANT_AT_MOST * 4),
    )
    found = [str(r[0]) for r in rows if path_exclusion(str(r[0]), ocpignore) is None]
    return found[:MEANT_AT_MOST]


def not_indexed(path: str, workspace: Path, tried: tuple[str, ...], meant: list[str]) -> str:
    """The error for a citation whose path names no indexed file at any place `tried`."""
    root = redact_name(str(workspace)).text  # a folder's name can hold a token
    where = f"relative to the workspace root {root}"
    if len(tried) > 1:
        scope = tried[1].removesuffix("/" + path)
        where += f" or to {scope}/, the folder this save names ({tried[1]} is not indexed either)"
    shown = " or ".join(redact_name(p).text for p in meant)
    hint = f" (did you mean {shown}?)" if meant else ""
    return (
        f"{path!r} is not in the workspace index (a file that does not exist, is ignored or "
        f"secret, or is not indexed yet): a citation's path is {where}{hint}; cite an indexed "
        "file"
    )
