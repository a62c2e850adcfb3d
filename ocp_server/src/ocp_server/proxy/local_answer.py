"""A request answered by the local model: its conversation translated for the model and the
answer back into the client's dialect; a failure before the first byte reached the client
hands the request back (the paid tier answers), after it the stream ends with an error in
the client's dialect."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ocp_router.redact_names import redact_name, redact_name_head
from ocp_server.off_loop import WorkTimedOut
from ocp_server.proxy import anthropic, openai
from ocp_server.proxy.base import ProxyBase, body_size, tokens_of
from ocp_server.proxy.chat import BadRequest, Event
from ocp_server.proxy.client_gone import ClientGone, unless_client_leaves
from ocp_server.proxy.dialect import ANTHROPIC, Dialect, error_answer, timed_out_answer
from ocp_server.proxy.local import LocalFailed, stream_local, unread_prompt
from ocp_server.proxy.recorder import Attempted, ProxyRecord
from ocp_server.proxy.relayed import Relayed
from ocp_server.proxy.served_model import served_header

logger = logging.getLogger(__name__)


class LocalAnswer(ProxyBase):
    """The local answer: `_local`."""

    async def _local(
        self,
        d: Dialect,
        request: Request,
        body: dict[str, Any],
        stream: bool,
        record: ProxyRecord,
        finish: Callable[[], None],
        started: float,
    ) -> Response | None:
        """The local answer, or None (attempt recorded) when it failed before the first byte.
        A client that leaves before then stops the local model (not escalated: a 499)."""
        t0 = time.perf_counter()
        target = self.local
        size = body_size(request)

        def failed(outcome: str, error: str, kind: str = "BackendResponseError") -> None:
            ms = round((time.perf_counter() - t0) * 1000, 3)
            shown = redact_name_head(error, 300)  # redacted whole, then cut: no key's head
            record.attempts.append(
                Attempted(
                    "local",
                    target.kind,
                    target.model,
                    outcome,
                    ms,
                    shown,
                    kind if outcome == "error" else None,
                )
            )
            # the log as the trace: a local server's error may quote the key it refused
            logger.warning(
                "proxy %s: local %s %s failed: %s",
                record.request_id,
                target.kind,
                target.model,
                shown,
            )

        try:
            chat = d.module.to_chat(body)
        except BadRequest as exc:
            failed("error", str(exc), "BadRequest")
            return None
        record.notes.extend(n for n in chat.notes if n not in record.notes)

        def left() -> Response:
            ms = round((time.perf_counter() - t0) * 1000, 3)
            record.answered_tier = None
            record.status, record.error = 499, "the client went away before the answer"
            record.attempts.append(
                Attempted("local", target.kind, target.model, "error", ms, record.error, None)
            )
            finish()
            return error_answer(d, 499, record.error)

        events = stream_local(self.client, target, chat, record.notes)

        async def opening() -> tuple[list[Event], Event]:
            """The thinking before the answer, held, and the answer's first event: an answer
            that is all thinking is empty, and one that fails while thinking fails before the
            first byte (both escalate)."""
            held = []
            while (event := await anext(events)).kind == "thinking":
                held.append(event)
            return held, event

        try:
            held, first = await unless_client_leaves(request, opening())
        except LocalFailed as exc:
            failed("error", exc.detail, exc.error_type)
            return None
        except ClientGone:
            return left()
        if first.kind == "done" and first.stop != "stop_sequence":
            # (an answer that begins with the client's stop sequence is an answer: empty)
            failed("empty", "empty answer")
            await events.aclose()
            return None
        message_id = ("msg_ocp" if d is ANTHROPIC else "chatcmpl-ocp") + uuid.uuid4().hex[:20]
        record.answered_tier, record.model, record.backend = "local", target.model, target.kind
        asked = record.requested_model  # what the answer names (served_model.py)
        served = served_header(target.model)
        price = self.router.price(asked)

        def settle(done: Event | None, ok: bool, error: str | None = None) -> None:
            ms = round((time.perf_counter() - t0) * 1000, 3)
            record.attempts.append(
                Attempted("local", target.kind, target.model, "ok" if ok else "error", ms, error)
            )
            if done is not None:
                record.input_tokens = done.usage.input_tokens
                record.output_tokens = done.usage.output_tokens
            record.cost_usd = 0.0
            if price is not None:
                record.counterfactual_usd = price.cost(record.input_tokens, record.output_tokens)
            record.error = error
            finish()

        if not stream:

            async def collect() -> list[Event]:
                return [*held, first] + [e async for e in events]

            try:
                collected = await unless_client_leaves(request, collect())
            except LocalFailed as exc:
                # Nothing reached the client yet: this is still "before the first byte".
                record.answered_tier = None
                failed("error", exc.detail, exc.error_type)
                return None
            except ClientGone:
                return left()
            done = collected[-1]
            if cut := await unread_prompt(chat, done, self.client, self.local_cuts):
                # nothing sent yet: escalate
                record.answered_tier = None
                failed("error", cut, "BackendContextExceeded")
                return None
            record.status = 200
            settle(done, True)
            if d is ANTHROPIC:
                whole = anthropic.render_json(collected, asked, message_id)
            else:
                whole = openai.render_json(collected, asked, message_id, served=target.model)
            return JSONResponse(whole, headers=served)

        record.status = 200
        record.first_byte_ms = round((time.perf_counter() - started) * 1000, 3)
        seen: list[Event] = []

        async def tee() -> AsyncIterator[Event]:
            for e in held:
                yield e
            yield first
            async for e in events:
                if e.kind == "done":  # streamed: too late to escalate, the trace says so
                    if cut := await unread_prompt(chat, e, self.client, self.local_cuts):
                        record.notes.append(cut)
                seen.append(e)
                yield e

        if d is ANTHROPIC:
            messages = body.get("messages")
            try:
                prompt_tokens = await self._work("token count", size, tokens_of, messages)
            except WorkTimedOut as exc:  # nothing sent yet: the local answer is given up
                await events.aclose()
                record.answered_tier, record.status = None, 500
                settle(None, False, str(exc))
                return timed_out_answer(d, exc)
            rendered = anthropic.render_stream(tee(), asked, message_id, prompt_tokens)
        else:
            options = body.get("stream_options")
            include = isinstance(options, dict) and options.get("include_usage") is True
            rendered = openai.render_stream(tee(), asked, message_id, include, served=target.model)

        async def body_stream() -> AsyncGenerator[bytes, None]:
            error: str | None = None
            try:
                async for chunk in rendered:
                    yield chunk
            except LocalFailed as exc:
                # redacted as the trace is: the text goes to the client (an agent's cloud
                # model), and a local server's error may quote the key it refused
                error = f"the local model failed mid-stream: {redact_name(str(exc)).text}"
                yield d.module.stream_error(error, timed_out=exc.error_type == "BackendTimeout")
            finally:
                with anyio.CancelScope(shield=True):  # cancelled by a hangup: close still
                    await events.aclose()
                done = next((e for e in seen if e.kind == "done"), None)
                if done is None and error is None:
                    error = "the client went away mid-stream"
                settle(done, error is None, error)

        return Relayed(
            body_stream(),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache"} | served,
        )
