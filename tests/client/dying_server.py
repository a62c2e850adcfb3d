"""An MCP server over stdio that misbehaves on purpose (run as a script): `hang` never
answers, nor does `ocp_model_route` (a route still running), `die` writes its last words on
stderr and exits at once."""

from __future__ import annotations

import os
import sys

import anyio
from mcp.server.mcpserver import MCPServer

server = MCPServer("dying")


@server.tool()
async def hang() -> str:
    await anyio.sleep_forever()
    return "never"


@server.tool(name="ocp_model_route")
async def route() -> str:
    await anyio.sleep_forever()
    return "never"


@server.tool()
async def die() -> str:
    print("fatal: the index is corrupt", file=sys.stderr, flush=True)
    os._exit(70)


@server.tool()
async def pid() -> int:
    return os.getpid()


if __name__ == "__main__":
    server.run()
