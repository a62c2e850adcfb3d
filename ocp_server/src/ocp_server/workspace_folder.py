"""What is wrong with a workspace path that is no folder, in the one wording every command,
`doctor`, the server and the index say: a path that is not there (a typo) does not exist, a
file is not a folder, a relative path is one.
Imports nothing heavy: the CLI checks it before it opens anything."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ocp_server.path_text import path_text

__all__ = ["not_a_folder", "not_absolute"]


def not_a_folder(workspace: Path, name: str = "workspace") -> str | None:
    """`workspace /x does not exist`, `... is not a folder` or `... cannot be read (why)`;
    None when `workspace` is a folder. `name` is what gave the path where the user set it
    (`--workspace`, OCP_WORKSPACE). Not redacted: a caller that prints it redacts it."""
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
    return f"{name} {path_text(workspace)} {why}"


def not_absolute(path: str | Path, name: str = "workspace") -> str | None:
    """`workspace src is a relative path: ...`; None when `path` is absolute. `name` as for
    `not_a_folder`. A relative one would be taken from wherever the process started (`/` for
    Claude Desktop, the home folder for VS Code), not the folder meant. Not redacted."""
    if Path(path).expanduser().is_absolute():
        return None
    return (
        f"{name} {path_text(path)} is a relative path: give the folder's absolute path "
        "(a relative one depends on the folder the server starts in)"
    )
