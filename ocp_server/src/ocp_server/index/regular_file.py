"""Reading a file that must be a regular file, without waiting on one that is not.

A named pipe where a file was (an ignore file, a git HEAD, a branch's ref, a file swapped
since the listing's stat) waits for a writer when opened for reading, and a terminal device
for input: the read never ends, and whatever waited on it (a search, the first index) with
it. The file is opened without blocking and looked at before it is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["NotRegularFile", "read_failure", "read_regular"]


class NotRegularFile(OSError):
    """Something other than a regular file stands at the path (a FIFO, a device, a folder)."""


def read_regular(path: Path | str, max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file, at most `max_bytes` + 1 of them (more than `max_bytes`:
    the file grew past the limit since the caller's stat). Anything else at the path (a FIFO,
    a device, a folder) raises OSError instead of blocking for ever on the read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # opening a FIFO does not wait for a writer
    with open(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(f"{path} is not a regular file")
        return file.read() if max_bytes is None else file.read(max_bytes + 1)


def read_failure(path: Path | str) -> str | None:
    """Why `path` cannot be read now as read_regular reads it, in a few words (None: it can)."""
    try:
        read_regular(path, 0)
    except PermissionError:
        return "permission denied"
    except NotRegularFile:
        return "not a regular file: a pipe, a socket, a device or a folder"
    except OSError as exc:
        return (exc.strerror or str(exc)).lower()
    return None
