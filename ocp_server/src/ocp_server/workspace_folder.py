"""What is wrong with a workspace path, in the one format every command, `doctor`, the server
and the index say it (workspace_problem): where the path came from, the path, what is wrong
with it, what to do. A path that is not there (a typo) does not exist, a file is not a
folder, a relative path is one.
Imports nothing heavy: the CLI checks it before it opens anything."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ocp_router.redact_names import redact_name
from ocp_server.path_text import path_text

__all__ = [
    "CLIENT_ROOT",
    "REFUSED_FOLDER",
    "not_a_folder",
    "not_absolute",
    "workspace_problem",
]

#: The source of a folder the MCP client gave as a root (roots/list)
CLIENT_ROOT = "the client's root"

#: Why a folder settings.refusal names (the root, the home folder, a system folder) is
#: refused, wherever the path came from.
REFUSED_FOLDER = (
    "it cannot be a workspace (OCP would read and store every file in it, secrets included)"
)


def workspace_problem(source: str, path: str | os.PathLike[str], why: str, hint: str = "") -> str:
    """`OCP_WORKSPACE /x does not exist`, `the client's root / is the root folder: ...; use
    ...`: `source` is where the path was given, as the user set it (OCP_WORKSPACE,
    CLAUDE_PROJECT_DIR, `--workspace`, a tool's `workspace`, the client's root, the working
    directory), `why` what is wrong, `hint` what to do. The path is redacted (a folder's name
    can hold a token, and a tool's error reaches the agent's model); `why` and `hint` are
    the caller's to redact."""
    shown = redact_name(path_text(path)).text
    return f"{source} {shown} {why}{f'; {hint}' if hint else ''}"


def not_a_folder(workspace: Path, name: str = "workspace") -> str | None:
    """`workspace /x does not exist`, `... is not a folder` or `... cannot be read (why)`;
    None when `workspace` is a folder. `name` is what gave the path where the user set it
    (`--workspace`, OCP_WORKSPACE)."""
    try:
        st = os.stat(workspace)
    except (FileNotFoundError, NotADirectoryError):  # (the latter: a file on the way to it)
        why = "does not exist"
    except OSError as exc:
        why = f"cannot be read ({exc.strerror or exc})"
    else:
        if stat.S_ISDIR(st.st_mode):
            return None
        why = "is not a folder"
    return workspace_problem(name, workspace, why)


def not_absolute(path: str | Path, name: str = "workspace") -> str | None:
    """`workspace src is a relative path: ...`; None when `path` is absolute. `name` as for
    `not_a_folder`. A relative one would be taken from wherever the process started (`/` for
    Claude Desktop, the home folder for VS Code), not the folder meant. The path redacted, as
    in workspace_problem."""
    if Path(path).expanduser().is_absolute():
        return None
    shown = redact_name(path_text(path)).text
    return (
        f"{name} {shown} is a relative path: give the folder's absolute path "
        "(a relative one depends on the folder the server starts in)"
    )
