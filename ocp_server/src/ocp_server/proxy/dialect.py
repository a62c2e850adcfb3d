"""The two dialects a client may speak (Anthropic Messages, OpenAI Chat Completions), which
one a request is in, and errors answered in it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType

import httpx
from starlette.responses import JSONResponse

from ocp_server.off_loop import WorkTimedOut
from ocp_server.proxy import anthropic, openai
from ocp_server.proxy.upstream import relay_headers


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    module: ModuleType
    path: str  # the upstream path, appended to the upstream base URL


ANTHROPIC = Dialect("anthropic", anthropic, "/v1/messages")
OPENAI = Dialect("openai", openai, "/chat/completions")


def error_answer(
    d: Dialect,
    status: int,
    message: str,
    kind: str | None = None,
    *,
    param: str | None = None,
    code: str | None = None,
) -> JSONResponse:
    body = d.module.error_body(status, message, kind, param=param, code=code)
    return JSONResponse(body, status_code=status)


def upstream_error_answer(
    d: Dialect, status: int, message: str, upstream: httpx.Headers
) -> JSONResponse:
    """An upstream's error in our words, with its status and the headers a client's retry
    logic reads (retry-after, rate limits, request ids)."""
    headers = {k: v for k, v in relay_headers(upstream).items() if k.lower() != "content-type"}
    return JSONResponse(d.module.error_body(status, message), status, headers)


def timed_out_answer(d: Dialect, exc: WorkTimedOut) -> JSONResponse:
    """A step of the proxy's own work that never finished: a 500 that SDKs do not retry (the
    same body would keep them waiting as long again)."""
    message = f"the OCP proxy's {exc} (OCP_PROXY_WORK_TIMEOUT); the request was given up"
    response = error_answer(d, 500, message)
    response.headers["x-should-retry"] = "false"
    return response


def dialect_of(path: str, headers: Mapping[str, str]) -> Dialect:
    """The dialect a request is in, before it has reached a route: by its path, else by
    its client (an Anthropic client sends `anthropic-version`)."""
    anthropic_client = path.startswith("/v1/messages") or "anthropic-version" in headers
    return ANTHROPIC if anthropic_client else OPENAI
