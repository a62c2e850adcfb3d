"""ocp_session_restore's `answer_from` means nothing without `answer_of`: it says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.inproc import inproc_client, text_of


async def test_answer_from_without_answer_of_is_refused_naming_both(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Was: answer_from dropped without a word, and the memory brief served in place of the
    # part of an answer the caller asked for.
    async with inproc_client(workspace, monkeypatch) as client:
        alone = await client.call_tool("ocp_session_restore", {"answer_from": 5})
        assert alone.is_error
        told = text_of(alone)
        assert "`answer_from` (5) is read only with `answer_of`" in told, told
        assert "give both, or leave `answer_from` out" in told
        plain = await client.call_tool("ocp_session_restore", {"answer_from": 0})
        assert not plain.is_error  # its default, said or not
