"""The `ocp-server` command: the CLI, loaded here so that a Ctrl-C while it is still loading
(half a second of imports) ends it as a later one does, with exit status 130 and no
KeyboardInterrupt traceback."""

from __future__ import annotations

__all__ = ["EXIT_FAILURE", "EXIT_INTERRUPTED", "EXIT_USAGE", "main"]

# The commands' exit statuses besides 0.
EXIT_FAILURE = 1  # the command could not do its work (a damaged file, a failed check)
EXIT_USAGE = 2  # a bad option, setting or workspace: argparse's status for a usage error
EXIT_INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C


def main() -> int:
    try:
        from ocp_server.collector import importing

        with importing():
            from ocp_server.cli import main as cli_main

        return cli_main()
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
