"""A restore is a session's first call: it checks citations against the code as it is now,
not as the index last saw it (no watcher ran while the developer edited)."""

from __future__ import annotations

from pathlib import Path

import ocp_wire as wire
from ocp_server.app import AppState
from tests.server.app_fixture import opened
from tests.workspace_fixture import git


def token_decision(citation: str) -> wire.DecisionArg:
    return wire.DecisionArg(
        title="token comparison",
        decision="verify_token compares in constant time",
        citations=[citation],
    )


async def test_a_file_renamed_before_the_index_caught_up_is_reported_moved(
    app: AppState, workspace: Path
) -> None:
    # Was: stale, "src/auth.py was deleted", while `git mv` had staged the rename: the
    # index did not hold src/security/tokens.py yet, and a stale citation of a symbol
    # nothing defines under its name was never looked at again.
    ws = await opened(app, workspace)
    await app.save(ws, wire.SaveArgs(decisions=[token_decision("verify_token")]))
    (workspace / "src" / "security").mkdir()
    git(workspace, "mv", "src/auth.py", "src/security/tokens.py")
    restored = await app.restore(ws, wire.RestoreArgs())
    assert restored.stale == [], restored.stale[0].citations
    (decision,) = restored.decisions
    (citation,) = decision.citations
    assert (citation.status, citation.citation, citation.moved_from) == (
        "moved",
        "src/security/tokens.py:6-8",
        "src/auth.py:6-8",
    )


async def test_a_function_edited_before_the_index_caught_up_is_stale_at_once(
    app: AppState, workspace: Path
) -> None:
    ws = await opened(app, workspace)
    await app.save(ws, wire.SaveArgs(decisions=[token_decision("src/auth.py:6-8")]))
    auth = workspace / "src" / "auth.py"
    old = auth.read_text()
    auth.write_text(old.replace("hmac.compare_digest(token, secret)", "token == secret"))
    restored = await app.restore(ws, wire.RestoreArgs())
    assert restored.decisions == []
    (stale,) = restored.stale
    assert stale.citations[0].change is not None
    assert "+`return token == secret`" in stale.citations[0].change
