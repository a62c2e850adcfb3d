"""The `ocp-server` command line. With no sub-command it serves MCP over stdio."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from ocp_router.errors import ConfigError
from ocp_server import __version__
from ocp_server.cli_index import add_index_commands
from ocp_server.cli_server import add_server_commands
from ocp_server.server import serve_stdio
from ocp_server.settings import ServerSettings


def resolve_workspace(flag: str | None) -> Path:
    """`--workspace`, else `OCP_WORKSPACE`, else the current directory."""
    env = (os.environ.get("OCP_WORKSPACE") or "").strip()
    if flag:
        return Path(flag).expanduser().resolve()
    if env and not env.startswith("$"):
        return Path(env).expanduser().resolve()
    return Path.cwd()


def configure_logging(verbose: bool = False) -> None:
    """Logs go to stderr: stdout belongs to the MCP protocol (and to --json output)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # One INFO line per routed request is ours; httpx's per-request lines are noise here.
    for noisy in ("httpx", "httpcore", "anthropic", "mcp"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocp-server",
        description="Local-first context and model routing for IDE coding agents. With no "
        "command, serves MCP over stdio (what an IDE runs from .mcp.json).",
    )
    parser.add_argument("--version", action="version", version=f"ocp-server {__version__}")
    parser.add_argument("--workspace", help="workspace folder (default: OCP_WORKSPACE or cwd)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_index_commands(sub)
    add_server_commands(sub)
    return parser


def serve() -> int:
    """Serve MCP over stdio until the client closes stdin."""
    try:
        settings = ServerSettings.from_env()
    except ConfigError as exc:
        print(f"ocp-server: {exc}", file=sys.stderr)
        return 2
    asyncio.run(serve_stdio(settings))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    if args.command is None:
        return serve()
    result: int = args.handler(args, resolve_workspace(args.workspace))
    return result


if __name__ == "__main__":
    sys.exit(main())
