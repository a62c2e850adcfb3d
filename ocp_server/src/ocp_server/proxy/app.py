"""The proxy's HTTP application: Anthropic Messages and OpenAI Chat Completions in, each
request decided by the router, answered by the local model (translated) or relayed to the
paid provider (faithfully), traced.

Per request:
1. the bearer token (OCP_PROXY_TOKEN), the size limit and the body's shape are checked, each
   failure answered in the client's dialect;
2. `OCPRouter.plan` decides the tier over the whole payload (phase 1, phase 2 for the
   ambiguous band, pins); OCP_STICKY=upward keeps a session at its highest tier;
3. local: the conversation is translated for the local model and its answer back; a failure
   before the first byte reaches the client escalates to the paid tier; after it, the stream
   ends with an error in the client's dialect;
4. paid: the client's body, with the tier's model (never above the requested one unless
   OCP_PROXY_CEILING=none) and redacted, goes to the provider with the client's credentials
   (else the environment's key); the answer comes back as it was sent.

Over 600 lines on purpose: the four steps above share the request's state (dialect, decision,
trace) and read top to bottom as one request's path; the dialects live in their own modules.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from types import ModuleType
from typing import Any, TypeVar
from urllib.parse import quote

import anyio
import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ocp_router import (
    OCPRouter,
    PaidFallback,
    PayloadError,
    RouterSettings,
    Tier,
    estimate_tokens,
    parse_payload,
)
from ocp_router.backends.ollama import OllamaBackend
from ocp_router.backends.ollama_version import SilentCutCheck
from ocp_router.backends.openai import OpenAIBackend
from ocp_router.budget import usd, usd_limit
from ocp_router.payload import AgentPayload
from ocp_router.phase1 import Assessment
from ocp_router.redact_names import redact_name_head
from ocp_router.sticky import Sticky
from ocp_router.tiers import Band
from ocp_server.argument_errors import clip
from ocp_server.off_loop import WorkTimedOut, off_loop_within
from ocp_server.proxy import anthropic, openai
from ocp_server.proxy.body import BodyError, parse_body
from ocp_server.proxy.boundary import redact_body, redacted_error
from ocp_server.proxy.chat import BadRequest, Event, Usage
from ocp_server.proxy.local import LocalFailed, LocalTarget, stream_local, unread_prompt
from ocp_server.proxy.loopback import is_loopback
from ocp_server.proxy.origin import LoopbackOnly
from ocp_server.proxy.own_address import SERVICE
from ocp_server.proxy.recorder import Attempted, ProxyRecord, Recorder
from ocp_server.proxy.relayed import Relayed, settled
from ocp_server.proxy.settings import Ceiling, ProxySettings
from ocp_server.proxy.upstream import (
    Outcome,
    UpstreamUnreachable,
    failed_message,
    open_upstream,
    relay_body,
    relay_headers,
    relay_stream,
    unreachable_message,
    unreadable_encoding,
)
from ocp_server.proxy.whole_body import (
    ERROR_BODY_BYTES,
    HEAD_BYTES,
    BodyTooLarge,
    error_too_long,
    read_head,
    read_whole,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

LOOP_HEADER = "x-ocp-proxy"
_LOOPED = (
    "this request came back to the proxy: its upstream URL points at itself (OCP_PROXY_*_UPSTREAM)"
)
TOKEN_HEADER = "x-ocp-proxy-token"
# Client headers the provider sees as they came (besides credentials): API versions and
# betas, SDK identification (Claude Code's OAuth access depends on them).
_FORWARD_PREFIXES = ("anthropic-", "openai-", "x-stainless-")
_FORWARD = frozenset({"user-agent", "x-app"})


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    module: ModuleType
    path: str  # the upstream path, appended to the upstream base URL


ANTHROPIC = Dialect("anthropic", anthropic, "/v1/messages")
OPENAI = Dialect("openai", openai, "/chat/completions")


class Refused(Exception):
    """A request answered with an error before any routing (status, message, error kind)."""

    def __init__(self, status: int, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


class ClientGone(Exception):
    """The client hung up while the proxy was waiting on its behalf."""


async def _client_left(request: Request) -> None:
    # The body was read already: the server's next message is the disconnect.
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _unless_client_leaves(request: Request, work: Awaitable[T]) -> T:
    """`work`'s result, or ClientGone (with `work` cancelled) if the client hangs up first."""
    task = asyncio.ensure_future(work)
    watch = asyncio.ensure_future(_client_left(request))
    try:
        await asyncio.wait({task, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watch.cancel()
        if not task.done():
            task.cancel()
            await asyncio.wait({task})  # let it unwind: it closes what it opened
    if task.cancelled():
        raise ClientGone
    return task.result()


def _error(
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


def _error_relayed(d: Dialect, status: int, message: str, upstream: httpx.Headers) -> JSONResponse:
    """An upstream's error in our words, with its status and the headers a client's retry
    logic reads (retry-after, rate limits, request ids)."""
    headers = {k: v for k, v in relay_headers(upstream).items() if k.lower() != "content-type"}
    return JSONResponse(d.module.error_body(status, message), status, headers)


class Proxy:
    """The routes and the state they share. Build with `build_app`."""

    def __init__(
        self,
        settings: ProxySettings,
        router: OCPRouter,
        router_settings: RouterSettings,
        recorder: Recorder,
        client: httpx.AsyncClient,
    ) -> None:
        self.settings = settings
        self.router = router
        self.router_settings = router_settings
        self.recorder = recorder
        self.client = client
        rs = router_settings
        local = router.local
        self.local = LocalTarget(
            rs.local_backend,
            rs.ollama_url if rs.local_backend == "ollama" else rs.local_base_url,
            rs.local_model,
            rs.local_timeout,
            rs.local_max_tokens,
            local.transport_failure if isinstance(local, OllamaBackend | OpenAIBackend) else None,
            rs.local_api_key if rs.local_backend == "openai" else None,
        )
        # Whether the local Ollama may cut a prompt silently, asked once when first needed.
        ollama = self.local.kind == "ollama"
        self.local_cuts = SilentCutCheck(self.local.base_url) if ollama else None
        # OpenAI-compatible upstreams (their URLs) that refused the stream_options the proxy
        # adds (older Azure API versions, some servers): asked without, their usage estimated.
        self.refuse_stream_options: set[str] = set()
        self._dashboard = (files("ocp_server.proxy") / "dashboard.html").read_text("utf-8")

    # ---- admission ------------------------------------------------------------------------------
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

    async def _work(
        self, what: str, size: int, fn: Callable[..., T], *args: Any, building: bool = False
    ) -> T:
        """`fn(*args)`, off the event loop whatever `size` (a small body can be slow to work
        on), within OCP_PROXY_WORK_TIMEOUT (WorkTimedOut, naming `what`, the work's thread left
        behind); `size` (the body's bytes) decides whether the collector is paused."""
        seconds = self.settings.work_timeout
        return await off_loop_within(seconds, what, size, fn, *args, building=building)

    # ---- routes ---------------------------------------------------------------------------------
    async def messages(self, request: Request) -> Response:
        return await self._guarded(request, ANTHROPIC)

    async def chat_completions(self, request: Request) -> Response:
        return await self._guarded(request, OPENAI)

    async def _guarded(self, request: Request, d: Dialect) -> Response:
        """A bug of ours is still an answer in the client's dialect, not a bare 500 page."""
        try:
            return await self._serve(request, d)
        except WorkTimedOut as exc:  # before the request's trace began (later ones end it)
            return _timed_out(d, exc)
        except Exception as exc:  # noqa: BLE001 - the top-level handler
            logger.exception("proxy: the request failed")
            return _error(d, 500, f"the OCP proxy failed: {type(exc).__name__}")

    async def count_tokens(self, request: Request) -> Response:
        try:
            return await self._count_tokens(request)
        except WorkTimedOut as exc:
            return _timed_out(ANTHROPIC, exc)

    async def _count_tokens(self, request: Request) -> Response:
        d = ANTHROPIC
        try:
            consumed = self._check_token(request)
            body = await self._read_body(request)
        except Refused as exc:
            return _error(d, exc.status, str(exc), exc.kind)
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error(d, 400, "messages: expected a list of messages")
        creds = self._credentials(d, request.headers, consumed)
        if creds:
            await self._work("redaction", _size(request), redact_body, body, building=True)
            headers = creds | self._forwarded(request.headers)
            counting = self._count_upstream(headers, body, _size(request))
            try:
                return await _unless_client_leaves(request, counting)
            except ClientGone:
                return _error(d, 499, "the client went away before the answer")
        # No credentials: the router's estimate, which is what routing used anyway.
        parts = [body.get("system"), body["messages"], body.get("tools")]
        tokens = await self._work("token count", _size(request), _tokens_of, parts)
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
            return _error(d, 502, said)
        if unreadable := unreadable_encoding(response.headers, "Anthropic"):
            await response.aclose()
            return _error(d, 502, unreadable)
        status = response.status_code
        try:
            if status == 200:
                content = await read_whole(response)
            else:
                error = await read_head(response, ERROR_BODY_BYTES)
                if error.rest is not None:
                    message = error_too_long("Anthropic", status, ERROR_BODY_BYTES, error.data)
                    return _error_relayed(d, status, message, response.headers)
                content = error.data
        except httpx.HTTPError as exc:
            setting, timeout = "OCP_PROXY_ANTHROPIC_UPSTREAM", self.settings.upstream_timeout
            said = failed_message("Anthropic", url, setting, exc, timeout, "mid-body")
            return _error(d, 502, said)
        except BodyTooLarge as exc:
            return _error(d, 502, f"the Anthropic upstream failed: {exc}")
        finally:
            await response.aclose()
        if status != 200:
            content = redacted_error(content)
        return Response(content, status, relay_headers(response.headers))

    async def models(self, request: Request) -> Response:
        """The models a client may ask for, in its dialect: the paid tiers' and the local one
        when the paid backend speaks it; else its upstream's own list, relayed (a paid request
        in that dialect goes there with the model it names, so another name would fail there),
        or only the local model when there are no credentials to ask with."""
        d = ANTHROPIC if "anthropic-version" in request.headers else OPENAI
        try:
            consumed = self._check_token(request)
        except Refused as exc:
            return _error(d, exc.status, str(exc), exc.kind)
        creds = self._credentials(d, request.headers, consumed)
        if self.router_settings.paid_backend != d.name and creds:
            return await self._upstream_models(request, d, creds, "")
        return JSONResponse(d.module.models_list(self._models(d)))

    async def model(self, request: Request) -> Response:
        """One model of the list, as OpenAI's and Anthropic's APIs both answer it (an SDK's
        `models.retrieve`); one the proxy does not list is not found, in the dialect's words."""
        d = ANTHROPIC if "anthropic-version" in request.headers else OPENAI
        try:
            consumed = self._check_token(request)
        except Refused as exc:
            return _error(d, exc.status, str(exc), exc.kind)
        name = request.path_params["model_id"]
        creds = self._credentials(d, request.headers, consumed)
        if self.router_settings.paid_backend != d.name and creds:
            return await self._upstream_models(request, d, creds, "/" + quote(name, safe=":"))
        if name not in self._models(d):
            kind = "model_not_found" if d is OPENAI else None  # OpenAI's code; Anthropic's 404
            return _error(d, 404, d.module.no_such_model(clip(name)), kind)
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
            return _error(d, 508, _LOOPED)
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
            return _error(d, 502, unreachable_message(d.name, url, setting, cause, timeout))
        try:
            if unreadable := unreadable_encoding(response.headers, d.name):
                return _error(d, 502, unreadable)
            head = await read_head(response, HEAD_BYTES)
        except httpx.HTTPError as exc:
            return _error(d, 502, failed_message(d.name, url, setting, exc, timeout, "mid-body"))
        finally:
            await response.aclose()
        status = response.status_code
        if status == 200 and head.rest is not None:
            return _error(
                d, 502, f"the {d.name} upstream's model list is over {HEAD_BYTES:,} bytes"
            )
        if status != 200 and len(head.data) > ERROR_BODY_BYTES:
            message = error_too_long(d.name, status, ERROR_BODY_BYTES, head.data)
            return _error_relayed(d, status, message, response.headers)
        content = head.data if status == 200 else redacted_error(head.data)
        return Response(content, status, relay_headers(response.headers))

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
        # OCP_STICKY=upward: the conversations the router keeps above the local tier
        sticky = {s: t.value for s, t in self.router.floors.items() if t is not Tier.LOCAL}
        return JSONResponse(self.recorder.summary(sticky))

    async def health(self, request: Request) -> Response:
        return JSONResponse({"ok": True, "service": SERVICE})  # what own_address.py asks

    # ---- one request ----------------------------------------------------------------------------
    async def _serve(self, request: Request, d: Dialect) -> Response:
        started = time.perf_counter()
        headers = request.headers
        if headers.get(LOOP_HEADER):
            return _error(d, 508, _LOOPED)
        try:
            consumed = self._check_token(request)
            body = d.module.validate(await self._read_body(request))
            payload, session, assessment = await self._work(
                "reading and judgement of the conversation",
                _size(request),
                self._read_conversation,
                d,
                body,
                headers,
                building=True,
            )
        except Refused as exc:
            return _error(d, exc.status, str(exc), exc.kind)
        except BadRequest as exc:
            return _error(d, 400, str(exc), param=exc.param, code=exc.code)
        except PayloadError as exc:
            return _error(d, 400, str(exc))
        requested = body["model"]
        stream = body.get("stream") is True

        def new_record(tier: str, reason: str, phase: str, pin_state: str) -> ProxyRecord:
            cls = assessment.classify
            return ProxyRecord(
                id=uuid.uuid4().hex,
                started_at=time.time(),
                dialect=d.name,
                client=redact_name_head(headers.get("user-agent") or "", 60),
                session=session,
                stream=stream,
                requested_model=requested,
                tier=tier,
                reason=reason,
                phase=phase,
                band=assessment.band.value,
                pin_state=pin_state,
                task_type=cls.task_type.value,
                complexity=cls.complexity_score,
                request_text=payload.user_turn if self.settings.trace_content else "",
            )

        planning = self.router.plan(payload, session=session, assessment=assessment)
        if assessment.band is not Band.AMBIGUOUS:
            decision = await planning
        else:  # phase 2 asks the local model: stopped if the client leaves meanwhile
            try:
                decision = await _unless_client_leaves(request, planning)
            except ClientGone:
                reason = f"phase 1: {assessment.explain()}; phase 2 cut short: the client left"
                # no phase decided it (stored NULL: `stats` counts it under none of them)
                record = new_record(assessment.tier.value, reason, "", "none")
                record.status, record.error = 499, "the client went away before the answer"
                self._finisher(record, started)()
                return _error(d, 499, record.error)
        record = new_record(
            decision.tier.value, decision.reason, decision.phase.value, decision.pin_state.value
        )
        tier = decision.tier  # at least the conversation's floor (OCP_STICKY, the router's)
        finish = self._finisher(record, started)
        if tier is Tier.LOCAL and (lacking := d.module.local_cannot(body)):
            record.notes.append(f"local: {lacking}; answered by the paid tier")
            tier = Tier.MID
        if tier is Tier.LOCAL:
            answered = await self._local(d, request, body, stream, record, finish, started)
            if answered is not None:
                return answered
            tier = Tier.MID
        creds = self._credentials(d, headers, consumed)
        problem = await self._paid_blocked(creds)
        if problem is not None:
            tried_local = any(a.tier == "local" for a in record.attempts)
            may_fall_back = self.router.paid_fallback is PaidFallback.LOCAL and not body.get(
                "tools"
            )
            if not tried_local and may_fall_back:
                record.notes.append(f"paid: {problem}; answered locally instead")
                answered = await self._local(d, request, body, stream, record, finish, started)
                if answered is not None:
                    return answered
            record.status, record.error = problem_status(problem), problem
            finish()
            return _error(d, record.status, problem + self._attempts_note(record))
        return await self._paid(d, request, body, tier, stream, creds, record, finish, started)

    def _finisher(self, record: ProxyRecord, started: float) -> Callable[[], None]:
        done = False

        def finish() -> None:
            nonlocal done
            if done:
                return
            done = True
            record.latency_ms = round((time.perf_counter() - started) * 1000, 3)
            self.recorder.add(record)
            answered = (
                f"{record.answered_tier}/{record.model}" if record.answered_tier else "no answer"
            )
            logger.info(
                "proxy %s %s: %s -> %s %d+%d tokens, %s in %.0f ms",
                record.id[:8],
                record.dialect,
                record.tier,
                answered,
                record.input_tokens,
                record.output_tokens,
                record.status,
                record.latency_ms,
            )

        return finish

    @staticmethod
    def _attempts_note(record: ProxyRecord) -> str:
        failed = [f"{a.backend} {a.model}: {a.error}" for a in record.attempts if a.error]
        return f" (tried: {'; '.join(failed)})" if failed else ""

    def _read_conversation(
        self, d: Dialect, body: dict[str, Any], headers: Mapping[str, str]
    ) -> tuple[AgentPayload, str, Assessment]:
        """The conversation as the router reads it, its session and its judgement: one step
        off the event loop, not three (each hand-over to a thread and back waits on two
        wake-ups, milliseconds each on a loaded machine)."""
        payload = parse_payload(body)
        return payload, self._session(d, body, headers, payload), self.router.assess(payload)

    def _session(
        self, d: Dialect, body: Mapping[str, Any], headers: Mapping[str, str], payload: Any
    ) -> str:
        hint = headers.get("x-ocp-session") or d.module.session_hint(body, headers)
        if hint:
            return _session_id(hint)
        first = next((m.text for m in payload.messages if m.role == "user"), "")
        return _session_id(payload.system, first)

    def _credentials(
        self, d: Dialect, headers: Mapping[str, str], consumed: set[str]
    ) -> dict[str, str]:
        """The client's own credentials (minus the proxy's token), else the environment's."""
        own = {k: v for k, v in d.module.credentials(headers).items() if k not in consumed}
        if any(k in own for k in ("x-api-key", "authorization")):
            return own
        rs = self.router_settings
        key = rs.anthropic_api_key if d is ANTHROPIC else rs.openai_api_key
        return own | d.module.env_credentials(key) if key else {}

    async def _paid_blocked(self, creds: dict[str, str]) -> str | None:
        if not creds:
            return (
                "no paid credentials: the client sent none and no API key is set in the environment"
            )
        daily = self.router.budget.daily_usd
        if daily is not None:
            spent = await self.router.ledger.spent_today()
            if spent >= daily:
                return f"budget: {usd(spent)} spent today, OCP_DAILY_BUDGET_USD={usd_limit(daily)}"
        return None

    @staticmethod
    def _forwarded(headers: Mapping[str, str]) -> dict[str, str]:
        out = {k: v for k, v in headers.items() if k in _FORWARD or k.startswith(_FORWARD_PREFIXES)}
        out[LOOP_HEADER] = "1"
        return out

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

    # ---- local ----------------------------------------------------------------------------------
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
        size = _size(request)

        def failed(outcome: str, error: str, kind: str = "BackendResponseError") -> None:
            ms = round((time.perf_counter() - t0) * 1000, 3)
            record.attempts.append(
                Attempted(
                    "local",
                    target.kind,
                    target.model,
                    outcome,
                    ms,
                    redact_name_head(error, 300),  # redacted whole, then cut: no key's head
                    kind if outcome == "error" else None,
                )
            )
            logger.warning(
                "proxy %s: local %s %s failed: %s", record.id[:8], target.kind, target.model, error
            )

        try:
            chat = d.module.to_chat(body)
        except BadRequest as exc:
            failed("error", str(exc), "BadRequest")
            return None

        def left() -> Response:
            ms = round((time.perf_counter() - t0) * 1000, 3)
            record.answered_tier = None
            record.status, record.error = 499, "the client went away before the answer"
            record.attempts.append(
                Attempted("local", target.kind, target.model, "error", ms, record.error, None)
            )
            finish()
            return _error(d, 499, record.error)

        events = stream_local(self.client, target, chat)
        try:
            first = await _unless_client_leaves(request, anext(events))
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
        price = self.router.price(record.requested_model)

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
                return [first] + [e async for e in events]

            try:
                collected = await _unless_client_leaves(request, collect())
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
            return JSONResponse(d.module.render_json(collected, target.model, message_id))

        record.status = 200
        record.first_byte_ms = round((time.perf_counter() - started) * 1000, 3)
        seen: list[Event] = []

        async def tee() -> AsyncIterator[Event]:
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
                prompt_tokens = await self._work("token count", size, _tokens_of, messages)
            except WorkTimedOut as exc:  # nothing sent yet: the local answer is given up
                await events.aclose()
                record.answered_tier, record.status = None, 500
                settle(None, False, str(exc))
                return _timed_out(d, exc)
            rendered = anthropic.render_stream(tee(), target.model, message_id, prompt_tokens)
        else:
            options = body.get("stream_options")
            include = isinstance(options, dict) and options.get("include_usage") is True
            rendered = openai.render_stream(tee(), target.model, message_id, include)

        async def body_stream() -> AsyncGenerator[bytes, None]:
            error: str | None = None
            try:
                async for chunk in rendered:
                    yield chunk
            except LocalFailed as exc:
                error = f"the local model failed mid-stream: {exc}"
                yield d.module.stream_error(error)
            finally:
                with anyio.CancelScope(shield=True):  # cancelled by a hangup: close still
                    await events.aclose()
                done = next((e for e in seen if e.kind == "done"), None)
                if done is None and error is None:
                    error = "the client went away mid-stream"
                settle(done, error is None, error)

        return Relayed(
            body_stream(), media_type="text/event-stream", headers={"cache-control": "no-cache"}
        )

    # ---- paid -----------------------------------------------------------------------------------
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
        size = _size(request)
        body["model"] = model
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
                return _timed_out(d, exc)
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
                "proxy %s: the %s upstream failed %s: %r", record.id[:8], d.name, where, exc
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
            response = await _unless_client_leaves(request, opening)
        except WorkTimedOut as exc:  # the body was never sent
            outcome.status, outcome.error = 500, str(exc)
            await settle()
            return _timed_out(d, exc)
        except UpstreamUnreachable as exc:
            outcome.status, outcome.error = (
                502,
                unreachable_message(d.name, url, setting, exc, self.settings.upstream_timeout),
            )
            # Timed out waiting for the answer: the request was read and worked on.
            await settle(isinstance(exc.__cause__, httpx.ReadTimeout))
            return _error(d, 502, outcome.error)
        except ClientGone:
            return await self._client_gone(d, outcome, settle)
        outcome.status = response.status_code
        if unreadable := unreadable_encoding(response.headers, d.name):
            await response.aclose()
            outcome.status, outcome.error = 502, unreadable
            await settle()
            return _error(d, 502, outcome.error)
        relayed = relay_headers(response.headers)
        is_stream = response.headers.get("content-type", "").startswith("text/event-stream")
        if response.status_code != 200 or not is_stream:
            limit = HEAD_BYTES if response.status_code == 200 else ERROR_BODY_BYTES
            try:
                head = await _unless_client_leaves(request, read_head(response, limit))
            except httpx.HTTPError as exc:
                await response.aclose()
                outcome.status, outcome.error = 502, failure(exc, "mid-body")
                await settle()
                return _error(d, 502, outcome.error)
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
                    return _error_relayed(d, status, outcome.error, response.headers)
            if head.rest is not None:  # too long to hold: relayed as it comes
                record.first_byte_ms = round((time.perf_counter() - started) * 1000, 3)
                relayed_body = relay_body(
                    response, head, outcome, d.module.usage_of_message, failure
                )
                return Relayed(
                    settled(relayed_body, outcome, settle), response.status_code, relayed
                )
            await response.aclose()
            if response.status_code == 200:
                try:
                    outcome.usage = d.module.usage_of_message(json.loads(head.data))
                except ValueError:
                    outcome.status = 502
                    outcome.error = (
                        f"the {d.name} upstream answered 200 with a body that is not JSON"
                    )
                    await settle()
                    return _error(d, 502, outcome.error)
            await settle()
            data = head.data if response.status_code == 200 else redacted_error(head.data)
            return Response(data, response.status_code, relayed)
        record.first_byte_ms = round((time.perf_counter() - started) * 1000, 3)
        events = relay_stream(
            response,
            outcome,
            d.module.usage_of_event,
            d.module.stream_error,
            failure,
            openai.unasked_usage if unasked_usage else None,
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
        return _error(d, 499, outcome.error)

    async def _bill_cut(
        self, record: ProxyRecord, model: str, body: dict[str, Any], size: int
    ) -> None:
        """A paid relay cut short before any usage came: the provider bills the input it read,
        estimated as the router estimates a cut-short call (the output sent is not known)."""
        price = self.router.price(model)
        parts = [body.get("system"), body.get("messages"), body.get("tools")]
        try:
            tokens = await self._work("token count", size, _tokens_of, parts)
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
            tokens = await self._work("token count", size, _tokens_of, body.get("messages"))
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


def _timed_out(d: Dialect, exc: WorkTimedOut) -> JSONResponse:
    """A step of the proxy's own work that never finished: a 500 that SDKs do not retry (the
    same body would keep them waiting as long again)."""
    message = f"the OCP proxy's {exc} (OCP_PROXY_WORK_TIMEOUT); the request was given up"
    response = _error(d, 500, message)
    response.headers["x-should-retry"] = "false"
    return response


def problem_status(problem: str) -> int:
    return 429 if problem.startswith("budget") else 401


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


def _dialect_of(path: str, headers: Mapping[str, str]) -> Dialect:
    """The dialect a request is in, before it has reached a route: by its path, else by
    its client (an Anthropic client sends `anthropic-version`)."""
    anthropic_client = path.startswith("/v1/messages") or "anthropic-version" in headers
    return ANTHROPIC if anthropic_client else OPENAI


def _refused_body(path: str, headers: Mapping[str, str], message: str) -> dict[str, Any]:
    body: dict[str, Any] = _dialect_of(path, headers).module.error_body(
        403, message, "permission_error"
    )
    return body


async def _no_route(request: Request, exc: Exception) -> Response:
    """404 and 405 in the request's dialect, not Starlette's plain-text page an SDK cannot
    read."""
    d = _dialect_of(request.url.path, request.headers)
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    what = "no such route" if status == 404 else "method not allowed"
    message = (
        f"{request.method} {request.url.path}: {what} on the OCP proxy (it serves POST "
        "/v1/messages, /v1/messages/count_tokens, /v1/chat/completions and GET /v1/models[/{id}])"
    )
    headers = getattr(exc, "headers", None) or {}
    return JSONResponse(d.module.error_body(status, message), status, headers)


def _size(request: Request) -> int:
    """The request body's size in bytes, once read (what decides whether work on it leaves
    the event loop)."""
    return int(getattr(request.state, "body_bytes", 0))


def _session_id(*parts: str) -> str:
    """The session's id: `parts` joined by NULs, hashed. Each is hashed as it is: joined first,
    a conversation's first message (15 MB, say) was copied whole once more before its encoding."""
    digest = hashlib.sha1(usedforsecurity=False)
    for i, part in enumerate(parts):
        if i:
            digest.update(b"\x00")
        digest.update(part.encode())
    return "proxy-" + digest.hexdigest()[:20]


def _tokens_of(value: Any) -> int:
    return estimate_tokens(json.dumps(value))
