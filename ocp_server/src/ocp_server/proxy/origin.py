"""Only local programs and pages may use a proxy bound to loopback.

A web page the user visits can send requests to 127.0.0.1: a cross-site POST with a
`text/plain` body needs no CORS preflight, and DNS rebinding (a hostile name that resolves
to 127.0.0.1) lets the page read the answers too. The proxy would spend the environment's
API key for it and show it the traces. So, on loopback, a request whose `Host` is not a
loopback name, or whose `Origin` (browsers send it; agents and SDKs do not) is not a
loopback page, is refused, as the MCP specification asks of local HTTP servers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ocp_server.proxy.loopback import is_loopback


def refusal(headers: Headers) -> str | None:
    """Why a request is not from this machine's programs or pages, or None."""
    host = headers.get("host", "")
    if not is_loopback(host):
        return f"Host {host!r} is not this machine (the proxy listens on loopback only)"
    origin = headers.get("origin")
    if origin is not None:
        parts = urlsplit(origin)
        # A page on the web (or sandboxed: "null"); an editor's webview (vscode-webview://)
        # or an app's own scheme is no web page.
        web = origin == "null" or parts.scheme in ("http", "https")
        if web and not is_loopback(parts.netloc):
            return f"requests from the web page at {origin!r} are not accepted"
    return None


class LoopbackOnly:
    """ASGI middleware: what `refusal` refuses is a 403 with `error_body(path, headers,
    message)` (the error in the request's dialect)."""

    def __init__(
        self, app: ASGIApp, error_body: Callable[[str, Headers, str], dict[str, Any]]
    ) -> None:
        self.app = app
        self.error_body = error_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            problem = refusal(headers)
            if problem is not None:
                body = self.error_body(scope["path"], headers, problem)
                await JSONResponse(body, 403)(scope, receive, send)
                return
        await self.app(scope, receive, send)
