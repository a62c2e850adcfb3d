"""Reading on in a model's answer cut to fit what the calling client accepts of a tool's
result (views.route_for_client): the whole answer is kept with its route's trace (m040), and
the session restore tool's `answer_of` and `answer_from` give it part by part, each within
`max_tokens` and that client's limit, its note saying where the next part starts."""

from __future__ import annotations

import ocp_wire as wire
from ocp_server.argument_errors import field_problem
from ocp_server.client_limits import RESULT_TOKEN_LIMITS
from ocp_server.errors import InputError
from ocp_server.render import restore_tokens
from ocp_server.trace_store import TraceStore
from ocp_server.views import answer_tokens


async def answer_part(
    traces: TraceStore, args: wire.RestoreArgs, client: str, session_id: str
) -> wire.RestoreResult:
    """The part of the kept answer of route `args.answer_of` from `args.answer_from` that
    fits `args.max_tokens` and what the MCP client named `client` accepts."""
    assert args.answer_of is not None
    trace_id = await traces.full_trace_id(args.answer_of)
    whole = await traces.kept_answer(trace_id)
    if whole is None:
        raise InputError(
            field_problem(
                "answer_of",
                "expected the trace id of a route whose answer was cut to fit this client",
                args.answer_of,
                hint="no answer of that route is kept (only a model's answer cut to fit what "
                "this client accepts of a result is)",
            )
        )
    start = args.answer_from
    if start > len(whole):
        raise InputError(
            field_problem(
                "answer_from",
                f"expected at most {len(whole):,} (the answer's length in characters)",
                start,
            )
        )
    budget = min(args.max_tokens, RESULT_TOKEN_LIMITS.get(client, args.max_tokens))
    empty = answer_result("-", start, len(whole), trace_id, session_id)
    part = _part(whole, start, budget - restore_tokens(empty) - 20)
    out = answer_result(part, start, len(whole), trace_id, session_id)
    return out.model_copy(update={"tokens": restore_tokens(out)})


def _part(whole: str, start: int, room: int) -> str:
    """The part of a kept route answer from its character `start` that fits `room` tokens
    (OCP's estimate) as a JSON string, as a client reading the structured content has it
    (its escapes count): cut by the share over, a cut or two."""
    part = whole[start : start + max(0, room) * 4]
    while part and (tokens := answer_tokens({"": part})) > room:
        part = part[: max(0, len(part) * room // tokens - 1)]
    return part


def answer_result(
    part: str, start: int, whole: int, trace_id: str, session_id: str
) -> wire.RestoreResult:
    """A restore's result giving a part of a kept route answer (`answer_of`), its note saying
    which characters it holds and how to have the rest."""
    end = start + len(part)
    said = f"Characters {start:,}-{end:,} of the {whole:,} of route {trace_id[:8]}'s answer"
    more = f"; the rest: answer_of='{trace_id[:8]}', answer_from={end}" if end < whole else ""
    note = f"{said}{more or ' (its end)'}."
    return wire.RestoreResult(
        brief=note, decisions=[], stale=[], stale_count=0, state={}, open_items=[], notes=[],
        sessions=[], traces=[], omitted={}, note=note, answer=part, expired=0, tokens=0,
        truncated=end < whole, session_id=session_id, redacted=0,
    )  # fmt: skip
