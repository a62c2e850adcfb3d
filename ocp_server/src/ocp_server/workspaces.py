"""Opening a workspace: its index and its memory on the database the settings name. The one
opener behind the server (AppState) and the CLI (`index`, `search`, `status`, `restore`,
`stats`), so both find the same database by the same rule."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from ocp_router.calibration import Calibration
from ocp_router.calibration_file import CalibrationFile
from ocp_server.db import DatabaseNaming, connect
from ocp_server.errors import DatabaseError, WorkspaceError, storage_cause, storage_failed
from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.memory import MemoryStore
from ocp_server.path_text import path_text
from ocp_server.settings import ServerSettings
from ocp_wire.tools import SAVE

if TYPE_CHECKING:
    from ocp_server.floors_elsewhere import FloorsElsewhere

__all__ = [
    "Workspace",
    "close_workspace",
    "folder_needed",
    "open_index",
    "open_workspace",
    "stop_workspace",
]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Workspace:
    """One workspace's open index and memory, and the task keeping the index fresh."""

    path: Path
    index: WorkspaceIndex
    memory: MemoryStore
    calibration: CalibrationFile | None = None  # routing thresholds learned from outcomes
    # what other processes on its database store that lifts floors (floors_elsewhere.py)
    floors_elsewhere: FloorsElsewhere | None = None
    watcher: asyncio.Task[None] | None = None
    stop: asyncio.Event | None = None
    database: tuple[int, int] | None = None  # the open database file's device and inode
    closed: bool = False
    users: int = 0  # tool calls and reads using it now (AppState.hold)
    retired: bool = False  # no longer a configured folder: closed once its last user is done

    def calibration_for(self, model: str) -> Calibration | None:
        """The thresholds learned for local model `model` (a `model_key`); None: defaults."""
        return self.calibration.current(model) if self.calibration is not None else None

    async def reusable(self) -> bool:
        """False once its database file was deleted or replaced (a `.ocp/` removed by
        `git clean -xfd` or by hand): its connections would go on reading and writing a file
        nobody opens again, so it is stopped and closed, and the caller opens it afresh."""
        if self.closed:
            return False
        found = _file_identity(self.index.db_path)
        if self.database is None or found == self.database:
            return True
        if found is None and not self.path.is_dir():
            return True  # gone with its folder (`.ocp/`): served as it was, nothing to reopen
        logger.warning("the database of %s was deleted or replaced: opening it again", self.path)
        stop_workspace(self)
        with anyio.CancelScope(shield=True):
            await close_workspace(self)
        return False


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return None
    return (found.st_dev, found.st_ino)


def database_naming(settings: ServerSettings) -> DatabaseNaming:
    """How the database's errors name the settings: OCP_DB_PATH when it names the database,
    the save tool as advertised."""
    return DatabaseNaming(
        named_by_setting=settings.db_path is not None, save_tool=settings.tool_name(SAVE)
    )


async def open_index(
    settings: ServerSettings, path: Path, *, save_snapshot: bool = False
) -> WorkspaceIndex:
    """The workspace's index (created on first use), with the settings' file limits;
    `save_snapshot`: its postings are saved beside the database (a server's, not a CLI
    command's: it would exit during the write)."""
    return await WorkspaceIndex.open(
        path,
        settings.db_path_for(path),
        max_file_bytes=settings.max_file_bytes,
        history_commits=settings.history_commits,
        naming=database_naming(settings),
        saved_snapshot_bytes=settings.snapshot_mb << 20,
        save_snapshot=save_snapshot,
    )


def folder_needed(path: Path, why: str) -> None:
    """WorkspaceError when the workspace folder is not there (served from its index as it
    was: settings.kept_index) for what needs its files (`why`); nothing was written."""
    if not path.is_dir():
        raise WorkspaceError(
            f"the workspace folder {path_text(path)} is not there (removed, moved away or its "
            f"drive not mounted): {why}, so nothing was saved. Save without them, or again "
            "once the folder is back"
        )


async def open_workspace(
    settings: ServerSettings, path: Path, session_id: str, *, watch: bool
) -> Workspace:
    """The index and memory of `path`, with `session_id` started; `watch` starts the task
    that keeps the index fresh as files change. Nothing is left open when it fails."""
    index = await open_index(settings, path, save_snapshot=True)
    try:
        # Memory has its own connection: the indexer runs transactions on the index's.
        db = await connect(settings.db_path_for(path), database_naming(settings))
        try:
            memory = MemoryStore(
                db,
                clock=settings.clock,
                workspace=path,
                ttl_days=settings.memory_ttl_days,
                max_file_bytes=settings.max_file_bytes,
            )
            await memory.start_session(path_text(path), session_id)
        except BaseException as exc:
            await db.close()
            if isinstance(exc, sqlite3.DatabaseError) and storage_failed(exc):
                # the first write of a command or tool call: said, not a traceback or "internal"
                db_path = settings.db_path_for(path)
                raise DatabaseError(
                    f"the OCP database at {db_path} could not record this session: "
                    f"{storage_cause(exc, db_path)}"
                ) from exc
            raise
    except BaseException:
        await index.close()
        raise
    ws = Workspace(path, index, memory, database=_file_identity(index.db_path))
    if watch:
        ws.stop = asyncio.Event()
        ws.watcher = asyncio.create_task(_keep_fresh(ws), name=f"index {path}")
    return ws


async def _keep_fresh(ws: Workspace) -> None:
    assert ws.stop is not None
    # The snapshot is read before the watcher's first update (a no-change check of every
    # file, which competed with it for the one interpreter): an agent's first search (seconds
    # after the server started) then finds it read, and answers during that check, saying so
    # (WorkspaceIndex.search). 100,000 one-line files: the first search after a restart
    # 1.53 s, not 2.35 (medians of 4, interleaved; bench/bench_restart_search.py).
    ws.index.watcher_state = "starting"
    preload = asyncio.create_task(_preloaded(ws), name=f"snapshot {ws.path}")
    try:
        await asyncio.wait([preload])
        await ws.index.watch(ws.stop)
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("the index watcher for %s stopped", ws.path)
    finally:
        preload.cancel()
        await asyncio.gather(preload, return_exceptions=True)


async def _preloaded(ws: Workspace) -> None:
    try:
        await ws.index.preload()
    except asyncio.CancelledError:
        raise
    except Exception:  # noqa: BLE001 - the first search reads it again, and says why not
        logger.debug("reading the snapshot of %s ahead of a search failed", ws.path, exc_info=True)


def stop_workspace(ws: Workspace) -> None:
    if ws.stop is not None:
        ws.stop.set()
    if ws.watcher is not None:
        ws.watcher.cancel()


async def close_workspace(ws: Workspace) -> None:
    """Close a stopped workspace's connections (callers shield this from cancellation)."""
    if ws.closed:
        return
    ws.closed = True
    if ws.floors_elsewhere is not None:
        ws.floors_elsewhere.close()
    if ws.watcher is not None:
        await asyncio.wait([ws.watcher], timeout=2.0)
    try:
        await ws.memory.db.close()
    finally:
        await ws.index.close()
