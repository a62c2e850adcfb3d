"""`max_context_tokens` (README: "budget for all a paid prompt adds to the request") holds as
documented: all the paid prompt adds to the request (the preamble, the code blocks with their
headers and fences, the session brief, the headings and separators), as the trace counts it
(`context_tokens`) and as it is sent, never exceeds it. The code's and the brief's shares each
had a floor of 100 (at a budget of 100 the two could reach 200), the code's share counted the
code alone, ~15 tokens a hit short of the blocks, and the headings and separators were counted
nowhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_router.tokens import estimate_tokens
from ocp_server.app import AppState
from ocp_server.workspaces import Workspace
from tests.server.app_fixture import opened

# a block of the prompt's workspace context: its header, then the code in its fence
_BLOCK_RE = re.compile(r"^### [^\n]*\n(`{3,})[^\n]*\n.*?\n\1$", re.M | re.S)
_NOTES = "## Session notes (from earlier sessions)\n"


def _sent(prompt: str) -> tuple[list[str], str | None]:
    """The code blocks and the session notes section of a paid prompt, as sent."""
    head = prompt.split("\n\n## Request\n", 1)[0]
    notes = None
    if _NOTES in head:
        head, rest = head.split(_NOTES, 1)
        notes = _NOTES + rest.strip()
    context = head.split("## Workspace context", 1)[1] if "## Workspace context" in head else ""
    return [m[0] for m in _BLOCK_RE.finditer(context)], notes


async def _small_functions(app: AppState, workspace: Path) -> Workspace:
    """Many short functions (a block's header and fences weigh as much as its code) and notes
    on them, so both the code and the brief have more to show than any budget below."""
    functions = "".join(
        f"def handle_order_{i}(order):\n"
        f"    subtotal = sum(line.price * line.quantity for line in order.lines)\n"
        f"    refund = order.refunded_total if order.refunded else 0\n"
        f"    shipping = order.shipping_fee if order.ships_abroad else order.local_fee\n"
        f"    return round(subtotal - refund + shipping + {i}, 2)\n\n"
        for i in range(60)
    )
    (workspace / "src" / "orders.py").write_text(functions)
    ws = await opened(app, workspace)
    notes = [wire.NoteArg(text=f"handle_order_{i} rounds totals up for refunds") for i in range(40)]
    await app.save(ws, wire.SaveArgs(notes=notes))
    return ws


ASK = "how does handle_order round order totals for refunds"


@pytest.mark.parametrize("budget", [0, 40, 100, 300, 1000])
async def test_all_the_prompt_adds_to_the_request_keeps_to_max_context_tokens(
    app: AppState, workspace: Path, budget: int
) -> None:
    """The whole enriched part (the preamble, the "## Workspace context" heading, the blocks,
    the notes' section, the separators and the "## Request" heading), as sent and as the
    trace counts it: the headings and separators were counted nowhere, and the request went
    with the preamble and its heading at a budget of 0 ("sends the request alone")."""
    ws = await _small_functions(app, workspace)
    args = wire.RouteArgs(request=ASK, force="paid", max_context_tokens=budget, dry_run=True)
    result = await app.route(ws, args)
    assert result.prompt is not None and result.prompt.endswith(ASK)
    added = result.prompt.removesuffix(ASK)
    sent = estimate_tokens(added)
    assert result.trace.context_tokens == sent, (budget, result.trace.context_tokens, sent)
    assert sent <= budget, (budget, sent, added[-300:])
    blocks, notes = _sent(result.prompt)
    if budget <= 40:  # too little for the frame and a block: the request alone
        assert result.prompt == ASK
    if budget >= 300:  # not vacuous: the budget is used
        assert blocks and sent > budget // 2, (budget, sent)
    if budget >= 1000:
        assert notes is not None
