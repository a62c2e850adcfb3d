"""The server's stderr, passed through to ours and its last lines kept for error messages.

A server that fails to start or dies mid-call usually says why on stderr; the SDK's stdio
transport only reports "Connection closed". A thread, not a task, reads the pipe: it needs no
task group across `__aenter__`/`__aexit__`, works where the event loop cannot watch pipes
(Windows), and ends by itself at end of file.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import deque
from contextlib import suppress
from typing import TextIO

import anyio.to_thread

TAIL_LINES = 20
LINE_CHARS = 1000  # a kept line, cut: a server may write a megabyte without a newline


class StderrTail:
    def __init__(self) -> None:
        read_fd, write_fd = os.pipe()
        self._reader = os.fdopen(read_fd, "rb")
        # The child's stderr; close ours once it has been started (`release`).
        self.errlog: TextIO = os.fdopen(write_fd, "w")
        self._lines: deque[str] = deque(maxlen=TAIL_LINES)
        self._ended = threading.Event()
        threading.Thread(target=self._pump, name="ocp-server stderr", daemon=True).start()

    def release(self) -> None:
        """Close the parent's copy of the write end, so the pipe ends when the child's does."""
        self.errlog.close()

    def _pump(self) -> None:
        try:
            for raw in self._reader:
                line = raw.decode("utf-8", "replace")
                self._lines.append(line.rstrip("\n")[:LINE_CHARS])
                # What the user saw before: the server's own stderr. Ours closed (a test's
                # capture ended) only stops the copy: the pipe is still drained, or a server
                # still writing would block on it.
                with suppress(OSError, ValueError):
                    sys.stderr.write(line)
        except (OSError, ValueError):  # the pipe itself failed: nothing more to read
            pass
        finally:
            self._reader.close()
            self._ended.set()

    async def last_lines(self, wait: float = 2.0) -> str:
        """The last lines written, after waiting (at most `wait` seconds) for the pipe to end:
        a dead server's last words can trail its closed stdout."""
        await anyio.to_thread.run_sync(self._ended.wait, wait)
        return "\n".join(self._lines)
