"""What index worker processes write (their log, prints, tracebacks), read by a thread of
this process and handed to its log: a worker never writes to this process's stderr itself.

MCP lets a client never read the server's stderr. Once that pipe is full, a worker writing
there blocked for ever, and the build waited on it. Here a worker's stdout and stderr are a
pipe that a thread drains into the log, which drops what stderr cannot take (log_thread), so
the pipe never stays full.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import sys
import threading
import traceback
from multiprocessing.connection import Connection

__all__ = ["WorkerOutput", "start_worker", "write_to"]

logger = logging.getLogger("ocp_server.index.worker")

MAX_LINE_BYTES = 65_536  # a longer piece without a line end is logged without waiting for it


class WorkerOutput:
    """A pipe for the workers' stdout and stderr, drained into the log until it ends."""

    def __init__(self) -> None:
        reader, self.writer = multiprocessing.Pipe(duplex=False)
        self.last_line = ""  # the last line a worker wrote (a failed start's cause)
        # Handed to each worker as it starts (see write_to); the write end here is closed
        # once the workers have exited, and the thread then reads the pipe's end.
        self._thread = threading.Thread(
            target=_drain, args=(reader, self), name="ocp-index-worker-output", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Once no worker is left: the thread logs what is left and ends."""
        self.writer.close()

    def last_words(self, timeout: float) -> str:
        """After `close`: the last line the workers wrote, once they have all exited (within
        `timeout` seconds; "" when they wrote nothing)."""
        self._thread.join(timeout)
        return self.last_line


def _drain(reader: Connection, output: WorkerOutput) -> None:
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
            text = lines.decode(errors="replace").rstrip()
            logger.warning("index worker: %s", text)
            output.last_line = text.rsplit("\n", 1)[-1].strip()
        if not chunk:
            reader.close()
            return


def write_to(output: Connection) -> None:
    """In a worker: stdout and stderr (fds 1 and 2) are `output` from now on."""
    os.dup2(output.fileno(), 1)
    os.dup2(output.fileno(), 2)
    output.close()


def start_worker(output: Connection, init: str, *args: object) -> None:
    """A worker's first step (the pool's initializer): its output goes to `output`, then it
    imports and runs `init` ("module:function"). Named, not pickled: unpickling a function
    imports its module before any initializer runs, and a failure there went to the
    forkserver's /dev/null. This module imports only the standard library."""
    write_to(output)
    try:
        module, _, name = init.partition(":")
        getattr(importlib.import_module(module), name)(*args)
    except BaseException:
        traceback.print_exc()  # to the pipe: its last line is the cause the server reports
        sys.stderr.flush()
        os._exit(1)  # the pool sees a worker gone, and is broken: the build reads in its thread
