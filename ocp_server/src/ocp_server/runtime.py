"""What one server run holds between requests: the tools' state once loaded, or why it could
not load, and the client's roots, asked for when first needed and again when they change."""

from __future__ import annotations

import asyncio
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
from mcp.server.context import ServerRequestContext

from ocp_server.enclosing import answering_index
from ocp_server.errors import WorkspaceError
from ocp_server.settings import ServerSettings, configured_folders

if TYPE_CHECKING:
    from ocp_server.app import AppState  # loaded after `initialize` (server.py, _load_app)

__all__ = ["Runtime"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Runtime:
    """What one server run holds: the tools' state, or the configuration error that stops
    them (the server still starts, so the client can show that error instead of a closed
    connection), and the client's roots once asked for."""

    state: AppState | None
    config_error: str | None = None
    roots: list[str] | None = None
    roots_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    starting: asyncio.Task[None] | None = None  # loading the app, after `initialize`

    async def ready(self) -> AppState | None:
        """The tools' state once the app has loaded; None with `config_error` set when it
        could not start."""
        if self.starting is not None:
            await asyncio.shield(self.starting)
        return self.state

    async def client_roots(self, ctx: ServerRequestContext[Runtime]) -> list[str]:
        """The client's root URIs, asked once per session (again after the client says they
        changed); none when the client declares no roots (Windsurf, Claude Desktop…)."""
        async with self.roots_lock:
            if self.roots is None:
                self.roots = await _ask_roots(ctx) or []
            return self.roots

    async def roots_changed(
        self, ctx: ServerRequestContext[Runtime], settings: ServerSettings, cwd: Path | None
    ) -> None:
        """The client said its roots changed: asked again at once, not at the next call, as
        a folder the client closed must stop being indexed and watched now, not whenever (if
        ever) a tool is called again."""
        async with self.roots_lock:
            self.roots = await _ask_roots(ctx)
            if self.roots is None:
                # Unanswered (an error, or busier than 3 s) says nothing of where the roots
                # went: nothing is closed, and the next call asks again.
                logger.warning("the client's roots changed, but it did not say to what")
                return
        state = await self.ready()
        if state is None:
            return
        try:
            folders = configured_folders(settings, self.roots, cwd, state.kept)
        except WorkspaceError:  # a refused OCP_WORKSPACE: no tool opens anything
            folders = []
        # a folder inside an indexed project is served by the project's workspace (enclosing.py)
        await state.workspaces.keep_only([answering_index(f, settings)[0] for f in folders])


async def _ask_roots(ctx: ServerRequestContext[Runtime]) -> list[str] | None:
    """The client's root URIs: none when it declares no roots, None when it was asked and
    did not answer with them."""
    capabilities = ctx.session.client_capabilities
    if capabilities is None or capabilities.roots is None:
        return []
    try:
        with anyio.fail_after(3), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = await ctx.session.list_roots()
    except Exception:  # noqa: BLE001 - no back-channel, an error answer, timeout
        logger.debug("client roots unavailable", exc_info=True)
        return None
    return [str(root.uri) for root in result.roots]
