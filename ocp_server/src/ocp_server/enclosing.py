"""A folder inside a project that has its own index is answered by that index, scoped to the
folder: the CLI run in it (`cd src && ocp-server search …`) and the MCP server whose
workspace it is (a monorepo's package opened alone in an editor).

Otherwise the folder got a second index of part of the project (minutes of indexing, the
files stored twice) and a memory apart from the project's. A folder that has its own `.ocp`
keeps it (`ocp-server index --force` in it builds one), and a single OCP_DB_PATH is one
database whatever the folder.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from ocp_server.settings import ServerSettings, workspace_db_path, workspace_scope

__all__ = ["ServerAnswering", "answering_index", "enclosing_index"]

logger = logging.getLogger(__name__)


def enclosing_index(workspace: Path) -> Path | None:
    """The nearest folder above `workspace` that keeps its own index, if any, within the same
    git work tree: a nested repository or submodule (a `.git` of its own, folder or file) is
    a project of its own, whose files the index above never holds (git lists it as one
    folder), so its own index answers there. One the CLI refuses without --force (the home
    folder, `/`, a shared root) is no project: indexed once when forced, it would answer for
    every project below it."""
    from ocp_server.first_run import refuse_reason  # (pathspec: not before a server's first call)

    here = workspace.resolve()
    if (here / ".git").exists():
        return None
    for folder in here.parents:
        if workspace_db_path(folder).is_file():
            forced = refuse_reason(folder, max_files=0, count=False) is not None
            return None if forced else folder
        if (folder / ".git").exists():
            return None
    return None


def answering_index(
    folder: Path, settings: ServerSettings, *, force: bool = False
) -> tuple[Path, str | None]:
    """The workspace whose index answers a command run in `folder`, and the sub-folder it is
    scoped to (None: the workspace itself). A folder inside a project that has its own index
    is answered by that index, scoped to it, as the server answers a tool's `workspace`
    naming a sub-folder (settings.workspace_scope), unless the project leaves the folder
    out (its index would answer nothing there); a second index of part of the project is
    built only when forced, and a folder that has one (or a single OCP_DB_PATH) keeps it."""
    if force or settings.db_path is not None or workspace_db_path(folder).exists():
        return folder, None
    if not folder.is_dir():  # refused as it is (`index README.md`, a typo), not the project's
        return folder, None
    outer = enclosing_index(folder)
    if outer is None:
        return folder, None
    scope = workspace_scope(outer, str(folder))
    if scope is not None and _left_out(outer, scope):
        return folder, None  # the project's index holds none of its files
    return outer, scope


_GIT_TIMEOUT = 10.0


def _left_out(project: Path, sub: str) -> bool:
    """Whether `project` never indexes the files of its sub-folder `sub`: one vendored
    (`node_modules`, `.venv`), in its .ocpignore, or one git ignores there."""
    from ocp_server.git_commands import run_git
    from ocp_server.index.files import load_ocpignore, path_exclusion

    if path_exclusion(f"{sub}/x", load_ocpignore(project)) is not None:
        return True
    try:  # 0: ignored; 1: not; 128: no repository (or git failed)
        done = run_git(project, "check-ignore", "-q", "--", sub, timeout=_GIT_TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


class ServerAnswering:
    """The server's workspace for each folder it resolves (answering_index), said once a
    folder on stderr: the log is where a user looks for why no index of the folder appears."""

    def __init__(self, settings: ServerSettings) -> None:
        self._settings = settings
        self._said: set[Path] = set()

    def __call__(self, folder: Path) -> tuple[Path, Path | None]:
        """The workspace to open for `folder`, and `folder` when that is a project above it
        (its tools then keep to `folder` as if their `workspace` named it), else None."""
        workspace, scope = answering_index(folder, self._settings)
        if scope is None:
            return folder, None
        if folder not in self._said:
            self._said.add(folder)
            logger.info(
                "%s is inside %s: its index answers, scoped to %s/ (searches and routes keep "
                "to the folder; memory is the project's, a restore keeping to the folder's "
                "decisions and uncited ones). For a separate index of this folder run "
                "`ocp-server index --force` in it, or set OCP_DB_PATH",
                folder,
                workspace,
                scope,
            )
        return workspace, folder
