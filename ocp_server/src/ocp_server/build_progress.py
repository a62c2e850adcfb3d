"""How far a running build got, in words: the notice a tool call gets while the workspace's
first index is built (server.py), and the count `ocp-server index` prints (cli_output.py)."""

from __future__ import annotations

from ocp_router.words import counted

__all__ = ["BUILD_NOTICE", "build_notice", "files_done"]

#: What a tool call's progress notice says first while the first index is built.
BUILD_NOTICE = "building the workspace index"


def files_done(done: int, total: int) -> str:
    """`1,200/5,000 files`, `0/1 file`."""
    return f"{done:,}/{counted(total, 'file')}"


def build_notice(progress: tuple[int, int | None]) -> tuple[str, int, int | None]:
    """The notice of a build at `progress` (WorkspaceState.progress: files done, files to
    read, None while they are listed), and its values: done, and the total when known."""
    done, total = progress
    if total is None:
        what = "listing files"
    elif total == 0:  # listed, nothing changed: what is left is writing the listing down
        what = "no file to read, finishing"
    else:
        what = files_done(done, total)
    return f"{BUILD_NOTICE}: {what}", done, total or None
