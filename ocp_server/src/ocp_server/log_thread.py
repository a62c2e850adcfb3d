"""The server's log, written to stderr by a thread of its own, never by the event loop.

MCP lets a client ignore the server's stderr. One that captures it and never reads it fills
the pipe with the log after 64 KiB; a write to it then blocks, and a log call on the event
loop stopped every answer with it. Records go into a bounded queue that a daemon thread
writes out; while it is full (stderr unread), new ones are dropped and counted, and the count
is logged once there is room again.
"""

from __future__ import annotations

import logging
import queue
import time
from logging.handlers import QueueHandler, QueueListener

__all__ = ["MAX_QUEUED", "flush_logs", "log_from_a_thread"]

MAX_QUEUED = 10_000  # records waiting for stderr, at most


class _DroppingQueueHandler(QueueHandler):
    """Queues a record, or counts it as dropped while the queue is full. (Handler.handle
    holds the handler's lock around this: the count is safe from every thread.)"""

    def __init__(self, records: queue.Queue[logging.LogRecord]) -> None:
        super().__init__(records)
        self.dropped = 0

    def enqueue(self, record: logging.LogRecord) -> None:
        if self.dropped:
            if not self._put(_dropped_notice(self.dropped)):
                self.dropped += 1
                return
            self.dropped = 0
        if not self._put(record):
            self.dropped += 1

    def _put(self, record: logging.LogRecord) -> bool:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            return False
        return True


def _dropped_notice(count: int) -> logging.LogRecord:
    text = f"{count} log line(s) dropped: the client did not read the server's stderr"
    return logging.LogRecord(__name__, logging.WARNING, __file__, 0, text, None, None)


_queues: list[queue.Queue[logging.LogRecord]] = []  # those a thread writes out


def log_from_a_thread(logger: logging.Logger | None = None) -> None:
    """`logger`'s handlers (the root's) fed from a bounded queue by a daemon thread (which a
    blocked write never holds up the exit for); their filters (redaction) run before a record
    is queued, where they ran before."""
    logger = logger or logging.getLogger()
    targets = list(logger.handlers)
    if not targets:
        return
    records: queue.Queue[logging.LogRecord] = queue.Queue(MAX_QUEUED)
    front = _DroppingQueueHandler(records)
    for target in targets:
        for check in target.filters:
            if check not in front.filters:
                front.addFilter(check)
        target.filters = []
        logger.removeHandler(target)
    logger.addHandler(front)
    QueueListener(records, *targets, respect_handler_level=True).start()
    _queues.append(records)


def flush_logs(timeout: float) -> bool:
    """Wait up to `timeout` seconds for the records queued so far to be written; whether they
    were (if not, the thread is stuck writing to an unread stderr, holding its lock)."""
    deadline = time.monotonic() + timeout
    for records in _queues:
        while records.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
    return not any(records.unfinished_tasks for records in _queues)
