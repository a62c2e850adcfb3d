"""A request relayed to the paid provider: the client's body, with the tier's model (never
above the requested one unless OCP_PROXY_CEILING=none) and redacted, goes to the provider
with the client's credentials (else the environment's key); the answer comes back as it was
sent, its usage costed (or the input estimated when none came)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response

from ocp_router import Tier
from ocp_router.redact_names import redact_name_head
from ocp_router.sticky import Sticky
from ocp_server.at_rest import kept_id
from ocp_server.off_loop import WorkTimedOut
from ocp_server.proxy import openai
from ocp_server.proxy.base import ProxyBase, body_size, tokens_of
from ocp_server.proxy.boundary import redact_body, redacted_error
from ocp_server.proxy.chat import Usage
from ocp_server.proxy.client_gone import ClientGone, unless_client_leaves
from ocp_server.proxy.dialect import (
    ANTHROPIC,
    OPENAI,
    Dialect,
    error_answer,
    timed_out_answer,
    upstream_error_answer,
)
from ocp_server.proxy.recorder import Attempted, ProxyRecord
from ocp_server.proxy.relayed import Relayed, settled
from ocp_server.proxy.served_model import renamed, renamed_lines, served_header
from ocp_server.proxy.settings import Ceiling
from ocp_server.proxy.upstream import (
    Outcome,
    UpstreamUnreachable,
    failed_message,
    open_upstream,
    relay_body,
    relay_headers,
    relay_stream,
    unreachable_message,
    unreachable_status,
    unreadable_encoding,
)
from ocp_server.proxy.whole_body import ERROR_BODY_BYTES, HEAD_BYTES, error_too_long, read_head
from ocp_wire.base import MAX_TRACE_ID_CHARS

logger = logging.getLogger(__name__)


class PaidRelay(ProxyBase):
    """The paid relay (`_paid`), its model (`paid_model`) and its costing."""

    def paid_model(self, d: Dialect, tier: Tier, requested: str) -> str:
        """The tier's model for this dialect, never dearer than `requested` (unless
        OCP_PROXY_CEILING=none). A dialect the paid backend does not speak keeps `requested`."""
        rs = self.router_settings
        if rs.paid_backend != d.name:
            return requested
        candidate = (rs.top_model if tier is Tier.TOP else None) or rs.paid_model
        if self.settings.ceiling is Ceiling.NONE or candidate == requested:
            return candidate
        if requested == rs.local_model:  # listed, but no paid provider has it: the tier's
            return candidate
        if requested == rs.top_model:
            return candidate  # the top model asked for: any tier's model is at or below it
        if candidate == rs.top_model:
            return requested
        mine, theirs = self.router.price(candidate), self.router.price(requested)
        if mine is None or theirs is None:
            return requested
        cheaper = (
            mine.input_per_mtok <= theirs.input_per_mtok
            and mine.output_per_mtok <= theirs.output_per_mtok
        )
        return candidate if cheaper else requested

    async def _paid(
        self,
        d: Dialect,
        request: Request,
        body: dict[str, Any],
        tier: Tier,
        stream: bool,
        creds: dict[str, str],
        record: ProxyRecord,
        finish: Callable[[], None],
        started: float,
    ) -> Response:
        model = self.paid_model(d, tier, record.requested_model)
        size = body_size(request)
        body["model"] = model
        if d is OPENAI and (dropped := openai.drop_reasoning(body)):
            record.notes.append(f"paid: {dropped} local reasoning field(s) taken out")
        base = self.settings.anthropic_upstream if d is ANTHROPIC else self.settings.openai_upstream
        url = base.rstrip("/") + d.path
        # An upstream that refuses stream_options streams no usage: the input is estimated.
        no_usage = stream and d is OPENAI and url in self.refuse_stream_options
        options = body.get("stream_options")
        unasked_usage = stream and d is OPENAI and not no_usage and openai.ask_for_usage(body)
        if self.router.redact_paid:
            try:
                hidden = await self._work("redaction", size, redact_body, body, building=True)
            except WorkTimedOut as exc:
                record.status, record.error = 500, str(exc)
                finish()
                return timed_out_answer(d, exc)
            if hidden:
                record.notes.append(f"redacted {sum(hidden.values())} secrets before sending")
        headers = creds | self._forwarded(request.headers)
        record.model, record.backend = model, f"{d.name}-upstream"
        t0 = time.perf_counter()
        outcome = Outcome()
        setting = f"OCP_PROXY_{d.name.upper()}_UPSTREAM"

        def failure(exc: httpx.HTTPError, where: str) -> str:
            """A begun answer's failed read, in words (httpx's names its internals)."""
            logger.warning(
                "proxy %s: the %s upstream failed %s: %r", record.request_id, d.name, where, exc
            )
            return failed_message(d.name, url, setting, exc, self.settings.upstream_timeout, where)

        async def settle(cut_short: bool = False) -> None:
            """`cut_short`: the upstream had the request and was working on it (billed)."""
            ok = outcome.status == 200 and outcome.error is None
            ms = round((time.perf_counter() - t0) * 1000, 3)
            record.status, record.error = outcome.status, outcome.error
            if ok and no_usage and outcome.usage == Usage():
                await self._estimate_input(record, outcome, body, size)
            if ok or outcome.usage.output_tokens:
                record.answered_tier = tier.value if ok else None
                await self._account(record, tier, model, outcome.usage)
                if not ok:
                    record.failed_cost_usd = record.cost_usd or 0.0
            elif cut_short or outcome.status == 200:
                await self._bill_cut(record, model, body, size)
            record.attempts.append(
                Attempted(
                    tier.value,
                    record.backend,
                    model,
                    "ok" if ok else "error",
                    ms,
                    outcome.error,
                    None if ok else f"HTTP {outcome.status}",
                    record.cost_usd,
                    record.cost_estimated,
                )
            )
            finish()

        opening = open_upstream(
            self.client,
            url,
            headers,
            body,
            self.settings.upstream_timeout,
            outcome,
            size=size,
            work_timeout=self.settings.work_timeout,
        )
        try:
            response = await unless_client_leaves(request, opening)
        except WorkTimedOut as exc:  # the body was never sent
            outcome.status, outcome.error = 500, str(exc)
            await settle()
            return timed_out_answer(d, exc)
        except UpstreamUnreachable as exc:
            outcome.status, outcome.error = (
                unreachable_status(exc),
                unreachable_message(d.name, url, setting, exc, self.settings.upstream_timeout),
            )
            # Timed out waiting for the answer: the request was read and worked on.
            await settle(isinstance(exc.__cause__, httpx.ReadTimeout))
            return error_answer(d, outcome.status, outcome.error)
        except ClientGone:
            return await self._client_gone(d, outcome, settle)
        outcome.status = response.status_code
        if unreadable := unreadable_encoding(response.headers, d.name):
            await response.aclose()
            outcome.status, outcome.error = 502, unreadable
            await settle()
            return error_answer(d, 502, outcome.error)
        relayed = relay_headers(response.headers) | served_header(model)
        # a model substituted for the one asked for is named as that one (served_model.py)
        asked = record.requested_model if model != record.requested_model else None
        signed = self.signed_thinking if d is ANTHROPIC else None

        def shown(lines: bytes) -> bytes:
            """Streamed lines as the client gets them; the thinking blocks in them noted."""
            if signed is not None:
                signed.note_events(lines, model)
            return renamed_lines(lines, asked) if asked is not None else lines

        if said := response.headers.get(d.request_id_header):  # relayed as the request's id
            # kept as long as `ocp_result_save` takes one, which finds it by it
            record.upstream_request_id = kept_id(said, MAX_TRACE_ID_CHARS)
        is_stream = response.headers.get("content-type", "").startswith("text/event-stream")
        if response.status_code != 200 or not is_stream:
            limit = HEAD_BYTES if response.status_code == 200 else ERROR_BODY_BYTES
            try:
                head = await unless_client_leaves(request, read_head(response, limit))
            except httpx.HTTPError as exc:
                await response.aclose()
                outcome.status, outcome.error = 502, failure(exc, "mid-body")
                await settle()
                return error_answer(d, 502, outcome.error)
            except ClientGone:
                await response.aclose()
                return await self._client_gone(d, outcome, settle)
            if unasked_usage and openai.refuses_stream_options(response.status_code, head.data):
                await response.aclose()
                self.refuse_stream_options.add(url)
                openai.unask_usage(body, options)
                ms = round((time.perf_counter() - t0) * 1000, 3)
                refused = redact_name_head(head.data.decode("utf-8", "replace"), 300)
                record.attempts.append(  # an attempt of its own; refused, it is not billed
                    Attempted(tier.value, record.backend, model, "error", ms, refused, "HTTP 400")
                )
                record.notes.append(
                    "the upstream refused stream_options: asked again without, usage estimated"
                )
                return await self._paid(
                    d, request, body, tier, stream, creds, record, finish, started
                )
            if response.status_code != 200:
                # redacted, then cut: a key cut short at 300 would match no pattern
                outcome.error = redact_name_head(head.data.decode("utf-8", "replace"), 300)
                if head.rest is not None:  # too long to be an honest error: not relayed
                    await response.aclose()
                    status = response.status_code
                    outcome.error = error_too_long(d.name, status, limit, head.data)
                    await settle()
                    return upstream_error_answer(d, status, outcome.error, response.headers)
            if head.rest is not None:  # too long to hold: relayed as it comes
                record.first_byte_ms = round((time.perf_counter() - started) * 1000, 3)
                relayed_body = relay_body(
                    response, head, outcome, d.module.usage_of_message, failure, asked
                )
                return Relayed(
                    settled(relayed_body, outcome, settle), response.status_code, relayed
                )
            await response.aclose()
            if response.status_code == 200:
                try:
                    message = json.loads(head.data)
                    outcome.usage = d.module.usage_of_message(message)
                except ValueError:
                    outcome.status = 502
                    outcome.error = (
                        f"the {d.name} upstream answered 200 with a body that is not JSON"
                    )
                    await settle()
                    return error_answer(d, 502, outcome.error)
                if signed is not None:
                    signed.note_message(message, model)
            await settle()
            if response.status_code != 200:
                data = redacted_error(head.data)
            else:
                data = renamed(head.data, asked) if asked is not None else head.data
            return Response(data, response.status_code, relayed)
        record.first_byte_ms = round((time.perf_counter() - started) * 1000, 3)
        events = relay_stream(
            response,
            outcome,
            d.module.usage_of_event,
            d.module.stream_error,
            failure,
            openai.unasked_usage if unasked_usage else None,
            shown if asked is not None or signed is not None else None,
        )
        return Relayed(settled(events, outcome, settle), status_code=200, headers=relayed)

    @staticmethod
    async def _client_gone(
        d: Dialect, outcome: Outcome, settle: Callable[[bool], Awaitable[None]]
    ) -> Response:
        """The paid request was cancelled: the trace says why; the answer reaches nobody.
        Once sent, unless the upstream had already refused it, it was read and is billed."""
        # 0: no status yet; the upstream is on it if the request went out (not if the
        # connection was still opening).
        working = outcome.status == 200 or (outcome.status == 0 and outcome.sent)
        outcome.status, outcome.error = 499, "the client went away before the answer"
        await settle(working)
        return error_answer(d, 499, outcome.error)

    async def _bill_cut(
        self, record: ProxyRecord, model: str, body: dict[str, Any], size: int
    ) -> None:
        """A paid relay cut short before any usage came: the provider bills the input it read,
        estimated as the router estimates a cut-short call (the output sent is not known)."""
        price = self.router.price(model)
        parts = [body.get("system"), body.get("messages"), body.get("tools")]
        try:
            tokens = await self._work("token count", size, tokens_of, parts)
        except WorkTimedOut as exc:
            record.notes.append(f"the input read was not costed: {exc}")
            return
        cost = price.cost(tokens, 0) if price else None
        record.cost_usd, record.cost_estimated = cost, True
        record.failed_cost_usd = cost or 0.0
        if cost:
            await self.router.ledger.add(cost)

    async def _estimate_input(
        self, record: ProxyRecord, outcome: Outcome, body: dict[str, Any], size: int
    ) -> None:
        """A paid stream from an upstream that sends no usage: its input estimated as the
        router estimates a prompt (the output is not counted), the cost marked an estimate."""
        try:
            tokens = await self._work("token count", size, tokens_of, body.get("messages"))
        except WorkTimedOut as exc:
            record.notes.append(f"the answer was not costed: {exc}")
            return
        outcome.usage = Usage(input_tokens=tokens)
        record.cost_estimated = True

    async def _account(self, record: ProxyRecord, tier: Tier, model: str, usage: Usage) -> None:
        record.input_tokens, record.output_tokens = usage.input_tokens, usage.output_tokens
        record.cache_read_tokens = usage.cache_read_tokens
        price = self.router.price(model)
        record.cost_usd = (
            price.cost(
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_read_tokens,
                usage.cache_write_tokens,
            )
            if price
            else None
        )
        asked = self.router.price(record.requested_model)
        if asked is not None:
            record.counterfactual_usd = asked.cost(
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_read_tokens,
                usage.cache_write_tokens,
            )
        if record.cost_usd:
            await self.router.ledger.add(record.cost_usd)
        if record.answered_tier:
            self.router.pins.pin(record.session, model, tier, usage.input_tokens)
            if self.router.sticky is Sticky.UPWARD:  # an escalation raises the floor too
                self.router.floors.lift(record.session, tier)
