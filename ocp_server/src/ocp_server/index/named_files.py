"""The files a query names by path or file name (`src/click/termui.py`, `termui.py:40`,
`.eslintrc.json`, an absolute path into the workspace): a lookup's named files come first
(`ranking.rank`), and a query of file names alone shows each from the line it points at
(`features`)."""

from __future__ import annotations

import numpy as np

from ocp_server.index.file_kinds import file_stem
from ocp_server.index.lexical import Snapshot
from ocp_server.index.query import Query

__all__ = ["named_files"]


def named_files(snap: Snapshot, query: Query) -> dict[int, int | None]:
    """The files `query` names by path or file name (`src/click/termui.py`, `termui.py`, an
    absolute path into the workspace; case aside, as agents write them), each with the line
    it points at, if any."""
    names: dict[str, dict[str, dict[int, int]]] = {}  # stem -> name -> file -> matched
    lines: dict[str, int | None] = {}  # name -> the line it points at
    for written, line in query.files:
        name = written.removeprefix("./").lower()
        names.setdefault(file_stem(name), {})[name] = {}
        lines.setdefault(name, line)
    # Each path of a stem is read once, whatever the number of names: a query naming 200
    # files in a workspace of 6,000 `index.ts` compared each with each (1.3 s a search)
    for stem, matches in names.items():
        depths = {name.count("/") for name in matches}
        # a name ending with a path: `/home/me/ws/lib/router.py`, `a/vitest.config.ts`
        within: dict[str, list[str]] = {}
        for name in matches:
            for at in _slashes(name):
                within.setdefault(name[at + 1 :], []).append(name)
        for i in snap.stems.get(stem, np.zeros(0, dtype=np.int64)).tolist():
            path = snap.paths[i].lower()
            for depth in depths:  # the path is the name or ends with "/" + it
                tail = "/".join(path.rsplit("/", depth + 1)[-depth - 1 :])
                if tail in matches:
                    matches[tail][i] = len(tail)
            if path in within:
                for name in within[path]:
                    matches[name][i] = len(path)
    found: dict[int, int | None] = {}
    for matches in names.values():
        for name, matched in matches.items():
            # `a/vitest.config.ts` names that file, not the workspace's own `vitest.config.ts`,
            # whose path the name also ends with (as an absolute path ends with the file's)
            most = max(matched.values(), default=0)
            for i, length in matched.items():
                if length == most:
                    found.setdefault(i, lines[name])
    return found


def _slashes(text: str) -> list[int]:
    return [at for at, char in enumerate(text) if char == "/"]
