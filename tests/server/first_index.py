"""A workspace's first index held back, for tests of what the server answers during a long
first build: no file is indexed until the returned event is set; the waits for it counted;
and a save citing code during it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from ocp_server.index import indexer
from ocp_server.index.files import Candidate
from ocp_server.index.workspace import WorkspaceIndex
from tests.server.inproc import inproc_client, text_of


def hold_first_index(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Indexing held (each file up to a minute) until the returned event is set."""
    real = indexer.process_file
    answered = threading.Event()

    def held(workspace: Path, candidate: Candidate, known_hash: str | None, limit: int) -> object:
        answered.wait(60)
        return real(workspace, candidate, known_hash, limit)

    monkeypatch.setattr(indexer, "process_file", held)
    return answered


def first_index_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The timeouts each wait for the first index is given, in order, as they come."""
    timeouts: list[float] = []
    wait_built = WorkspaceIndex.wait_built

    async def counted(self: WorkspaceIndex, timeout: float) -> bool:
        timeouts.append(timeout)
        return await wait_built(self, timeout)

    monkeypatch.setattr(WorkspaceIndex, "wait_built", counted)
    return timeouts


async def saved_during_the_first_build(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    answered: threading.Event,
    citation: str,
    **settings: Any,
) -> str:
    """What `ocp_result_save` says, refusing it, of a note citing `citation` saved while the
    first index is held (OCP_FIRST_INDEX_WAIT 0.5 s, and `settings`); `answered` is set once
    it has answered, the index then let go."""
    note = {"text": "tokens are checked here", "citations": [citation]}
    async with inproc_client(workspace, monkeypatch, first_index_wait=0.5, **settings) as client:
        try:
            result = await client.call_tool("ocp_result_save", {"notes": [note]})
        finally:
            answered.set()
    said = text_of(result)
    assert result.is_error and said.startswith("`notes[0].citations[0]`: "), said
    return said
