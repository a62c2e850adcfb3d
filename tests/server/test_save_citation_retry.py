"""A save whose citation fails runs an update and tries again only when an update could make
it resolve: the cited file or symbol is not in the index yet (a function written a moment ago).
A citation the updated index would refuse the same (lines that are no range, a file larger
than OCP_MAX_FILE_BYTES, a file that cannot be read) is refused at once: the update ran inside
the save for nothing, reading every changed file before the save answered."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_server.app import AppState
from ocp_server.errors import CitationError
from ocp_server.settings import ServerSettings
from ocp_server.workspaces import Workspace
from tests.fakes import FakeOllama
from tests.server.app_fixture import opened


@pytest.fixture
async def small_app(
    workspace: Path, fake_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AppState]:
    """The app, with files over 4,000 bytes too large to read."""
    monkeypatch.setenv("OCP_OLLAMA_URL", fake_ollama.url)
    settings = ServerSettings(
        workspace=workspace, db_path=workspace.parent / "ocp.db", max_file_bytes=4_000
    )
    state = await AppState.create(settings)
    yield state
    await state.aclose()


def counted_updates(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """What each of the save's updates (`update_now`) returned, in order."""
    calls: list[bool] = []
    real = ws.index.update_now

    async def spy() -> bool:
        calls.append(await real())
        return calls[-1]

    monkeypatch.setattr(ws.index, "update_now", spy)
    return calls


def note(citation: str) -> wire.SaveArgs:
    return wire.SaveArgs(notes=[wire.NoteArg(text="tokens are checked", citations=[citation])])


def unreadable(workspace: Path) -> None:
    (workspace / "src" / "auth.py").unlink()
    os.mkfifo(workspace / "src" / "auth.py")  # still indexed: no update ran since


def too_large(workspace: Path) -> None:
    (workspace / "src" / "big.py").write_text("X = 1\n" * 1_000)


@pytest.mark.parametrize(
    ("citation", "before", "why"),
    [
        ("src/auth.py:5-2", None, "lines must be start-end with 1 <= start <= end"),
        ("src/auth.py:1-900", None, "the file has"),
        ("src/big.py:1-2", too_large, "larger than OCP_MAX_FILE_BYTES (4,000 bytes)"),
        ("src/auth.py:1-2", unreadable, "cannot be read (not a regular file"),
    ],
    ids=["no range", "past the end", "too large", "unreadable"],
)
async def test_a_citation_an_update_would_not_fix_is_refused_without_one(
    small_app: AppState,
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    citation: str,
    before: object,
    why: str,
) -> None:
    ws = await opened(small_app, workspace)
    if callable(before):
        before(workspace)
    updates = counted_updates(ws, monkeypatch)
    with pytest.raises(CitationError, match="`notes\\[0\\].citations\\[0\\]`: ") as caught:
        await small_app.save(ws, note(citation))
    assert why in str(caught.value), caught.value
    assert updates == []


LIMITS_PY = "def clamp_window(size: int) -> int:\n    return min(max(size, 1), 64)\n"


@pytest.mark.parametrize("citation", ["src/limits.py:1-2", "clamp_window"], ids=["path", "symbol"])
async def test_a_citation_of_code_written_since_the_last_update_is_found_by_one(
    small_app: AppState, workspace: Path, monkeypatch: pytest.MonkeyPatch, citation: str
) -> None:
    ws = await opened(small_app, workspace)
    (workspace / "src" / "limits.py").write_text(LIMITS_PY)
    updates = counted_updates(ws, monkeypatch)
    saved = await small_app.save(ws, note(citation))
    assert [(c.citation, c.symbol) for c in saved.citations] == [
        ("src/limits.py:1-2", "clamp_window")
    ]
    assert updates == [True]
