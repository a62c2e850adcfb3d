"""An Anthropic- and OpenAI-compatible proxy that routes an agent's own model requests:
`ocp-server proxy`. See serving.py for what happens to one request.

Its names load on first use: the MCP server reads the proxy's settings (settings.py, to tell
its own paid calls from the proxy's address) without Starlette and uvicorn.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ocp_server.proxy.app import Proxy, build_app
    from ocp_server.proxy.service import open_proxy, serve
    from ocp_server.proxy.settings import Ceiling, ProxySettings

_HOMES = {
    "Proxy": "ocp_server.proxy.app",
    "build_app": "ocp_server.proxy.app",
    "open_proxy": "ocp_server.proxy.service",
    "serve": "ocp_server.proxy.service",
    "Ceiling": "ocp_server.proxy.settings",
    "ProxySettings": "ocp_server.proxy.settings",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(home), name)


__all__ = ["Ceiling", "Proxy", "ProxySettings", "build_app", "open_proxy", "serve"]
