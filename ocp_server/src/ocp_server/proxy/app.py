"""The proxy's HTTP application: its routes, each in the client's dialect, and the app that
serves them (`build_app`). What happens to one request is in serving.py."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ocp_router import Tier
from ocp_server.errors import busy_text, database_busy
from ocp_server.off_loop import WorkTimedOut
from ocp_server.proxy.admission import Refused
from ocp_server.proxy.count_tokens import TokenCounting
from ocp_server.proxy.dialect import (
    ANTHROPIC,
    OPENAI,
    Dialect,
    dialect_of,
    error_answer,
    named,
    new_request_id,
    request_id,
    timed_out_answer,
)
from ocp_server.proxy.loopback import is_loopback
from ocp_server.proxy.model_list import ModelListing, models_dialect
from ocp_server.proxy.origin import LoopbackOnly
from ocp_server.proxy.own_address import SERVICE
from ocp_server.proxy.serving import Serving

logger = logging.getLogger(__name__)


class Proxy(Serving, TokenCounting, ModelListing):
    """The routes and the state they share. Build with `build_app`."""

    async def messages(self, request: Request) -> Response:
        return await self._guarded(request, ANTHROPIC)

    async def chat_completions(self, request: Request) -> Response:
        return await self._guarded(request, OPENAI)

    async def _guarded(self, request: Request, d: Dialect) -> Response:
        """A bug of ours is still an answer in the client's dialect, not a bare 500 page.
        Every answer names the request (`d.request_id_header`): OCP's id, which its trace and
        log lines carry, unless it relays a paid upstream's own (the trace has both)."""
        trace_id = new_request_id()
        try:
            response = await self._serve(request, d, trace_id)
        except WorkTimedOut as exc:  # before the request's trace began (later ones end it)
            response = timed_out_answer(d, exc)
        except Exception as exc:  # noqa: BLE001 - the top-level handler
            if database_busy(exc):  # another process kept the database: no bug (errors.py)
                ws = self.workspace
                busy = busy_text("the request", ws.index.db_path if ws is not None else None)
                logger.warning("proxy %s: %s", request_id(trace_id), busy)
                response = error_answer(d, 503, busy)
            else:
                logger.exception("proxy %s: the request failed", request_id(trace_id))
                response = error_answer(d, 500, f"the OCP proxy failed: {type(exc).__name__}")
        return named(d, response, trace_id)

    # Answers that route nothing name their request too, as every answer of the API does
    # (an SDK shows it with an error): a token count, the model list and one model of it.
    async def count_tokens(self, request: Request) -> Response:
        return named(ANTHROPIC, await super().count_tokens(request))

    async def models(self, request: Request) -> Response:
        return named(models_dialect(request), await super().models(request))

    async def model(self, request: Request) -> Response:
        return named(models_dialect(request), await super().model(request))

    async def ui(self, request: Request) -> Response:
        try:
            self._check_token(request, allow_query=True)
        except Refused as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        return HTMLResponse(self._dashboard, headers={"cache-control": "no-store"})

    async def api_stats(self, request: Request) -> Response:
        try:
            self._check_token(request, allow_query=True)
        except Refused as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        # the conversations the router keeps above the local tier, and until when
        floors = self.router.floors.lapsing()
        sticky = {s: (t.value, until) for s, t, until in floors if t is not Tier.LOCAL}
        return JSONResponse(self.recorder.summary(sticky))

    async def health(self, request: Request) -> Response:
        return JSONResponse({"ok": True, "service": SERVICE})  # what own_address.py asks


def build_app(proxy: Proxy, *, lifespan: Any = None) -> Starlette:
    routes = [
        Route("/v1/messages", proxy.messages, methods=["POST"]),
        Route("/v1/messages/count_tokens", proxy.count_tokens, methods=["POST"]),
        Route("/v1/chat/completions", proxy.chat_completions, methods=["POST"]),
        Route("/chat/completions", proxy.chat_completions, methods=["POST"]),
        Route("/v1/models", proxy.models, methods=["GET"]),
        Route("/models", proxy.models, methods=["GET"]),
        # an Ollama name may hold slashes (hf.co/org/model)
        Route("/v1/models/{model_id:path}", proxy.model, methods=["GET"]),
        Route("/models/{model_id:path}", proxy.model, methods=["GET"]),
        Route("/ui", proxy.ui, methods=["GET"]),
        Route("/api/stats", proxy.api_stats, methods=["GET"]),
        Route("/health", proxy.health, methods=["GET"]),
    ]
    handlers = {404: _no_route, 405: _no_route}
    middleware = []
    if is_loopback(proxy.settings.host):
        middleware.append(Middleware(LoopbackOnly, error_body=_refused_body))
    return Starlette(
        routes=routes, lifespan=lifespan, exception_handlers=handlers, middleware=middleware
    )


def _refused_body(path: str, headers: Mapping[str, str], message: str) -> dict[str, Any]:
    body: dict[str, Any] = dialect_of(path, headers).module.error_body(
        403, message, "permission_error"
    )
    return body


async def _no_route(request: Request, exc: Exception) -> Response:
    """404 and 405 in the request's dialect, not Starlette's plain-text page an SDK cannot
    read."""
    d = dialect_of(request.url.path, request.headers)
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    what = "no such route" if status == 404 else "method not allowed"
    message = (
        f"{request.method} {request.url.path}: {what} on the OCP proxy (it serves POST "
        "/v1/messages, /v1/messages/count_tokens, /v1/chat/completions and GET /v1/models[/{id}])"
    )
    headers = getattr(exc, "headers", None) or {}
    return named(d, JSONResponse(d.module.error_body(status, message), status, headers))
