"""The workspaces one session has open: each opened on first use, each closed when the
client's roots move away from it (once the calls using it are done), and all at the end."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio

from ocp_server.errors import RootsMovedAway
from ocp_server.workspaces import Workspace, close_workspace, stop_workspace

__all__ = ["OpenWorkspaces"]

logger = logging.getLogger(__name__)

Opener = Callable[[Path, bool], Awaitable[Workspace]]


class OpenWorkspaces:
    """A session's open workspaces, by folder. `opener(path, watch)` opens one."""

    def __init__(self, session_id: str, opener: Opener) -> None:
        self.session_id = session_id
        self._opener = opener
        self._by_path: dict[Path, Workspace] = {}
        # The folders tools may open, once the client's roots changed (None: any the caller
        # resolved); retired workspaces still in use, closed when their last user is done.
        self._allowed: frozenset[Path] | None = None
        self._retired: list[Workspace] = []
        self._lock = asyncio.Lock()
        self._closed = False

    def open_now(self) -> list[Workspace]:
        return [ws for ws in self._by_path.values() if not ws.closed]

    def open_paths(self) -> list[Path]:
        return [ws.path for ws in self.open_now()]

    async def get(self, path: Path, *, watch: bool = True) -> Workspace:
        """The open workspace for `path`, opening it (and starting its indexer) on first use.
        Opening runs to the end even when the caller is cancelled, and what it opened is then
        closed again: no database connection is left open behind it."""
        async with self._lock:
            if self._closed:
                raise RuntimeError("the server is shutting down")
            if self._allowed is not None and path not in self._allowed:
                raise RootsMovedAway(path)
            if path in self._by_path and await self._by_path[path].reusable():
                return self._by_path[path]
            opening = asyncio.ensure_future(self._opener(path, watch))
            try:
                ws = await asyncio.shield(opening)
            except asyncio.CancelledError:
                with anyio.CancelScope(shield=True):
                    try:
                        opened = await opening
                    except Exception:  # noqa: BLE001 - it failed to open: nothing to close
                        pass
                    else:
                        stop_workspace(opened)
                        await close_workspace(opened)
                raise
            self._by_path[path] = ws
            return ws

    def hold(self, ws: Workspace) -> None:
        """`ws` is in use until `release`: not closed under the caller when it is retired."""
        ws.users += 1

    async def release(self, ws: Workspace) -> None:
        ws.users -= 1
        if ws.retired and ws.users == 0 and any(w is ws for w in self._retired):
            self._retired = [w for w in self._retired if w is not ws]
            with anyio.CancelScope(shield=True):
                await self._retire(ws)

    async def keep_only(self, folders: list[Path]) -> list[Path]:
        """The client's roots changed: stop indexing and watching the open workspaces not
        among `folders` (the configured folders now), and open no other from here on. One in
        use (a search in progress) is stopped and closed when its last user is done. The
        folders it stopped."""
        async with self._lock:
            self._allowed = frozenset(folders)
            gone = [ws for path, ws in self._by_path.items() if path not in self._allowed]
            for ws in gone:
                del self._by_path[ws.path]
                ws.retired = True
        self._retired += [ws for ws in gone if ws.users > 0]
        with anyio.CancelScope(shield=True):
            for ws in gone:
                if ws.users == 0:
                    await self._retire(ws)
        return [ws.path for ws in gone]

    async def _retire(self, ws: Workspace) -> None:
        logger.info("%s is no longer among the client's roots: not watched any more", ws.path)
        stop_workspace(ws)
        try:
            await ws.memory.end_session(self.session_id)
        except Exception:  # noqa: BLE001 - the session's end is a nicety; closing is not
            logger.debug("could not close the session", exc_info=True)
        await close_workspace(ws)

    async def aclose(self) -> None:
        """Stop indexing and close every one (callers shield this from cancellation)."""
        workspaces = [*self._by_path.values(), *self._retired]
        self._by_path.clear()
        self._retired.clear()
        self._closed = True
        for ws in workspaces:
            stop_workspace(ws)
        with anyio.move_on_after(1.0):  # the session's end is a nicety; closing is not
            for ws in workspaces:
                try:
                    await ws.memory.end_session(self.session_id)
                except Exception:  # noqa: BLE001 - best effort at shutdown
                    logger.debug("could not close the session", exc_info=True)
        for ws in workspaces:
            await close_workspace(ws)
