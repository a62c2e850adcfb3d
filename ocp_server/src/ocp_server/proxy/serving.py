"""One request's path: Anthropic Messages or OpenAI Chat Completions in, the tier decided by
the router, answered locally (local_answer.py) or relayed to the paid provider (paid.py),
traced.

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
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ocp_router import PaidFallback, PayloadError, Tier, parse_payload
from ocp_router.budget import usd, usd_limit
from ocp_router.calibration import Calibration
from ocp_router.payload import AgentPayload
from ocp_router.phase1 import Assessment
from ocp_router.redact_names import redact_name_head
from ocp_router.tiers import Band
from ocp_server.proxy import anthropic, thinking_turn
from ocp_server.proxy.admission import Admission, Refused
from ocp_server.proxy.base import LOOP_HEADER, LOOPED, body_size
from ocp_server.proxy.chat import BadRequest
from ocp_server.proxy.client_gone import ClientGone, unless_client_leaves
from ocp_server.proxy.dialect import ANTHROPIC, Dialect, error_answer, request_id
from ocp_server.proxy.local_answer import LocalAnswer
from ocp_server.proxy.paid import PaidRelay
from ocp_server.proxy.recorder import ProxyRecord

logger = logging.getLogger(__name__)


class Serving(Admission, LocalAnswer, PaidRelay):
    """A request decided and answered: `_serve`."""

    async def _serve(self, request: Request, d: Dialect, trace_id: str) -> Response:
        """`trace_id`: the request's id (dialect.new_request_id)."""
        started = time.perf_counter()
        headers = request.headers
        if headers.get(LOOP_HEADER):
            return self._refused(d, trace_id, 508, LOOPED)
        try:
            consumed = self._check_token(request)
            body = d.module.validate(await self._read_body(request))
            # what the workspace learned of the local model's answers (`ocp_model_route`'s)
            ws = self.workspace
            calibration = ws.calibration_for(self.router.calibration_key) if ws else None
            payload, session, assessment, local_step = await self._work(
                "reading and judgement of the conversation",
                body_size(request),
                self._read_conversation,
                d,
                body,
                headers,
                calibration,
                building=True,
            )
        except Refused as exc:
            return self._refused(d, trace_id, exc.status, str(exc), exc.kind)
        except BadRequest as exc:
            return self._refused(d, trace_id, 400, str(exc), param=exc.param, code=exc.code)
        except PayloadError as exc:
            return self._refused(d, trace_id, 400, str(exc))
        requested = body["model"]
        stream = body.get("stream") is True
        local_model = self.router.calibration_key if self.router.local is not None else None

        def new_record(tier: str, reason: str, phase: str, pin_state: str) -> ProxyRecord:
            cls = assessment.classify
            return ProxyRecord(
                id=trace_id,
                request_id=request_id(trace_id),
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
                raw_score=assessment.raw_score,
                local_model=local_model,
                effort=d.module.effort_asked(body),
                request_text=payload.user_turn if self.settings.trace_content else "",
            )

        if self.workspace is not None and self.workspace.floors_elsewhere is not None:
            self.workspace.floors_elsewhere.lift_floors(self.router.floors)  # lifted elsewhere
        planning = self.router.plan(payload, session=session, assessment=assessment)
        if assessment.band is not Band.AMBIGUOUS:
            decision = await planning
        else:  # phase 2 asks the local model: stopped if the client leaves meanwhile
            try:
                decision = await unless_client_leaves(request, planning)
            except ClientGone:
                reason = f"phase 1: {assessment.explain()}; phase 2 cut short: the client left"
                # no phase decided it (stored NULL: `stats` counts it under none of them)
                record = new_record(assessment.tier.value, reason, "", "none")
                record.status, record.error = 499, "the client went away before the answer"
                self._finisher(record, started)()
                return error_answer(d, 499, record.error)
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
        if d is ANTHROPIC:
            model = self.paid_model(ANTHROPIC, tier, requested)
            if dropped := self.signed_thinking.drop_others(body, model):
                record.notes.append(
                    f"paid: {dropped} thinking block(s) another model signed taken out for {model}"
                )
        if d is ANTHROPIC and not self._thinking_settled(body, tier, record, local_step):
            answered = await self._local(d, request, body, stream, record, finish, started)
            if answered is not None:
                return answered
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
            return error_answer(d, record.status, problem + self._attempts_note(record))
        return await self._paid(d, request, body, tier, stream, creds, record, finish, started)

    def _thinking_settled(
        self, body: dict[str, Any], tier: Tier, record: ProxyRecord, local_step: bool
    ) -> bool:
        """Thinking turned off for a paid step that continues a tool loop with no thinking
        block (thinking_turn.py), said in the trace with whose step it was (`local_step`: the
        local model's); False when the model cannot turn it off and the loop is to stay local
        (if not tried already)."""
        model = self.paid_model(ANTHROPIC, tier, record.requested_model)
        if not thinking_turn.needs_thinking_off(body, model):
            return True
        why = thinking_turn.unsigned_step_why(local_step)
        if thinking_turn.can_turn_off(model):
            body["thinking"] = dict(thinking_turn.DISABLED)
            record.notes.append(f"paid: thinking turned off for this step ({why})")
            return True
        if any(a.tier == "local" for a in record.attempts):
            record.notes.append(f"paid: {model} cannot turn thinking off and {why}")
            return True
        record.notes.append(
            f"local: tool loop kept local ({model} cannot turn thinking off; {why})"
        )
        return False

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
            upstream = record.upstream_request_id
            logger.info(
                "proxy %s%s %s: %s -> %s %d+%d tokens, %s in %.0f ms",
                record.request_id,
                f" (upstream {upstream})" if upstream else "",
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
    def _refused(
        d: Dialect,
        trace_id: str,
        status: int,
        message: str,
        kind: str | None = None,
        *,
        param: str | None = None,
        code: str | None = None,
    ) -> Response:
        """A request refused before it was decided (not traced): logged with its id, which
        its answer's header carries, so a client's error can be found here."""
        shown = redact_name_head(message, 200)
        logger.info("proxy %s %s: refused, %d %s", request_id(trace_id), d.name, status, shown)
        return error_answer(d, status, message, kind, param=param, code=code)

    @staticmethod
    def _attempts_note(record: ProxyRecord) -> str:
        failed = [f"{a.backend} {a.model}: {a.error}" for a in record.attempts if a.error]
        return f" (tried: {'; '.join(failed)})" if failed else ""

    def _read_conversation(
        self,
        d: Dialect,
        body: dict[str, Any],
        headers: Mapping[str, str],
        calibration: Calibration | None,
    ) -> tuple[AgentPayload, str, Assessment, bool]:
        """The conversation as the router reads it, its session, its judgement and whether
        it continues a tool step of the local model's (thinking_turn.local_step): one step
        off the event loop, not three (each hand-over to a thread and back waits on two
        wake-ups, milliseconds each on a loaded machine)."""
        local_step = False
        if d is ANTHROPIC:  # whichever tier answers: the paid one refuses their signature
            local_step = thinking_turn.local_step(body["messages"], anthropic.LOCAL_SIGNATURE)
            anthropic.drop_local_thinking(body)
        payload = parse_payload(body)
        session = self._session(d, body, headers, payload)
        return payload, session, self.router.assess(payload, calibration), local_step

    def _session(
        self, d: Dialect, body: Mapping[str, Any], headers: Mapping[str, str], payload: Any
    ) -> str:
        named = headers.get("x-ocp-session")
        if named:
            return _session_id(named)
        # A client's own session id spans more than one conversation (Claude Code's title and
        # other side requests carry its agent's): it only keeps apart two that start alike.
        first = next((m.text for m in payload.messages if m.role == "user"), "")
        hint = d.module.session_hint(body, headers)
        return _session_id(*([hint] if hint else []), _without_model(payload.system), first)

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


def problem_status(problem: str) -> int:
    return 429 if problem.startswith("budget") else 401


# The lines of Claude Code's system prompt (2.1.197) that name the model it asks for: "You are
# powered by the model named Opus 4.8 (1M context). The exact model ID is claude-opus-4-8[1m]."
# (or "You are powered by the model X.") and the model's knowledge cutoff. `--continue` restores
# the model without its 1M variant, so one conversation's prompt names it two ways
# (docs/routing-rounds.md, round 59).
_MODEL_NAMED = "You are powered by the model"
_MODEL_LINES = re.compile(
    r"^.*(?:You are powered by the model|Assistant knowledge cutoff is) .*$", re.MULTILINE
)


def _without_model(system: str) -> str:
    """`system` without the lines naming the model, as a conversation's key reads it."""
    return _MODEL_LINES.sub("", system) if _MODEL_NAMED in system else system


def _session_id(*parts: str) -> str:
    """The session's id: `parts` joined by NULs, hashed. Each is hashed as it is: joined first,
    a conversation's first message (15 MB, say) was copied whole once more before its encoding."""
    digest = hashlib.sha1(usedforsecurity=False)
    for i, part in enumerate(parts):
        if i:
            digest.update(b"\x00")
        digest.update(part.encode())
    return "proxy-" + digest.hexdigest()[:20]
