"""An index worker process's tie to the server that started it: it ends when the server does.

Pool workers wait for their next file on a queue whose write end they hold themselves, so they
never see the server go. A server ended by its watchdog (the client left mid-build) left them
waiting for ever, and with them the resource tracker, which holds the client's stderr open and
warned there of "leaked semaphore objects" once they were gone. Each worker watches a pipe
whose only write end the server holds: when it closes (the server has gone, or stopped the
build at once) the worker exits, mid-file if need be.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from multiprocessing.connection import Connection

__all__ = ["Lifeline", "hold"]


class Lifeline:
    """The server's end: `reader` goes to each worker as it starts; `cut` ends them all."""

    def __init__(self) -> None:
        self.reader, self._writer = multiprocessing.Pipe(duplex=False)

    def cut(self) -> None:
        """Every worker holding `reader` exits (idempotent)."""
        self._writer.close()
        self.reader.close()


def hold(reader: Connection) -> None:
    """In a worker: exit as soon as the server's end of `reader` is closed."""

    def watch() -> None:
        try:
            reader.recv_bytes()  # nothing is ever sent: this returns at the end, raising
        except (EOFError, OSError):
            pass
        os._exit(0)  # no cleanup to wait for: the server has what it wants, or is gone

    threading.Thread(target=watch, name="ocp-lifeline", daemon=True).start()
