"""A first run that cannot hurt: the CLI does not index `/`, the home folder or a folder with
more than OCP_MAX_FILES files unless told to with `--force`.

Run by accident in the wrong folder, `ocp-server search foo` would otherwise walk everything
below it and write a database of gigabytes next to it. The server already refuses `/` and the
home folder as an implicit working directory (settings.resolve_workspace), and every other
folder it refuses (system folders, shared roots such as /tmp, credential folders) the CLI
refuses too: `ocp-server route --workspace /etc` indexed /etc into /etc/.ocp. A folder
inside a project that has its own index is answered by that index (enclosing.py): a second
index of part of the project only when forced.
"""

from __future__ import annotations

from pathlib import Path

from ocp_router.redact_names import redact_name
from ocp_server.index.files import count_files
from ocp_server.settings import git_folder_work_tree, refusal


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
    if (why := refusal(path)) and (tree := git_folder_work_tree(path)) is not None:
        # no --force: no server would ever serve an index of git's own files
        project = redact_name(str(tree)).text
        return (
            f"refusing to {verb} {shown}: it is inside the .git folder of the project "
            f"{project} (git's own files: objects, hooks, its config; no work tree). Run "
            f"ocp-server in the project's root: `cd {project}`."
        )
    if why:
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


def check_workspace(
    workspace: Path, *, max_files: int, force: bool = False, count: bool = True
) -> None:
    """Raise WorkspaceRefused when `workspace` needs --force and it was not given (a folder
    inside a project's .git is refused even so)."""
    if force:
        in_git_folder(workspace)
        return
    if (reason := refuse_reason(workspace, max_files=max_files, count=count)) is not None:
        raise WorkspaceRefused(reason)


def in_git_folder(workspace: Path) -> None:
    """Raise WorkspaceRefused for a folder inside a project's `.git`, --force or not: `index
    --force` there indexed git's own files, an index no server serves."""
    if (reason := git_folder_refusal(workspace)) is not None:
        raise WorkspaceRefused(reason)


def git_folder_refusal(workspace: Path, verb: str = "index") -> str | None:
    """Why no command may run in `workspace`, a folder inside a project's `.git` (naming the
    project's root to `cd` to), else None. Refused even with an index there, built by an
    older `index --force`: it holds git's own files, and no server serves it."""
    path = workspace.resolve()
    if git_folder_work_tree(path) is None or refusal(path) is None:
        return None
    return refuse_reason(path, max_files=0, count=False, verb=verb)
