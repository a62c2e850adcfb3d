"""ocp-server over stdio with a clock a test moves: the file named by OCP_TEST_CLOCK_FILE
holds how many seconds to add to the real time (read at every reading). Run as a script."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from pathlib import Path

from ocp_server.cli import configure_logging
from ocp_server.server import serve_stdio
from ocp_server.settings import ServerSettings


def shifted() -> float:
    try:
        offset = float(Path(os.environ["OCP_TEST_CLOCK_FILE"]).read_text() or 0)
    except (OSError, ValueError):
        offset = 0.0
    return time.time() + offset


if __name__ == "__main__":
    configure_logging()
    settings = dataclasses.replace(ServerSettings.from_env(), clock=shifted)
    asyncio.run(serve_stdio(settings))
