"""`ocp-server proxy` in a process of its own, read through its stderr."""

from __future__ import annotations

import subprocess
import time


def read_until(proc: subprocess.Popen[str], word: str) -> str:
    """The first line of `proc`'s stderr holding `word` ("" if it ends or 60 s pass first)."""
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if word in line or not line:
            return line
    return ""
