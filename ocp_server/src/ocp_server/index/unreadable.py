"""Folders of a workspace this process may not read (permission denied, or an I/O error): the
listing skips each, counts it (`unreadable` in the status) and logs it once, rather than miss
its files without a word. Git lists around such a folder and only warns on its stderr (read
untranslated: git_commands.git_env), which OCP did not read: the files below it were simply
absent; a walk outside git counted it and said nothing."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from ocp_server.path_text import path_text

__all__ = ["git_unreadable", "tell_unreadable", "walk_folder"]

logger = logging.getLogger(__name__)

# dir.c's warning_errno(_("could not open directory '%s'"), path): relative to where git runs
_GIT_WARNING = re.compile(rb"^warning: could not open directory '(.*)': (.*)$", re.MULTILINE)
#: (workspace, folder) already logged: the watcher lists the files at every update.
_TOLD: set[tuple[Path, str]] = set()


def git_unreadable(stderr: bytes) -> list[tuple[str, str]]:
    """The folders `git ls-files` could not open, as it named them, each with why."""
    return [
        (m[1].decode("utf-8", "surrogateescape").rstrip("/"), m[2].decode("utf-8", "replace"))
        for m in _GIT_WARNING.finditer(stderr)
    ]


def walk_folder(workspace: Path, exc: OSError) -> tuple[str, str]:
    """The folder an os.walk `onerror` was told of, relative to the workspace, with why."""
    folder = os.path.relpath(exc.filename, workspace) if exc.filename else "."
    return folder.replace(os.sep, "/"), exc.strerror or str(exc)


def tell_unreadable(workspace: Path, folder: str, why: str) -> None:
    """Log once that `folder` (relative to `workspace`) could not be read."""
    if (workspace, folder) in _TOLD:
        return
    if len(_TOLD) > 4096:
        _TOLD.clear()
    _TOLD.add((workspace, folder))
    logger.warning(
        "cannot read the folder %s in %s (%s): the files in it are not indexed; counted as "
        "`unreadable` in `ocp-server status` until it can be read",
        path_text(folder),
        path_text(workspace),
        why,
    )
