"""`POST /v1/messages/count_tokens`: the provider's count with credentials, else the
router's estimate."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ocp_server.off_loop import WorkTimedOut
from ocp_server.proxy import anthropic
from ocp_server.proxy.admission import Admission, Refused
from ocp_server.proxy.base import body_size, tokens_of
from ocp_server.proxy.boundary import redact_body, redacted_error
from ocp_server.proxy.chat import BadRequest, check_model
from ocp_server.proxy.client_gone import ClientGone, unless_client_leaves
from ocp_server.proxy.dialect import (
    ANTHROPIC,
    error_answer,
    timed_out_answer,
    upstream_error_answer,
)
from ocp_server.proxy.upstream import (
    UpstreamUnreachable,
    failed_message,
    open_upstream,
    relay_headers,
    unreachable_message,
    unreachable_status,
    unreadable_encoding,
)
from ocp_server.proxy.whole_body import (
    ERROR_BODY_BYTES,
    BodyTooLarge,
    error_too_long,
    read_head,
    read_whole,
)


class TokenCounting(Admission):
    """The count_tokens route."""

    async def count_tokens(self, request: Request) -> Response:
        try:
            return await self._count_tokens(request)
        except WorkTimedOut as exc:
            return timed_out_answer(ANTHROPIC, exc)

    async def _count_tokens(self, request: Request) -> Response:
        d = ANTHROPIC
        try:
            consumed = self._check_token(request)
            body = await self._read_body(request)
        except Refused as exc:
            return error_answer(d, exc.status, str(exc), exc.kind)
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return error_answer(d, 400, "messages: expected a list of messages")
        try:  # required by the API, which refuses a body without it: so does the estimate
            check_model(body)
        except BadRequest as exc:
            return error_answer(d, 400, str(exc))
        creds = self._credentials(d, request.headers, consumed)
        if creds:
            # counted for the model asked for, which no block another model signed goes to
            self.signed_thinking.drop_others(body, body["model"])
            size = body_size(request)
            await self._work("redaction", size, _for_upstream, body, building=True)
            headers = creds | self._forwarded(request.headers)
            counting = self._count_upstream(headers, body, body_size(request))
            try:
                return await unless_client_leaves(request, counting)
            except ClientGone:
                return error_answer(d, 499, "the client went away before the answer")
        # No credentials: the router's estimate, which is what routing used anyway.
        parts = [body.get("system"), body["messages"], body.get("tools")]
        tokens = await self._work("token count", body_size(request), tokens_of, parts)
        return JSONResponse({"input_tokens": tokens})

    async def _count_upstream(
        self, headers: dict[str, str], body: dict[str, Any], size: int
    ) -> Response:
        """The provider's count, relayed (its error too, unless too long to be an honest one)."""
        d = ANTHROPIC
        url = self.settings.anthropic_upstream.rstrip("/") + "/v1/messages/count_tokens"
        try:
            response = await open_upstream(
                self.client,
                url,
                headers,
                body,
                self.settings.upstream_timeout,
                size=size,
                work_timeout=self.settings.work_timeout,
            )
        except UpstreamUnreachable as exc:
            said = unreachable_message(
                "Anthropic",
                url,
                "OCP_PROXY_ANTHROPIC_UPSTREAM",
                exc,
                self.settings.upstream_timeout,
            )
            return error_answer(d, unreachable_status(exc), said)
        if unreadable := unreadable_encoding(response.headers, "Anthropic"):
            await response.aclose()
            return error_answer(d, 502, unreadable)
        status = response.status_code
        try:
            if status == 200:
                content = await read_whole(response)
            else:
                error = await read_head(response, ERROR_BODY_BYTES)
                if error.rest is not None:
                    message = error_too_long("Anthropic", status, ERROR_BODY_BYTES, error.data)
                    return upstream_error_answer(d, status, message, response.headers)
                content = error.data
        except httpx.HTTPError as exc:
            setting, timeout = "OCP_PROXY_ANTHROPIC_UPSTREAM", self.settings.upstream_timeout
            said = failed_message("Anthropic", url, setting, exc, timeout, "mid-body")
            return error_answer(d, 502, said)
        except BodyTooLarge as exc:
            return error_answer(d, 502, f"the Anthropic upstream failed: {exc}")
        finally:
            await response.aclose()
        if status != 200:
            content = redacted_error(content)
        return Response(content, status, relay_headers(response.headers))


def _for_upstream(body: dict[str, Any]) -> None:
    """`body` as the provider may read it: local answers' thinking blocks out (it refuses
    their signature, anthropic.drop_local_thinking) and redacted."""
    anthropic.drop_local_thinking(body)
    redact_body(body)
