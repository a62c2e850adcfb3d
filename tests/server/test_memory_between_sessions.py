"""Memory between sessions while the code changes, as a developer edits it: a restore, a
session's first call, catches the index up with edits no watcher saw; a save citing code
waits for the first build and finds a function written a moment ago; a file git renamed is
said renamed, not deleted."""

from __future__ import annotations

from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_client import OCPClient
from ocp_server.app import AppState
from ocp_server.errors import CitationError
from ocp_server.index import workspace_updates
from tests.fakes import FakeOllama
from tests.server.app_fixture import opened
from tests.server.stdio_env import server_env
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


async def test_a_first_save_citing_code_waits_for_the_first_index(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    # Was: "decisions[0].citations[0]: 'src/auth.py' is not in the workspace index (... or is
    # not indexed yet)" and nothing saved, when a session's first call was a save.
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        saved = await client.save(decisions=[token_decision("src/auth.py:6-8")])
    assert [(c.citation, c.symbol) for c in saved.citations] == [
        ("src/auth.py:6-8", "verify_token")
    ]


LIMITS_PY = '''"""Limits."""


def clamp_window(size: int, low: int = 1, high: int = 64) -> int:
    """Keep a window size inside the allowed range."""
    if size < low:
        return low
    return min(size, high)
'''


async def test_a_save_citing_a_function_written_since_the_last_update_finds_it(
    app: AppState, workspace: Path
) -> None:
    # Was: "notes[0].citations[0]: 'clamp_window': no definition named 'clamp_window' in the
    # index", of a function written (and committed) a moment before; `src/limits.py:4-8`
    # was "not in the workspace index".
    ws = await opened(app, workspace)
    (workspace / "src" / "limits.py").write_text(LIMITS_PY)
    note = wire.NoteArg(
        text="clamp_window keeps windows between 1 and 64",
        citations=["clamp_window", "src/limits.py:4-8"],
    )
    saved = await app.save(ws, wire.SaveArgs(notes=[note]))
    # both name the same lines: kept once
    assert [(c.citation, c.symbol) for c in saved.citations] == [
        ("src/limits.py:4-8", "clamp_window")
    ]


async def test_a_save_after_more_changes_than_its_update_reads_leaves_them_to_the_watcher(
    app: AppState, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A save whose citation the index could not resolve ran a whole update inside the save:
    # on a big workspace just checked out, every changed file read before it answered.
    monkeypatch.setattr(workspace_updates, "SAVE_UPDATE_FILES", 3)  # where update_now reads it
    ws = await opened(app, workspace)
    before = (await ws.index.status()).files
    (workspace / "src" / "limits.py").write_text(LIMITS_PY)
    for n in range(4):  # with limits.py, five changed files: more than the save reads
        (workspace / "src" / f"more_{n}.py").write_text(f"def more_{n}():\n    return {n}\n")
    note = wire.NoteArg(text="clamp_window keeps windows in range", citations=["clamp_window"])
    with pytest.raises(CitationError, match="clamp_window"):
        await app.save(ws, wire.SaveArgs(notes=[note]))
    assert (await ws.index.status()).files == before  # nothing read in the save
    # within the bound, the save's update reads them and the citation resolves (a bound with
    # room: files indexed within the racy window of their last write are read again too)
    monkeypatch.setattr(workspace_updates, "SAVE_UPDATE_FILES", 100)
    saved = await app.save(ws, wire.SaveArgs(notes=[note]))
    assert [c.symbol for c in saved.citations] == ["clamp_window"]
    assert (await ws.index.status()).files == before + 5


async def test_a_function_renamed_in_a_file_git_moved_is_stale_naming_both_new_names(
    app: AppState, workspace: Path
) -> None:
    # Was: "src/limits.py was deleted", of a file `git mv` had staged a rename of.
    (workspace / "src" / "limits.py").write_text(LIMITS_PY)
    git(workspace, "add", "src/limits.py")
    git(workspace, "commit", "-qm", "limits")
    ws = await opened(app, workspace)
    note = wire.NoteArg(text="clamp_window keeps windows in range", citations=["clamp_window"])
    await app.save(ws, wire.SaveArgs(notes=[note]))
    (workspace / "src" / "util").mkdir()
    git(workspace, "mv", "src/limits.py", "src/util/bounds.py")
    bounds = workspace / "src" / "util" / "bounds.py"
    bounds.write_text(LIMITS_PY.replace("def clamp_window(", "def clamp_size("))
    restored = await app.restore(ws, wire.RestoreArgs())
    (stale,) = restored.stale
    (citation,) = stale.citations
    assert citation.change is not None
    assert citation.change.startswith("src/limits.py was renamed to src/util/bounds.py"), (
        citation.change
    )
    assert "most alike now: `clamp_size` at src/util/bounds.py:4-8" in citation.change
