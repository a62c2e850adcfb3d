"""The two dialects a client may speak (Anthropic Messages, OpenAI Chat Completions), which
one a request is in, and errors answered in it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType

import httpx
from starlette.responses import JSONResponse, Response

from ocp_server.off_loop import WorkTimedOut
from ocp_server.proxy import anthropic, openai
from ocp_server.proxy.upstream import relay_headers
from ocp_wire.save import PROXY_REQUEST_PREFIX


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    module: ModuleType
    path: str  # the upstream path, appended to the upstream base URL
    # The response header its API names each request by (Anthropic's API overview: "request-id:
    # a globally unique identifier for the request"; OpenAI's "x-request-id"), which its SDK
    # shows with every error (`request_id`, `_request_id`).
    request_id_header: str


ANTHROPIC = Dialect("anthropic", anthropic, "/v1/messages", "request-id")
OPENAI = Dialect("openai", openai, "/chat/completions", "x-request-id")


def new_request_id() -> str:
    """The id of one proxied request: its trace's id, and (`request_id`) in its answer's
    header and every log line about it."""
    return uuid.uuid4().hex


def request_id(trace_id: str) -> str:
    """A request's id as its answer's header gives it: OCP's own, marked so (a provider's
    support knows nothing of it)."""
    return PROXY_REQUEST_PREFIX + trace_id


def named(d: Dialect, response: Response, trace_id: str | None = None) -> Response:
    """`response` naming its request in `d`'s header: OCP's id (`trace_id`'s, else a new one),
    unless it relays a paid upstream's own (the id its provider's support knows)."""
    if d.request_id_header not in response.headers:
        response.headers[d.request_id_header] = request_id(trace_id or new_request_id())
    return response


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
