"""The `ocp-server` command: the CLI, loaded here so that a Ctrl-C while it is still loading
(half a second of imports) ends it as a later one does, with exit status 130 and no
KeyboardInterrupt traceback; and a reader that closes the pipe (`| head -1`) ends it quietly."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

__all__ = ["EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_USAGE", "closed_output", "ended", "main"]

# The commands' exit statuses besides 0.
EXIT_FAILURE = 1  # the command could not do its work (a damaged file, a failed check)
EXIT_USAGE = 2  # a bad option, setting or workspace: argparse's status for a usage error
EXIT_INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C
EXIT_READER_GONE = 0  # the reader took what it wanted (`| head -1`): nothing failed


def closed_output() -> int:
    """The end of a command whose reader closed its pipe: 0, as `set -o pipefail` scripts
    expect of `cmd | head -1` (141, the shell's SIGPIPE code, would fail them). stdout is
    pointed at /dev/null so the interpreter's last flush cannot print "Exception ignored"."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no stdout to repoint (closed, or not a file)
        pass
    return EXIT_READER_GONE


def ended(command: Callable[[], int]) -> int:
    """`command`'s exit status, a Ctrl-C (130) and a closed pipe (0) included: one ending for
    the `ocp-server` script and `python -m ocp_server.cli`."""
    try:
        try:
            return command()
        finally:  # a pipe's last block (argparse's --help exits), where a closed pipe is caught
            sys.stdout.flush()
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return closed_output()


def main() -> int:
    try:
        from ocp_server.collector import importing

        with importing():
            from ocp_server.cli import main as cli_main
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return ended(cli_main)
