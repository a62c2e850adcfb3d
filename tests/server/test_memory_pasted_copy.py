"""A decision cites lines inside `handle`; the function is copied under a new name above it
(`handle_v1`, kept for the old callers), then `handle` itself is edited where it is. The
restore served the decision as valid at the copy's lines (the copy sat at the very lines
cited) or as "moved" into the copy (lines added above shifted it): a fact about code the
decision is not about, while `handle`, still defined, says something else. The cited code
changed where it is: stale, saying what changed in `handle`. A copy whose original is not
edited leaves the decision served, and a function renamed (no copy) is still followed."""

from __future__ import annotations

from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_server.app import AppState
from tests.server.app_fixture import opened

HANDLE = """def handle(request):
    user = request.user
    if user is None:
        raise PermissionError("no user on the request")
    limit = settings.rate_limit_for(user)
    return respond(request, limit)
"""
HEAD = "import settings\n\n\n"
TAIL = "\n\ndef respond(request, limit):\n    return (request, limit)\n"
REFUSAL = 'raise PermissionError("no user on the request")'
CITED = "mod.py:5-7"  # the user check inside `handle` (lines 4-9)
COPY = HANDLE.replace("def handle", "def handle_v1")


async def _restored(app: AppState, workspace: Path, after: str) -> wire.RestoreResult:
    mod = workspace / "mod.py"
    mod.write_text(HEAD + HANDLE + TAIL)
    ws = await opened(app, workspace)
    decision = {"title": "no user", "decision": "handle refuses anonymous", "citations": [CITED]}
    await app.save(ws, wire.SaveArgs(decisions=[wire.DecisionArg.model_validate(decision)]))
    mod.write_text(after)
    await ws.index.update()
    return await app.restore(ws, wire.RestoreArgs(max_tokens=2_000))


@pytest.mark.parametrize("above", ["", "# kept for the old callers\n# until 2.0\n"])
async def test_lines_of_a_function_edited_after_a_copy_of_it_was_pasted_above_are_stale(
    app: AppState, workspace: Path, above: str
) -> None:
    edited = HANDLE.replace(REFUSAL, "return None")
    out = await _restored(app, workspace, HEAD + above + COPY + "\n\n" + edited + TAIL)
    assert not out.decisions, out.brief
    (stale,) = out.stale
    assert f"its lines changed: -`{REFUSAL}` +`return None`" in out.brief, out.brief


async def test_lines_of_a_function_copied_but_not_edited_are_still_served(
    app: AppState, workspace: Path
) -> None:
    out = await _restored(app, workspace, HEAD + "# old\n" + COPY + "\n\n" + HANDLE + TAIL)
    (served,) = out.decisions
    assert served.verified == "moved" and served.citations[0].citation == "mod.py:14-16", out.brief


async def test_lines_of_a_renamed_function_are_still_followed(
    app: AppState, workspace: Path
) -> None:
    out = await _restored(app, workspace, HEAD + "# renamed\n" + COPY + TAIL)
    (served,) = out.decisions
    assert served.verified == "moved" and served.citations[0].citation == "mod.py:6-8", out.brief
