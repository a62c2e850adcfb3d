"""The `ocp-server` command line. With no sub-command it serves MCP over stdio."""

from __future__ import annotations

import argparse
import sys

from ocp_server import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocp-server",
        description="Local-first context and model routing for IDE coding agents (MCP over stdio).",
    )
    parser.add_argument("--version", action="version", version=f"ocp-server {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    parser.parse_args(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
