"""What index worker processes write (their log, prints, tracebacks), read by a thread of
this process and handed to its log: a worker never writes to this process's stderr itself.

MCP lets a client never read the server's stderr. Once that pipe is full, a worker writing
there blocked for ever, and the build waited on it. Here a worker's stdout and stderr are a
pipe that a thread drains into the log, which drops what stderr cannot take (log_thread), so
the pipe never stays full.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from multiprocessing.connection import Connection

__all__ = ["WorkerOutput", "write_to"]

logger = logging.getLogger("ocp_server.index.worker")

MAX_LINE_BYTES = 65_536  # a longer piece without a line end is logged without waiting for it


class WorkerOutput:
    """A pipe for the workers' stdout and stderr, drained into the log until it ends."""

    def __init__(self) -> None:
        reader, self.writer = multiprocessing.Pipe(duplex=False)
        # Handed to each worker as it starts (see write_to); the write end here is closed
        # once the workers have exited, and the thread then reads the pipe's end.
        self._thread = threading.Thread(
            target=_drain, args=(reader,), name="ocp-index-worker-output", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Once no worker is left: the thread logs what is left and ends."""
        self.writer.close()


def _drain(reader: Connection) -> None:
    fd = reader.fileno()
    rest = b""
    while True:
        try:
            chunk = os.read(fd, 65_536)
        except OSError:
            chunk = b""
        lines, _, rest = (rest + chunk).rpartition(b"\n") if chunk else (rest, b"", b"")
        if len(rest) > MAX_LINE_BYTES:  # a line without end: logged as it stands
            lines, rest = lines + b"\n" + rest, b""
        if lines.strip():  # each read's whole lines as one record: a traceback stays whole
            logger.warning("index worker: %s", lines.decode(errors="replace").rstrip())
        if not chunk:
            reader.close()
            return


def write_to(output: Connection) -> None:
    """In a worker: stdout and stderr (fds 1 and 2) are `output` from now on."""
    os.dup2(output.fileno(), 1)
    os.dup2(output.fileno(), 2)
    output.close()
