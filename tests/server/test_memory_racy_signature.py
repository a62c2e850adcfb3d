"""A cited file rewritten at the same size within its mtime tick (1-2 s on some file systems,
or an editor that puts the mtime back) keeps its signature: a signature taken that close to
the file's last write is stored unconfirmed, as git treats a "racily clean" entry, so the next
restore reads the cited lines again. Files untouched for longer are only stat'ed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ocp_server.citations import CodeView
from ocp_server.memory import DecisionIn, MemoryStore, base
from tests.workspace_fixture import AUTH_PY

HOUR_NS = 3600 * 10**9


def counted_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    read = CodeView._read

    async def counting(self: CodeView, path: str) -> list[str] | None:
        reads.append(path)
        return await read(self, path)

    monkeypatch.setattr(CodeView, "_read", counting)
    return reads


async def save_verify_token(indexed_store: MemoryStore, workspace: Path) -> None:
    sid = await indexed_store.start_session(str(workspace))
    saved = await indexed_store.save(
        sid, decisions=[DecisionIn("tokens", "constant time", citations=("verify_token",))]
    )
    assert [c.citation for c in saved.citations] == ["src/auth.py:6-8"]


async def test_a_same_size_rewrite_within_the_mtime_tick_is_stale(
    indexed_store: MemoryStore, workspace: Path
) -> None:
    auth = workspace / "src" / "auth.py"
    await save_verify_token(indexed_store, workspace)  # auth.py was just written: racily clean
    before = auth.stat()
    swapped = AUTH_PY.replace("compare_digest(token, secret)", "compare_digest(secret, token)")
    assert len(swapped) == len(AUTH_PY) and swapped != AUTH_PY
    auth.write_text(swapped)
    os.utime(auth, ns=(before.st_atime_ns, before.st_mtime_ns))  # the same tick
    assert (auth.stat().st_size, auth.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)

    brief = await indexed_store.restore()
    assert brief.decisions == ()
    (stale,) = brief.stale
    assert stale.citations[0].status == "stale"
    assert "compare_digest(secret, token)" in (stale.citations[0].change or "")


async def test_files_untouched_for_long_are_not_read_at_a_restore(
    indexed_store: MemoryStore, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = workspace / "src" / "auth.py"
    old = auth.stat().st_mtime_ns - HOUR_NS
    os.utime(auth, ns=(old, old))
    await save_verify_token(indexed_store, workspace)
    reads = counted_reads(monkeypatch)
    for _ in range(2):
        brief = await indexed_store.restore()
        assert [c.status for d in brief.decisions for c in d.citations] == ["valid"]
    assert reads == []


async def test_an_unconfirmed_signature_is_trusted_once_its_file_is_old_enough(
    indexed_store: MemoryStore, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await save_verify_token(indexed_store, workspace)
    reads = counted_reads(monkeypatch)
    await indexed_store.restore()  # still within the tick: read again, and signed unconfirmed again
    assert reads == ["src/auth.py"]
    monkeypatch.setattr(base, "RACY_NS", -HOUR_NS)  # as if its tick were long past
    await indexed_store.restore()  # read again (it was unconfirmed), now signed for good
    assert reads == ["src/auth.py"] * 2
    brief = await indexed_store.restore()
    assert reads == ["src/auth.py"] * 2
    assert [c.status for d in brief.decisions for c in d.citations] == ["valid"]
