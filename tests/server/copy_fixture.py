"""A workspace with a cited function and a same-named copy of it: what the tests of a
citation's check beside a copy share (test_memory_copy_elsewhere.py, test_memory_pasted_copy.py,
test_memory_namesake_copy.py, test_memory_moved_to_copy_before.py).

Two cited functions: the workspace fixture's `verify_token` (src/auth.py:6-8), kept as cited
in another file while it changes in place, or moved out of its file; and `handle` in mod.py
(lines 4-9, its user check 5-7 cited), beside which each test pastes its own copy."""

from __future__ import annotations

from pathlib import Path

import ocp_wire as wire
from ocp_server.app import AppState
from ocp_server.workspaces import Workspace
from tests.server.app_fixture import opened
from tests.workspace_fixture import AUTH_PY

# ---- verify_token in src/auth.py --------------------------------------------------------------
COMPARE = "return hmac.compare_digest(token, secret)"  # the line a change in place edits
CHANGED = "return token == secret"


def token_decision(citation: str = "verify_token") -> wire.DecisionArg:
    return wire.DecisionArg(title="token check", decision="constant time", citations=[citation])


def copied_elsewhere_then_changed(workspace: Path) -> None:
    """A copy of src/auth.py as cited kept in src/legacy_auth.py (a vendored or legacy
    module), and verify_token then changed where it is."""
    (workspace / "src" / "legacy_auth.py").write_text(AUTH_PY)
    (workspace / "src" / "auth.py").write_text(AUTH_PY.replace(COMPARE, CHANGED))


def moved_out(workspace: Path) -> None:
    """verify_token moved out of src/auth.py into src/tokens.py, where it is lines 4-6."""
    start, end = AUTH_PY.index("def verify_token"), AUTH_PY.index("class SessionStore")
    (workspace / "src" / "tokens.py").write_text("import hmac\n\n\n" + AUTH_PY[start:end])
    (workspace / "src" / "auth.py").write_text(AUTH_PY[:start] + AUTH_PY[end:])


# ---- handle in mod.py -------------------------------------------------------------------------
HANDLE = """def handle(request):
    user = request.user
    if user is None:
        raise PermissionError("no user on the request")
    limit = settings.rate_limit_for(user)
    return respond(request, limit)
"""
HEAD = "import settings\n\n\n"
TAIL = "\n\ndef respond(request, limit):\n    return (request, limit)\n"
MOD = HEAD + HANDLE + TAIL  # mod.py as the decision is saved
CITED = "mod.py:5-7"  # the user check inside `handle` (lines 4-9)
REFUSAL = 'raise PermissionError("no user on the request")'
EDITED = HANDLE.replace(REFUSAL, "return None")
COPY = HANDLE.replace("def handle", "def handle_v1")  # a copy under another name


def handle_decision(citation: str = CITED) -> wire.DecisionArg:
    return wire.DecisionArg(
        title="no user", decision="handle refuses anonymous", citations=[citation]
    )


async def saved(app: AppState, workspace: Path, decision: wire.DecisionArg) -> Workspace:
    """The workspace opened and indexed as it is, with `decision` saved."""
    ws = await opened(app, workspace)
    await app.save(ws, wire.SaveArgs(decisions=[decision]))
    return ws


async def reindexed(app: AppState, ws: Workspace) -> wire.RestoreResult:
    """The restore once the index has caught up with the workspace."""
    await ws.index.update()
    return await app.restore(ws, wire.RestoreArgs(max_tokens=2_000))


def only_stale(out: wire.RestoreResult) -> wire.StaleOut:
    """The one memory `out` lists as stale, none being served as a fact."""
    assert not out.decisions, out.brief
    (stale,) = out.stale
    return stale


async def restored(
    app: AppState, workspace: Path, after: str, *, before: str = MOD, cited: str = CITED
) -> wire.RestoreResult:
    """mod.py as `before` when a decision citing `cited` is saved, then as `after`: the
    restore once that is indexed."""
    mod = workspace / "mod.py"
    mod.write_text(before)
    ws = await saved(app, workspace, handle_decision(cited))
    mod.write_text(after)
    return await reindexed(app, ws)
