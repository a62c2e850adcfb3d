"""The stored size and mtime of cited files, kept between searches (on_disk.StoredStats):
whatever was kept, an edit on disk is still seen, and an update's new values replace the
kept ones at once (no answer calls a re-indexed file changed, none cites stale lines)."""

from __future__ import annotations

import os
from pathlib import Path

from ocp_server.index.workspace import WorkspaceIndex

REFUND = "def compute_refund(order):\n    return order.total\n"
REFUND_MOVED = "import os\n\n\n\ndef compute_refund(order):\n    return order.total * 2\n"


def _cited_lines(ws: Path, path: str, start: int, end: int) -> str:
    return "\n".join((ws / path).read_text().splitlines()[start - 1 : end])


async def _indexed(tmp_path: Path) -> tuple[Path, WorkspaceIndex]:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.py").write_text(REFUND)
    (ws / "b.py").write_text("def unrelated_helper():\n    pass\n")
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    await index.update()
    return ws, index


async def test_an_edit_after_searches_kept_the_stored_values_is_still_named(
    tmp_path: Path,
) -> None:
    ws, index = await _indexed(tmp_path)
    try:
        for _ in range(2):  # the second search finds a.py's stored values kept
            before = await index.search("compute_refund", refresh=False)
            assert before.note is None and not before.status.stale
        (ws / "a.py").write_text(REFUND_MOVED)
        after = await index.search("compute_refund", refresh=False)
    finally:
        await index.close()
    assert after.results[0].path == "a.py" and after.status.stale
    assert after.note is not None and "a.py" in after.note


async def test_an_edit_after_searches_kept_the_stored_values_is_indexed_before_the_answer(
    tmp_path: Path,
) -> None:
    ws, index = await _indexed(tmp_path)
    try:
        await index.search("compute_refund")
        (ws / "a.py").write_text(REFUND_MOVED)
        response = await index.search("compute_refund")
    finally:
        await index.close()
    (hit,) = response.results
    assert (hit.path, hit.start_line, hit.end_line) == ("a.py", 5, 6)
    assert hit.text == _cited_lines(ws, "a.py", 5, 6)
    assert not response.status.stale


async def test_an_update_after_a_search_replaces_the_kept_values(tmp_path: Path) -> None:
    # The search keeps a.py's stored values; the update stores new ones. Kept past the
    # update, they would call the re-indexed file changed on every search after it.
    ws, index = await _indexed(tmp_path)
    try:
        await index.search("compute_refund", refresh=False)
        (ws / "a.py").write_text(REFUND_MOVED)
        await index.update()
        response = await index.search("compute_refund", refresh=False)
    finally:
        await index.close()
    (hit,) = response.results
    assert hit.text == _cited_lines(ws, "a.py", hit.start_line, hit.end_line)
    assert (hit.start_line, response.note, response.status.stale) == (5, None, False)


async def test_a_touch_indexed_after_a_search_is_not_called_changed(tmp_path: Path) -> None:
    # Same content, a new mtime: the update stores the mtime (the chunks stay as they are).
    ws, index = await _indexed(tmp_path)
    try:
        await index.search("compute_refund", refresh=False)
        stat = (ws / "a.py").stat()
        os.utime(ws / "a.py", ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
        await index.update()
        response = await index.search("compute_refund", refresh=False)
    finally:
        await index.close()
    assert (response.note, response.status.stale) == (None, False)
    assert response.results[0].text == REFUND.rstrip("\n")


async def test_a_file_deleted_after_a_search_is_named(tmp_path: Path) -> None:
    ws, index = await _indexed(tmp_path)
    try:
        await index.search("compute_refund", refresh=False)
        (ws / "a.py").unlink()
        response = await index.search("compute_refund", refresh=False)
    finally:
        await index.close()
    assert response.note is not None and "a.py" in response.note and response.status.stale
