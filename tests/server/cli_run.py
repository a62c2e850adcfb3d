"""`ocp-server`'s CLI run in a subprocess, from a workspace or a folder below it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(
    cwd: Path, *args: str, home: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": os.environ["PATH"], "HOME": str(home or cwd.parent), **env},
    )


def run_in_sub_folder(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI run in `cwd`, the home folder above the workspace's."""
    return run(cwd, *args, home=cwd.parent.parent)
