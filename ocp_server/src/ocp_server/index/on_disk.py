"""Whether the files a search cites still look as they did when they were indexed.

The watcher re-indexes a save after its debounce (about a second); an agent that edits a file
and searches at once is faster. Its answer would cite `path:start-end` lines the file no
longer holds. So a search stats the files it cites (a few stats, no reads) against the size
and mtime the index stored for them: a file that changed is indexed before the answer, or,
where this process may not index, named in the answer as changed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path

from ocp_server.index.search import Reader

__all__ = ["IDLE_WAIT", "changed_note", "changed_on_disk", "idle"]

#: Seconds a search waits for a running update (the watcher's) before it indexes the files
#: it cites itself; a longer one (a big checkout) and the answer says the files changed.
IDLE_WAIT = 2.0


async def changed_on_disk(read: Reader, workspace: Path, paths: Iterable[str]) -> list[str]:
    """Of `paths` (indexed files), those whose size or mtime on disk is no longer what the
    index stored (or that are gone), in the order given."""
    wanted = list(dict.fromkeys(paths))
    if not wanted:
        return []
    marks = ",".join("?" * len(wanted))
    stored = {
        str(path): (int(size), int(mtime))
        for path, size, mtime in await read(
            f"SELECT path, size, mtime_ns FROM files WHERE path IN ({marks})", wanted
        )
    }
    changed = []
    root = str(workspace)  # joined as text: a Path per file costs more than its stat
    for path in wanted:
        try:
            st = os.stat(os.path.join(root, path))  # the listing stats a symlink's target too
            now: tuple[int, int] | None = (st.st_size, st.st_mtime_ns)
        except OSError:
            now = None
        if now is None or stored.get(path) != now:
            changed.append(path)
    return changed


def changed_note(changed: list[str]) -> str:
    """What an answer says of cited files that changed and could not be indexed first."""
    named = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
    return (
        f"{len(changed)} cited file(s) changed on disk since they were indexed ({named}): "
        "their text and line numbers may be out of date; ask again in a second"
    )


async def idle(lock: asyncio.Lock, seconds: float = IDLE_WAIT) -> bool:
    """Whether `lock` (the index's update lock) is free, waiting up to `seconds` for it."""
    try:
        await asyncio.wait_for(lock.acquire(), seconds)
    except TimeoutError:
        return False
    lock.release()
    return True
