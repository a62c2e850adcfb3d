"""Shared fixtures: protocol-faithful fake model servers and a clean environment per test."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fakes.fixtures",
    "tests.workspace_fixture",
    "tests.server.app_fixture",
    "tests.server.memory_fixtures",
]


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """One file or test named: run it in this process (starting workers costs more than a
    file's tests gain from them). Otherwise pytest-xdist's own count (one per core)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    named = [arg.split("::")[0] for arg in config.args]
    if len(named) == 1 and not Path(named[0]).is_dir():
        return 0
    return None


_PREFIXES = ("OCP_", "ANTHROPIC_", "OPENAI_", "CLAUDE_PROJECT_DIR", "OLLAMA_")


#: The terminal size every test and every process it starts sees. pytest imports readline
#: (capture's _readline_workaround), and GNU readline exports the terminal's size as COLUMNS
#: and LINES with setenv: not in os.environ, yet inherited by a subprocess started with the
#: default environment, and in os.environ of xdist's workers. So the CLI's output wrapped at
#: the width of whatever terminal ran pytest (80 without one), a subprocess given a copy of
#: os.environ saw none under `-n 0` (no wrapping), and rich in this process alike.
TERMINAL = {"COLUMNS": "80", "LINES": "24"}


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the developer's keys or OCP settings, nor the size of the terminal that
    runs pytest (TERMINAL pins it)."""
    for name in list(os.environ):
        if name.startswith(_PREFIXES):
            monkeypatch.delenv(name)
    for name, value in TERMINAL.items():
        monkeypatch.setenv(name, value)
    yield


def _connection_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


@pytest.fixture(autouse=True)
def no_database_connection_left_open() -> Iterator[None]:
    """An aiosqlite connection left open keeps a non-daemon thread, and so a whole server
    process, alive after its client left: no test may leave one behind."""
    before = _connection_threads()
    yield
    deadline = time.monotonic() + 30.0  # a closed connection's thread ends soon; a leaked one never
    while (left := _connection_threads() - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"database connections left open: {sorted(t.name for t in left)}"
