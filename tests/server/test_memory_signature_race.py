"""A cited file edited while a save is under way (an agent's parallel tool calls, another
window): the save's citation keeps the code as it was read, so the file's signature it records
must be the one of that read, or the next restore never looks at the file again and serves the
memory as valid over lines that changed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ocp_server.citations import CodeView, Stored
from ocp_server.citations.values import Check
from ocp_server.db import connect
from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.memory import DecisionIn, MemoryStore
from tests.workspace_fixture import AUTH_PY


@pytest.fixture
async def index(workspace: Path) -> AsyncIterator[WorkspaceIndex]:
    index = await WorkspaceIndex.open(workspace, workspace.parent / "ocp.db")
    await index.update()
    yield index
    await index.close()


@pytest.fixture
async def store(workspace: Path, index: WorkspaceIndex) -> AsyncIterator[MemoryStore]:
    conn = await connect(workspace.parent / "ocp.db")
    yield MemoryStore(conn, workspace=workspace)
    await conn.close()


async def test_a_file_edited_during_a_save_is_stale_at_the_next_restore(
    store: MemoryStore, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = workspace / "src" / "auth.py"
    compare = type(store)._similarities

    async def edited_meanwhile(self: MemoryStore, *args: object) -> object:
        # after the citation was read, before it is stored: the write the agent sent beside
        # the save (its size changes, so any signature taken now differs from the read's)
        auth.write_text(AUTH_PY.replace("hmac.compare_digest(token, secret)", "token == secret"))
        return await compare(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(type(store), "_similarities", edited_meanwhile)
    sid = await store.start_session(str(workspace))
    saved = await store.save(
        sid, decisions=[DecisionIn("tokens", "constant time", citations=("verify_token",))]
    )
    assert [c.citation for c in saved.citations] == ["src/auth.py:6-8"]
    monkeypatch.undo()

    brief = await store.restore()
    assert brief.decisions == ()
    (stale,) = brief.stale
    assert stale.citations[0].status == "stale"
    assert "+`return token == secret`" in (stale.citations[0].change or "")


async def test_a_file_edited_while_a_restore_follows_a_citation_into_it_is_checked_again(
    store: MemoryStore, index: WorkspaceIndex, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = await store.start_session(str(workspace))
    await store.save(
        sid, decisions=[DecisionIn("tokens", "constant time", citations=("verify_token",))]
    )
    start, end = AUTH_PY.index("def verify_token"), AUTH_PY.index("class SessionStore")
    (workspace / "src" / "auth.py").write_text(AUTH_PY[:start] + AUTH_PY[end:])
    tokens = workspace / "src" / "tokens.py"
    tokens.write_text("import hmac\n\n\n" + AUTH_PY[start:end])
    await index.update()
    check = CodeView.check

    async def edited_meanwhile(self: CodeView, c: Stored) -> Check:
        found = await check(self, c)  # read, found moved; then edited before it is recorded
        tokens.write_text(tokens.read_text().replace("compare_digest(token, secret)", "x == y"))
        return found

    monkeypatch.setattr(CodeView, "check", edited_meanwhile)
    moved = await store.restore()
    monkeypatch.undo()
    assert [c.status for d in moved.decisions for c in d.citations] == ["moved"]

    again = await store.restore()
    assert again.decisions == ()
    (stale,) = again.stale
    assert "+`return hmac.x == y`" in (stale.citations[0].change or "")
