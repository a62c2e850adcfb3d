"""A workspace's first index held back, for tests of what the server answers during a long
first build: no file is indexed until the returned event is set; and the waits for it
counted."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ocp_server.index import indexer
from ocp_server.index.files import Candidate
from ocp_server.index.workspace import WorkspaceIndex


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
