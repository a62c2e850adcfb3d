"""The server's log goes to stderr from a thread: redacted as before, in order, and dropped
(and counted) rather than blocking while stderr is not read."""

from __future__ import annotations

import logging
import re
import threading

from ocp_router.redact import RedactingFilter
from ocp_server.log_thread import MAX_QUEUED, flush_logs, log_from_a_thread


class _Collect(logging.Handler):
    def __init__(self, gate: threading.Event | None = None) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.gate = gate

    def emit(self, record: logging.LogRecord) -> None:
        if self.gate is not None:
            self.gate.wait(30)  # a stderr nobody reads, until the gate opens
        self.lines.append(self.format(record))


def _logger(name: str, handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return logger


def test_records_are_redacted_and_written_in_order_by_the_thread() -> None:
    out = _Collect()
    out.addFilter(RedactingFilter())
    logger = _logger("ocp-test-log-order", out)
    log_from_a_thread(logger)
    secret = "sk-ant-api03-" + "a" * 40
    for n in range(50):
        logger.info("line %d with key %s", n, secret)
    flush_logs(30)
    assert len(out.lines) == 50
    assert all(secret not in line for line in out.lines)
    assert [int(re.findall(r"line (\d+)", line)[0]) for line in out.lines] == list(range(50))


def test_while_stderr_is_not_read_records_are_dropped_and_then_counted() -> None:
    gate = threading.Event()
    out = _Collect(gate)
    logger = _logger("ocp-test-log-drop", out)
    log_from_a_thread(logger)
    total = MAX_QUEUED + 100
    for n in range(total):  # never blocks, though nothing is written
        logger.info("line %d", n)
    gate.set()
    flush_logs(30)  # stderr read again: the queue empties
    logger.info("after")
    flush_logs(30)
    notices = [line for line in out.lines if "dropped" in line]
    assert len(notices) == 1 and out.lines[-1] == "after"
    dropped = int(notices[0].split()[0])
    assert len(out.lines) - 2 + dropped == total
