"""A reader that closes the pipe early (`ocp-server search … | head -1`) ends every command
quietly with exit status 0: `set -o pipefail` scripts read 1 as "something failed"."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

# The `ocp-server` script as installed (its console_scripts entry point), and `-m ocp_server.cli`.
ENTRY = (
    "import sys\n"
    "from importlib.metadata import entry_points\n"
    "(script,) = entry_points(group='console_scripts', name='ocp-server')\n"
    "sys.exit(script.load()())\n"
)
STARTS = {
    "entry point": [sys.executable, "-c", ENTRY],
    "module": [sys.executable, "-m", "ocp_server.cli"],
}


def run_into_closed_pipe(
    start: list[str], ws: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """The command with its stdout a pipe whose reader is already gone: its first write to it
    fails, whatever it prints and however it writes it (rich, print, a buffered write)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [*start, *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            cwd=ws,
            env={
                "PATH": "/usr/bin:/bin",
                "HOME": str(ws.parent),
                "OCP_DB_PATH": str(ws.parent / "closed-pipe.db"),
            },
        )
    finally:
        os.close(write)


@pytest.mark.parametrize("start", STARTS.values(), ids=STARTS.keys())
@pytest.mark.parametrize(
    "args",
    [
        ("search", "verify_token"),  # rich's console
        ("search", "verify_token", "--json"),  # a buffered write, flushed at the end
        ("stats",),
        ("status",),
        ("route", "explain verify_token", "--dry-run"),
        ("route", "explain verify_token", "--dry-run", "--json"),
        ("restore",),
        ("restore", "--json"),
        ("doctor",),
        ("index",),
        ("--help",),  # argparse
    ],
    ids=lambda args: " ".join(args),
)
def test_a_closed_stdout_ends_the_command_with_0_and_nothing_on_stderr(
    workspace: Path, start: list[str], args: tuple[str, ...]
) -> None:
    done = run_into_closed_pipe(start, workspace, *args)
    assert (done.returncode, _besides_progress(done.stderr)) == (0, ""), done.stderr


def _besides_progress(stderr: str) -> str:
    """stderr without the lines of a first index's progress (cli_output.IndexProgress: a
    line each 0.5 s on a pipe, so a slow machine's search or index has some)."""
    return "".join(line for line in stderr.splitlines(True) if not _PROGRESS.match(line))


_PROGRESS = re.compile(r"indexing [\d,]+/[\d,]+ files |listing files… |nothing changed to index ")


@pytest.mark.parametrize("start", STARTS.values(), ids=STARTS.keys())
def test_init_print_into_a_closed_stdout_ends_with_0_and_only_its_file_names_on_stderr(
    workspace: Path, start: list[str]
) -> None:
    """init --print names each file on stderr (`# <path>`) before its document on stdout."""
    done = run_into_closed_pipe(start, workspace, "init", "--client", "cursor", "--print")
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"# {workspace / '.cursor' / 'mcp.json'}\n"


def test_the_help_says_what_a_closed_pipe_ends_with(workspace: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "--help"], capture_output=True, text=True
    )
    assert "closes the pipe early (| head -1) ends it with 0" in " ".join(done.stdout.split())
