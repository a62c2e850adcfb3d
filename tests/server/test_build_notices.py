"""The progress notice a tool call gets while the workspace's first index is built (to a
client that asked for progress): how far the build got, in true words: files still being
listed are not "0/0 files", and one file is "0/1 file"."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from ocp_server.index import indexer
from tests.server.inproc import inproc_client, text_of


def _held_at(monkeypatch: pytest.MonkeyPatch, name: str) -> tuple[threading.Event, threading.Event]:
    """The first build held in `indexer.<name>` (the listing, or reading a file): the first
    event is set once it got there, the second lets it go on."""
    real = getattr(indexer, name)
    reached, release = threading.Event(), threading.Event()

    def held(*args: Any, **kwargs: Any) -> Any:
        reached.set()
        release.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(indexer, name, held)
    return reached, release


@pytest.mark.parametrize(
    ("held", "told"),
    [
        ("list_workspace", (0, None, "building the workspace index: listing files")),
        ("process_file", (0, 1, "building the workspace index: 0/1 file")),
    ],
)
async def test_a_call_during_the_first_build_is_told_how_far_it_got(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, held: str, told: tuple[object, ...]
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "auth.py").write_text("def verify_token(token):\n    return token\n")
    reached, release = _held_at(monkeypatch, held)
    notices: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        notices.append((progress, total, message))

    async with inproc_client(workspace, monkeypatch) as client:
        # the first call opens the workspace, which starts the first build
        first = asyncio.create_task(client.call_tool("ocp_context_search", {"query": "token"}))
        try:
            assert await asyncio.to_thread(reached.wait, 60)
            second = asyncio.create_task(
                client.call_tool(
                    "ocp_context_search", {"query": "verify_token"}, progress_callback=on_progress
                )
            )
            while not notices and not second.done():
                await asyncio.sleep(0.01)
        finally:
            release.set()
        answers = await first, await second
    assert all(not a.is_error for a in answers), [text_of(a) for a in answers]
    assert notices and notices[0] == told, notices
