"""A workspace with no file to index (a new project, or binaries only) is indexed at once and
searched as an index that holds nothing: not as one whose first build never ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.inproc import inproc_client


async def test_a_workspace_with_nothing_to_index_is_not_said_to_be_still_building(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every update of an index holding no file counted as its first build: each search said
    # "the first index of this workspace is still being built (0 files so far) … ask again",
    # and an agent asked again, for ever.
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    async with inproc_client(workspace, monkeypatch) as client:
        for _ in range(2):
            result = await client.call_tool("ocp_context_search", {"query": "verify token"})
            assert not result.is_error
            structured = result.structured_content or {}
            assert structured["index"]["files"] == 0
            assert structured["index"]["last_update"] is not None
            assert not structured["index"]["building"], structured
            assert "still being built" not in (structured["note"] or ""), structured["note"]
