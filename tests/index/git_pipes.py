"""A git work tree with a named pipe where a file was, and a check that nothing reads the pipe
(reading one would wait for ever)."""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.workspace_fixture import git


def pipe_repo(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "sub").mkdir(parents=True)
    git(ws, "init", "-q")
    (ws / "app.py").write_text("print('hi')\n")
    (ws / "sub" / "lib.py").write_text("x = 1\n")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "first")
    return ws


def pipe_as(path: Path) -> Path:
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    return path


def never_waits_on(pipe: Path, work: Callable[[], Any]) -> Any:
    """`work()`'s result; fails if something opened `pipe` to read while it ran."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(work()), daemon=True)
    thread.start()
    waited = False
    while thread.is_alive():
        try:
            fd = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:  # ENXIO: no reader
            assert exc.errno == errno.ENXIO
            time.sleep(0.005)
            continue
        waited = True
        os.close(fd)  # the reader reads the end of the file and goes on
    thread.join()
    assert not waited, f"git opened {pipe.name} and waited for a writer"
    return result[0]
