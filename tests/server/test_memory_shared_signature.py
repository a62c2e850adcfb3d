"""Several live citations point into one file, and each file has one stored signature: the
signature says up to when every citation into the file was checked. A save that cites a file
edited since its signature was stored must not overwrite it with the signature it read, or the
citations saved before the edit are never checked again and stay valid over changed code."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ocp_server.db import connect
from ocp_server.memory import DecisionIn, MemoryStore, NoteIn
from tests.workspace_fixture import AUTH_PY

HOUR_NS = 3600 * 10**9


def edit_settled(path: Path, old: str, new: str) -> None:
    """Rewrite a file and date it an hour back: its signature is not taken as racy."""
    path.write_text(path.read_text().replace(old, new))
    when = path.stat().st_mtime_ns - HOUR_NS
    os.utime(path, ns=(when, when))


async def test_a_save_citing_an_edited_file_leaves_its_older_citations_to_be_checked(
    indexed_store: MemoryStore, workspace: Path
) -> None:
    auth = workspace / "src" / "auth.py"
    edit_settled(auth, "", "")  # settled before the first save too
    sid = await indexed_store.start_session(str(workspace))
    first = await indexed_store.save(
        sid, decisions=[DecisionIn("tokens", "constant time", citations=("src/auth.py:6-8",))]
    )
    assert [c.citation for c in first.citations] == ["src/auth.py:6-8"]
    # verify_token changes; the lines of SessionStore do not move
    edit_settled(auth, "hmac.compare_digest(token, secret)", "token == secret")
    assert auth.read_text() != AUTH_PY
    second = await indexed_store.save(
        sid, notes=[NoteIn("sessions live in memory", citations=("src/auth.py:11-12",))]
    )
    assert [c.citation for c in second.citations] == ["src/auth.py:11-12"]

    brief = await indexed_store.restore()
    assert [d.title for d in brief.decisions] == []
    (stale,) = brief.stale
    assert stale.citations[0].status == "stale"
    assert "+`return token == secret`" in (stale.citations[0].change or "")
    assert [n.text for n in brief.notes] == ["sessions live in memory"]
    assert [c.status for n in brief.notes for c in n.citations] == ["valid"]


async def test_a_save_citing_a_file_checked_elsewhere_since_it_read_it_is_checked_again(
    indexed_store: MemoryStore, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other way round: the save read the file, then it was edited and another process's
    restore checked the citations already in it and stored the new signature. The save's own
    citation holds the code as it read it, so keeping that newer signature would hide the
    edit from it."""
    auth = workspace / "src" / "auth.py"
    edit_settled(auth, "", "")
    sid = await indexed_store.start_session(str(workspace))
    await indexed_store.save(
        sid, decisions=[DecisionIn("tokens", "constant time", citations=("src/auth.py:6-8",))]
    )
    conn = await connect(workspace.parent / "ocp.db")
    elsewhere = MemoryStore(conn, workspace=workspace)
    compare = type(indexed_store)._similarities

    async def edited_and_checked_meanwhile(self: MemoryStore, *args: object) -> object:
        if self is indexed_store:
            edit_settled(auth, "Keeps sessions in memory.", "Keeps sessions on disk.")
            brief = await elsewhere.restore()  # checks the decision: still valid
            assert [c.status for d in brief.decisions for c in d.citations] == ["valid"]
        return await compare(self, *args)  # type: ignore[arg-type]

    try:
        monkeypatch.setattr(type(indexed_store), "_similarities", edited_and_checked_meanwhile)
        saved = await indexed_store.save(
            sid, notes=[NoteIn("sessions live in memory", citations=("src/auth.py:11-12",))]
        )
        monkeypatch.undo()
    finally:
        await conn.close()
    assert [c.citation for c in saved.citations] == ["src/auth.py:11-12"]

    brief = await indexed_store.restore()
    assert [d.title for d in brief.decisions] == ["tokens"]
    assert brief.notes == ()
    (stale,) = brief.stale
    assert '+`"""Keeps sessions on disk."""`' in (stale.citations[0].change or "")
