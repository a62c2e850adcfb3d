"""The per-document arrays every search of a snapshot reads (its length norms, changelog
flags, history counts, tile bytes: `Snapshot.derived`) are made when the snapshot is read, in
its thread, not by its first search on the event loop; they are what a search would make."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ocp_server.index.workspace import WorkspaceIndex

QUERIES = ("verify token", "CHANGELOG release notes", "load the config")
AGAIN = ("token verification", "release notes of the changelog", "read config")


async def test_a_preloaded_snapshot_holds_what_its_searches_derive(
    workspace: Path, tmp_path: Path
) -> None:
    async with await WorkspaceIndex.open(workspace, tmp_path / "ocp.db") as index:
        await index.update()
        await index.preload()
        snap = await index.snapshot()
        made = dict(snap.derived)
        assert {key[0] for key in made} >= {"length_norm", "changelogs", "tile_bytes"}
        for query in QUERIES:
            await index.search(query, refresh=False)
        # no search made one, nor made one again
        assert {k: v for k, v in snap.derived.items() if k in made} == made
        assert set(snap.derived) == set(made)
        # and each is what a search makes from nothing
        snap.derived.clear()
        for query in AGAIN:  # not asked before: nothing answered from a memo
            await index.search(query, refresh=False)
        assert set(snap.derived) <= set(made)
        for key, value in snap.derived.items():
            np.testing.assert_array_equal(value, made[key], err_msg=str(key))


async def test_a_snapshot_brought_up_to_date_holds_them_too(
    workspace: Path, tmp_path: Path
) -> None:
    async with await WorkspaceIndex.open(workspace, tmp_path / "ocp.db") as index:
        await index.update()
        await index.preload()
        first = await index.snapshot()
        (workspace / "added.py").write_text("def added_helper():\n    return 'new'\n")
        await index.update()
        await index.preload()
        later = await index.snapshot()
        assert later is not first
        assert {key[0] for key in later.derived} >= {"length_norm", "changelogs", "tile_bytes"}
