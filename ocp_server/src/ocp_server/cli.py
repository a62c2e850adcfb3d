"""The `ocp-server` command line. With no sub-command it serves MCP over stdio."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from pathlib import Path

from ocp_router.errors import ConfigError
from ocp_router.redact import RedactingFilter
from ocp_server import __version__
from ocp_server.cli_index import add_index_commands
from ocp_server.cli_init import add_init_command
from ocp_server.cli_routing import add_routing_commands
from ocp_server.cli_server import add_server_commands
from ocp_server.server import serve_stdio
from ocp_server.settings import ServerSettings

OUR_LOGGERS = ("ocp_server", "ocp_router", "ocp_client")


def version_line() -> str:
    """`ocp-server 0.4.0 (ocp-router 0.4.0, mcp 2.3.0, Python 3.11.7)`: the versions that
    decide whether this install works, in the one line users paste into bug reports."""
    parts = []
    for dist in ("ocp-router", "mcp"):
        try:
            parts.append(f"{dist} {dist_version(dist)}")
        except PackageNotFoundError:
            parts.append(f"{dist} missing")
    parts.append(f"Python {platform.python_version()}")
    return f"ocp-server {__version__} ({', '.join(parts)})"


def resolve_workspace(flag: str | None) -> Path:
    """`--workspace`, else `OCP_WORKSPACE`, else the current directory."""
    env = (os.environ.get("OCP_WORKSPACE") or "").strip()
    if flag:
        return Path(flag).expanduser().resolve()
    if env and not env.startswith("$"):
        return Path(env).expanduser().resolve()
    return Path.cwd()


def configure_logging(verbosity: int = 0) -> None:
    """Logs go to stderr: stdout belongs to the MCP protocol (and to --json output).

    `-v` shows OCP's own debug lines; `-vv` also every library's (aiosqlite alone logs each
    SQL call at DEBUG, thousands of lines for one index)."""
    logging.basicConfig(
        level=logging.DEBUG if verbosity >= 2 else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for name in OUR_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbosity >= 1 else logging.INFO)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())  # whatever a log line quotes (-vv: SQL too)


def common_options(*, top: bool) -> argparse.ArgumentParser:
    """Options every command accepts, before or after the command's name. On sub-commands
    they default to SUPPRESS, so `ocp-server -v index` is not undone by index's own default."""
    parent = argparse.ArgumentParser(add_help=False)
    unset = None if top else argparse.SUPPRESS
    parent.add_argument("--version", action="version", version=version_line())
    parent.add_argument(
        "--workspace", default=unset, help="workspace folder (default: OCP_WORKSPACE or cwd)"
    )
    parent.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0 if top else argparse.SUPPRESS,
        help="debug logging on stderr (-vv: libraries too)",
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocp-server",
        description="Local-first context and model routing for IDE coding agents. With no "
        "command, serves MCP over stdio (what an IDE runs from its MCP config). Start with "
        "`ocp-server init --client claude-code` in your project.",
        parents=[common_options(top=True)],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = common_options(top=False)
    add_init_command(sub, common)
    add_index_commands(sub, common)
    add_server_commands(sub, common)
    add_routing_commands(sub, common)
    return parser


def serve() -> int:
    """Serve MCP over stdio until the client closes stdin. A configuration error does not stop
    the server: it starts, and every tool answers with the error (an IDE shows a tool's error;
    a server that exits shows only "Connection closed")."""
    try:
        settings: ServerSettings | None = ServerSettings.from_env()
        error = None
    except ConfigError as exc:
        print(f"ocp-server: {exc}", file=sys.stderr)
        settings, error = None, str(exc)
    asyncio.run(serve_stdio(settings, error))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    if args.command is None:
        return serve()
    try:
        result: int = args.handler(args, resolve_workspace(args.workspace))
    except ConfigError as exc:  # an OCP_* variable: one line naming it, exit status 2
        print(f"ocp-server: {exc}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())
