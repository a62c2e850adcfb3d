"""What a request must pass before anything else: the proxy's token and the body's size and
syntax."""

from __future__ import annotations

import hmac
from typing import Any

from starlette.requests import Request

from ocp_server.proxy.base import ProxyBase
from ocp_server.proxy.body import BodyError, parse_body

TOKEN_HEADER = "x-ocp-proxy-token"


class Refused(Exception):
    """A request answered with an error before any routing (status, message, error kind)."""

    def __init__(self, status: int, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


class Admission(ProxyBase):
    """The token and the body checked, each failure raised as Refused."""

    def _check_token(self, request: Request, *, allow_query: bool = False) -> set[str]:
        """Raises Refused unless OCP_PROXY_TOKEN is unset or presented; returns the header
        names that carried it (they are the proxy's, not the provider's: not forwarded)."""
        token = self.settings.token
        if token is None:
            return set()
        headers = request.headers
        offered = {
            TOKEN_HEADER: headers.get(TOKEN_HEADER, ""),
            "authorization": headers.get("authorization", "").removeprefix("Bearer ").strip(),
            "x-api-key": headers.get("x-api-key", ""),
        }
        if allow_query:
            offered["query"] = request.query_params.get("token", "")
        used = {k for k, v in offered.items() if v and hmac.compare_digest(v, token)}
        if not used:
            raise Refused(
                401,
                "this proxy needs its token (OCP_PROXY_TOKEN): send it as "
                "`Authorization: Bearer <token>`, `x-api-key` or `x-ocp-proxy-token`",
                "authentication_error",
            )
        return used

    async def _read_body(self, request: Request) -> Any:
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise Refused(
                413,
                f"the request body is {int(declared):,} bytes; the limit is "
                f"{limit:,} (OCP_PROXY_MAX_BODY_BYTES)",
            )
        # Copied in as it arrives, a chunk a call: joining the chunks once read copied the whole
        # body again in one call on the event loop (15 MB: 2-9 ms, all other requests waiting).
        raw = bytearray()
        async for chunk in request.stream():
            if len(raw) + len(chunk) > limit:
                raise Refused(
                    413,
                    f"the request body is over the limit of {limit:,} bytes "
                    "(OCP_PROXY_MAX_BODY_BYTES)",
                )
            raw += chunk
        size = request.state.body_bytes = len(raw)
        try:
            return await self._work("parse of the request body", size, parse_body, raw)
        except BodyError as exc:
            raise Refused(400, str(exc)) from exc
