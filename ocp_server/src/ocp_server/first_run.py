"""A first run that cannot hurt: the CLI does not index `/`, the home folder or a folder with
more than OCP_MAX_FILES files unless told to with `--force`.

Run by accident in the wrong folder, `ocp-server search foo` would otherwise walk everything
below it and write a database of gigabytes next to it. The server already refuses `/` and the
home folder as an implicit working directory (settings.resolve_workspace), and every other
folder it refuses (system folders, shared roots such as /tmp, credential folders) the CLI
refuses too: `ocp-server route --workspace /etc` indexed /etc into /etc/.ocp. A folder
inside a project that has its own index is answered by that index (`answering_index`): a
second index of part of the project only when forced.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from ocp_router.redact_names import redact_name
from ocp_server.git_commands import run_git
from ocp_server.index.files import count_files, load_ocpignore, path_exclusion
from ocp_server.settings import ServerSettings, refusal, workspace_db_path, workspace_scope


class WorkspaceRefused(Exception):
    """The CLI will not index this folder without --force; the message says why and how."""


FORCE_HINT = " (--force accepts it anyway)"
NO_FORCE_HINT = " (`ocp-server index --force` accepts it anyway)"


def refuse_reason(
    workspace: Path,
    *,
    max_files: int,
    count: bool = True,
    verb: str = "index",
    force_hint: str = FORCE_HINT,
) -> str | None:
    """Why indexing `workspace` needs --force, or None when it is fine.

    `count` also counts the files the index would consider (at most max_files + 1 of them):
    worth it before a first index, not before an update of an index that already exists.
    `force_hint` ends the message: how to accept it anyway (the command's own --force, or
    `index --force` for a command without one)."""
    path = workspace.resolve()
    shown = redact_name(str(path)).text  # the reason is printed: a folder's name can hold a token
    if path == Path(path.anchor):
        return (
            f"refusing to {verb} {shown}: that is the whole file system. Run ocp-server in a "
            f"project folder or pass --workspace PATH{force_hint}."
        )
    if path == Path.home().resolve():
        return (
            f"refusing to {verb} your home folder ({shown}): it holds every project and far "
            "more, and its index would be huge. Run ocp-server in a project folder or pass "
            f"--workspace PATH{force_hint}."
        )
    if why := refusal(path):
        return (
            f"refusing to {verb} {shown}: it {why} (the index would read and store every file "
            "in it, secrets included; the server refuses it as a workspace). Run ocp-server "
            f"in a project folder or pass --workspace PATH{force_hint}."
        )
    if count:
        found = count_files(path, max_files)
        if found > max_files:
            return (
                f"refusing to index {shown}: more than {max_files:,} files would be indexed "
                f"(OCP_MAX_FILES={max_files}). Point --workspace at one project, exclude "
                "folders in an .ocpignore file, raise OCP_MAX_FILES, or pass --force."
            )
    return None


def enclosing_index(workspace: Path) -> Path | None:
    """The nearest folder above `workspace` that keeps its own index, if any, within the same
    git work tree: a nested repository or submodule (a `.git` of its own, folder or file) is
    a project of its own, whose files the index above never holds (git lists it as one
    folder), so its own index answers there. One the CLI refuses without --force (the home
    folder, `/`, a shared root) is no project: indexed once when forced, it would answer for
    every project below it."""
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
    if path_exclusion(f"{sub}/x", load_ocpignore(project)) is not None:
        return True
    try:  # 0: ignored; 1: not; 128: no repository (or git failed)
        done = run_git(project, "check-ignore", "-q", "--", sub, timeout=_GIT_TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def check_workspace(
    workspace: Path, *, max_files: int, force: bool = False, count: bool = True
) -> None:
    """Raise WorkspaceRefused when `workspace` needs --force and it was not given."""
    if force:
        return
    if (reason := refuse_reason(workspace, max_files=max_files, count=count)) is not None:
        raise WorkspaceRefused(reason)
