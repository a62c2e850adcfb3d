"""`ocp-server proxy`: the routing proxy for Anthropic and OpenAI clients (its arguments are
declared in ocp_server.cli)."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import signal
import sys
from pathlib import Path
from types import FrameType

from ocp_server.cli_index import answering
from ocp_server.entry import EXIT_FAILURE, EXIT_USAGE
from ocp_server.proxy.service import ProxyListenError, serve
from ocp_server.proxy.settings import ProxySettings


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _announce(url: str) -> None:
    print(
        f"ocp-server proxy on {url} (dashboard {url}/ui; Claude Code: "
        f"ANTHROPIC_BASE_URL={url}; OpenAI clients: {url}/v1)",
        file=sys.stderr,
    )


def run_proxy(args: argparse.Namespace, workspace: Path) -> int:
    settings = ProxySettings.from_env(OCP_PROXY_PORT=args.port, OCP_PROXY_HOST=args.host)
    if not _loopback(settings.host) and settings.token is None:
        print(
            f"ocp-server: binding {settings.host} exposes your API keys to the network; "
            "set OCP_PROXY_TOKEN first",
            file=sys.stderr,
        )
        return EXIT_USAGE
    # uvicorn, once shut down gracefully, raises the signal that stopped it again: SIGTERM's
    # default action ended the process there, before the queued traces were written and the
    # store closed. As Ctrl-C, it now unwinds through them.
    # In a sub-folder of an indexed project its traces go to the project's store, the one
    # `ocp-server stats` reads there (cli_index.answering), not a store of the sub-folder's.
    workspace, _ = answering(args, workspace, scoped=False)
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        asyncio.run(serve(settings, workspace, on_listening=_announce))
    except KeyboardInterrupt:
        pass
    except ProxyListenError as exc:
        print(f"ocp-server: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _stop(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt
