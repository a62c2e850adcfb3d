"""`GET /v1/models[/{id}]`: the models a client may ask for, in its dialect."""

from __future__ import annotations

from urllib.parse import quote

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ocp_server.argument_errors import clip
from ocp_server.proxy.admission import Admission, Refused
from ocp_server.proxy.base import LOOP_HEADER, LOOPED
from ocp_server.proxy.boundary import redacted_error
from ocp_server.proxy.dialect import ANTHROPIC, OPENAI, Dialect, error_answer, upstream_error_answer
from ocp_server.proxy.upstream import (
    UpstreamUnreachable,
    failed_message,
    relay_headers,
    unreachable_message,
    unreachable_status,
    unreadable_encoding,
)
from ocp_server.proxy.whole_body import ERROR_BODY_BYTES, HEAD_BYTES, error_too_long, read_head


def models_dialect(request: Request) -> Dialect:
    """The dialect a model list is asked in: Anthropic's when the client sends its
    `anthropic-version`, else OpenAI's."""
    return ANTHROPIC if "anthropic-version" in request.headers else OPENAI


class ModelListing(Admission):
    """The model list routes."""

    async def models(self, request: Request) -> Response:
        """The models a client may ask for, in its dialect: the paid tiers' and the local one
        when the paid backend speaks it; else its upstream's own list, relayed (a paid request
        in that dialect goes there with the model it names, so another name would fail there),
        or only the local model when there are no credentials to ask with."""
        d = models_dialect(request)
        try:
            consumed = self._check_token(request)
        except Refused as exc:
            return error_answer(d, exc.status, str(exc), exc.kind)
        creds = self._credentials(d, request.headers, consumed)
        if self.router_settings.paid_backend != d.name and creds:
            return await self._upstream_models(request, d, creds, "")
        return JSONResponse(d.module.models_list(self._models(d)))

    async def model(self, request: Request) -> Response:
        """One model of the list, as OpenAI's and Anthropic's APIs both answer it (an SDK's
        `models.retrieve`); one the proxy does not list is not found, in the dialect's words."""
        d = models_dialect(request)
        try:
            consumed = self._check_token(request)
        except Refused as exc:
            return error_answer(d, exc.status, str(exc), exc.kind)
        name = request.path_params["model_id"]
        creds = self._credentials(d, request.headers, consumed)
        if self.router_settings.paid_backend != d.name and creds:
            return await self._upstream_models(request, d, creds, "/" + quote(name, safe=":"))
        if name not in self._models(d):
            kind = "model_not_found" if d is OPENAI else None  # OpenAI's code; Anthropic's 404
            return error_answer(d, 404, d.module.no_such_model(clip(name)), kind)
        return JSONResponse(d.module.model_info(name))

    def _models(self, d: Dialect) -> list[str]:
        """The models the proxy answers with in `d`, once each: the paid tiers' and the local
        one, or the local one alone when the paid backend does not speak `d` (and there are
        no credentials to ask its upstream with: only the local model can answer then)."""
        rs = self.router_settings
        names = [rs.paid_model, rs.top_model] if rs.paid_backend == d.name else []
        names.append(rs.local_model)
        return [m for i, m in enumerate(names) if m and m not in names[:i]]

    async def _upstream_models(
        self, request: Request, d: Dialect, creds: dict[str, str], suffix: str
    ) -> Response:
        """`d`'s upstream's model list (or one model of it, `suffix`), relayed as it came, its
        error redacted; one not reached or broken is a 502 naming its URL and setting."""
        if request.headers.get(LOOP_HEADER):  # relayed to itself, it would ask itself again
            return error_answer(d, 508, LOOPED)
        base = self.settings.anthropic_upstream if d is ANTHROPIC else self.settings.openai_upstream
        url = base.rstrip("/") + ("/v1/models" if d is ANTHROPIC else "/models") + suffix
        setting, timeout = f"OCP_PROXY_{d.name.upper()}_UPSTREAM", self.settings.upstream_timeout
        headers = creds | self._forwarded(request.headers) | {"accept-encoding": "identity"}
        upstream = self.client.build_request(
            "GET",
            url,
            params=request.query_params,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        )
        try:
            response = await self.client.send(upstream, stream=True)
        except httpx.HTTPError as exc:
            cause = UpstreamUnreachable(f"{type(exc).__name__}: {exc}".rstrip(": "))
            cause.__cause__ = exc
            said = unreachable_message(d.name, url, setting, cause, timeout)
            return error_answer(d, unreachable_status(cause), said)
        try:
            if unreadable := unreadable_encoding(response.headers, d.name):
                return error_answer(d, 502, unreadable)
            head = await read_head(response, HEAD_BYTES)
        except httpx.HTTPError as exc:
            return error_answer(
                d, 502, failed_message(d.name, url, setting, exc, timeout, "mid-body")
            )
        finally:
            await response.aclose()
        status = response.status_code
        if status == 200 and head.rest is not None:
            return error_answer(
                d, 502, f"the {d.name} upstream's model list is over {HEAD_BYTES:,} bytes"
            )
        if status != 200 and len(head.data) > ERROR_BODY_BYTES:
            message = error_too_long(d.name, status, ERROR_BODY_BYTES, head.data)
            return upstream_error_answer(d, status, message, response.headers)
        content = head.data if status == 200 else redacted_error(head.data)
        return Response(content, status, relay_headers(response.headers))
