"""WorkspaceIndex: one workspace's index, kept fresh, shared safely between processes.

Several processes may open the same database (one per IDE window): the one holding the
indexing lease (lease.py) indexes and watches, the others only read.

A database holds one workspace: opening it for another (a shared OCP_DB_PATH) is refused,
since search results and saved decisions would mix.

Put together from one part per job, over the state they share (workspace_state.py: the
connection, its lock, the lease, the search's read-only reader): updating
(workspace_updates.py), watching (workspace_watch.py) and searching (workspace_search.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import aiosqlite

from ocp_server.db import DatabaseError, DatabaseNaming, connect
from ocp_server.index.limits import DEFAULT_HISTORY_COMMITS, DEFAULT_MAX_FILE_BYTES
from ocp_server.index.own_files import same_file
from ocp_server.index.workspace_root import gone_reason
from ocp_server.index.workspace_search import WorkspaceSearch
from ocp_server.index.workspace_watch import WorkspaceWatch
from ocp_server.path_text import path_text, text_path
from ocp_server.settings import workspace_db_path
from ocp_server.transactions import begin, rollback
from ocp_server.workspace_folder import not_a_folder

__all__ = ["WorkspaceIndex"]


class WorkspaceIndex(WorkspaceSearch, WorkspaceWatch):
    """One workspace's index: `open` it, `update`, `search` and `watch` it, `aclose` it."""

    @classmethod
    async def open(
        cls,
        workspace: Path,
        db_path: Path | None = None,
        *,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        history_commits: int = DEFAULT_HISTORY_COMMITS,
        naming: DatabaseNaming | None = None,
        saved_snapshot_bytes: int = 0,
        save_snapshot: bool = False,
    ) -> WorkspaceIndex:
        """`saved_snapshot_bytes`: the largest postings snapshot saved beside the database
        (0: none), which this process writes when `save_snapshot` (saved_snapshot.py)."""
        workspace = workspace.resolve()
        db_path = db_path or workspace_db_path(workspace)
        # A folder not there (a drive not mounted yet) whose database is: its index is served
        # as it was, said gone (status, searches) until an update finds the folder back
        gone = None if workspace.is_dir() else gone_reason(workspace, None, listed_nothing=True)
        if gone is not None and (os.path.lexists(workspace) or not db_path.is_file()):
            raise NotADirectoryError(not_a_folder(workspace))
        db = await connect(db_path, naming)
        try:
            await _claim(db, workspace, db_path, gone=gone is not None)
        except BaseException:
            await db.close()
            raise
        index = cls(
            workspace,
            db,
            db_path,
            max_file_bytes=max_file_bytes,
            history_commits=history_commits,
            saved_snapshot_bytes=saved_snapshot_bytes,
            save_snapshot=save_snapshot,
        )
        if gone is not None:
            index.folder_gone(gone)
        return index


async def _claim(
    db: aiosqlite.Connection, workspace: Path, db_path: Path, *, gone: bool = False
) -> None:
    """Record which workspace a database holds; refuse one that holds another workspace.
    `gone`: the folder is not there, and only a database holding it is opened for it."""
    await begin(db)
    try:
        rows = list(await db.execute_fetchall("SELECT value FROM meta WHERE key = 'workspace'"))
        if not rows:  # a database from before workspaces were recorded: its sessions say
            rows = list(
                await db.execute_fetchall(
                    "SELECT workspace FROM sessions ORDER BY started_at DESC LIMIT 1"
                )
            )
        recorded = str(rows[0][0]) if rows else None
        mine = path_text(workspace)
        if gone and recorded != mine:  # (a mistyped folder takes no other one's database)
            raise NotADirectoryError(not_a_folder(workspace))
        # A workspace's own database (.ocp/ocp.db) follows it when the folder moves; any other
        # is taken over only when the workspace it holds is gone. Known by the file it is, not
        # by spelling: OCP_DB_PATH may spell it in another case (macOS, Windows) or by a link.
        own = same_file(db_path, workspace_db_path(workspace))
        if recorded not in (None, mine) and not own and _is_folder(recorded):
            raise DatabaseError(
                f"the OCP database at {db_path} holds the workspace {recorded}, not {mine}: "
                "a database holds one workspace's index and memory, or search results and "
                "saved decisions would mix. Unset OCP_DB_PATH (each workspace then keeps its "
                "own in .ocp/), or give each project its own OCP_DB_PATH."
            )
        if recorded != mine:
            await db.execute(
                "INSERT INTO meta VALUES ('workspace', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (mine,),
            )
        await db.execute("COMMIT")
    except BaseException:
        await rollback(db)
        raise


def _is_folder(recorded: str) -> bool:
    """Whether the workspace a database records is a folder: the path its escapes stand for
    (path_text: a folder whose name is not UTF-8 is recorded with `\\xNN` escapes, and was
    taken for gone; read as written, a folder named by those escapes as text was taken for
    it)."""
    return os.path.isdir(text_path(recorded))
