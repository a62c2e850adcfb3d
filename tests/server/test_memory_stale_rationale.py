"""A decision whose cited code changed is listed stale, for the agent to check and then
supersede or save again. What it is checked by is why it was decided: "constant time compare,
why: timing attacks on the API token" against `return token == secret`. The stale listing
gave the title, the decision and what changed, never the rationale, in the brief or in the
structured result, so the agent had to guess or search the history for it."""

from __future__ import annotations

from pathlib import Path

import ocp_wire as wire
from ocp_server.app import AppState
from tests.server.app_fixture import opened

COMPARE = "return hmac.compare_digest(token, secret)"
WHY = "timing attacks on the API token"


async def test_a_stale_decision_is_listed_with_why_it_was_decided(
    app: AppState, workspace: Path
) -> None:
    ws = await opened(app, workspace)
    decision = {
        "title": "token check",
        "decision": "constant time compare",
        "rationale": WHY,
        "citations": ["verify_token"],
    }
    note = {"text": "verify_token is hot", "citations": ["verify_token"]}
    args = {"decisions": [decision], "notes": [note]}
    await app.save(ws, wire.SaveArgs.model_validate(args))
    auth = workspace / "src" / "auth.py"
    auth.write_text(auth.read_text().replace(COMPARE, "return token == secret"))
    await ws.index.update()
    out = await app.restore(ws, wire.RestoreArgs(max_tokens=2_000))
    by_kind = {s.kind: s for s in out.stale}
    assert by_kind["decision"].rationale == WHY
    assert by_kind["note"].rationale is None  # a note has none
    line = next(ln for ln in out.brief.splitlines() if ln.startswith("- decision #"))
    assert f"— why: {WHY} — cites src/auth.py:6-8" in line, out.brief
