"""Same-size rewrites racing the index's updates on the real filesystem: whatever mtimes
the writes get, the index ends holding what the file holds (the racy-clean window,
indexer.py `_racy_window_ns`, tried rather than modelled). Where the kernel gives a write
after a stat an mtime unlike the one the stat saw (Linux 6.13 on: multigrain timestamps) this
passes with no window at all; on a coarse clock (a tick of milliseconds, older
kernels) writes in one tick share it, which is the case the window is for."""

from __future__ import annotations

import threading
from pathlib import Path

from ocp_server.index.workspace import WorkspaceIndex

ROUNDS = 40


async def test_same_size_rewrites_during_updates_end_indexed_as_written(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    flip = ws / "flip.py"
    texts = [f"def flip_{c}():\n    return '{c}'\n" for c in "ab"]
    flip.write_text(texts[0])
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    try:
        await index.update()
        for n in range(ROUNDS):
            stop = threading.Event()
            written: list[str] = []

            def rewrite(stop: threading.Event = stop, written: list[str] = written) -> None:
                # same size, as fast as it goes: many writes land in one mtime tick, some
                # between the listing's stat and the read, or the read and the commit
                i = 0
                while not stop.is_set() or i < 2:
                    flip.write_text(texts[i % 2])
                    written.append(texts[i % 2])
                    i += 1

            writer = threading.Thread(target=rewrite)
            writer.start()
            try:
                await index.update()
            finally:
                stop.set()
                writer.join()
            await index.update()  # nothing writes now: the next update must set it right
            last = written[-1]
            found = (await index.search("flip", refresh=False)).results
            assert [r.text for r in found] == [last.rstrip("\n")], (n, len(written))
    finally:
        await index.close()
