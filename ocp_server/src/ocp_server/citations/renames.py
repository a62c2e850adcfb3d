"""Where a cited file that is gone went: as git says (`GitRenames`), else as the index saw it.

Git knows a rename staged or committed; the index (index/moves.py) knows a plain `mv` git was
never told of, or in a workspace without git: a file dropped as one of the same bytes came.

Asked only for a cited file that is gone, with a few bounded git calls: the staged renames
(`git diff --cached -M`), else the last commit that deleted the path (a pathspec-limited
`git log`, which git walks cheaply) and the renames of that one commit (`git diff -M`). A
file renamed again is followed, at most MAX_HOPS times. Not a git work tree, git missing,
slow or failing: no answer, and the index's moves and the name-based guesses
(`CodeView.renamed_to`) stand alone.
A save or restore spends at most GIT_BUDGET_S in git in all: after a refactor many cited files
are gone at once, and each `git log` walks the history (0.2 s each in pytest's 17,000 commits).
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import time
from pathlib import Path

import aiosqlite

from ocp_server.git_commands import run_git
from ocp_server.index.moves import MAX_HOPS, moved_to

logger = logging.getLogger(__name__)

__all__ = ["GitRenames", "Renames"]

GIT_TIMEOUT_S = 3.0  # each call
GIT_BUDGET_S = 2.0  # all calls of one save or restore; then renames are guessed by name only


class Renames:
    """Where gone files went, as git says, else as the index saw them, each asked once."""

    def __init__(self, workspace: Path, db: aiosqlite.Connection) -> None:
        self.git = GitRenames(workspace)
        self.db = db
        self._went: dict[str, list[str]] = {}

    async def renamed_to(self, path: str) -> list[str]:
        """The paths `path` was renamed to, the latest first (empty when neither knows)."""
        if path not in self._went:
            self._went[path] = await self.git.renamed_to(path) or await moved_to(self.db, path)
        return self._went[path]


class GitRenames:
    """One workspace's renames as git knows them, each asked of git once per instance."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self._staged: dict[str, str] | None = None
        self._committed: dict[str, str | None] = {}
        self._usable = True  # false once git failed or the budget is spent: asked no more
        self._spent = 0.0

    async def renamed_to(self, path: str) -> list[str]:
        """The paths `path` was renamed to, the latest first (empty when git does not know)."""
        hops: list[str] = []
        current = path
        while len(hops) < MAX_HOPS and self._usable:
            new = await self._renamed(current)
            if new is None or new in hops or new == path:
                break
            hops.append(new)
            current = new
        return hops[::-1]

    async def _renamed(self, path: str) -> str | None:
        if self._staged is None:
            out = await self._git("diff", "--cached", "--relative", *_RENAMES)
            self._staged = _renames(out) if out is not None else {}
        if path in self._staged:
            return self._staged[path]
        if path not in self._committed:
            self._committed[path] = await self._committed_rename(path)
        return self._committed[path]

    async def _committed_rename(self, path: str) -> str | None:
        commit = await self._git("log", "-n1", "--format=%H", "--diff-filter=D", "--", path)
        if not commit or not commit.strip():
            return None
        sha = commit.strip()
        out = await self._git("diff", "--relative", *_RENAMES, f"{sha}^", sha)
        return _renames(out).get(path) if out is not None else None

    async def _git(self, *args: str) -> str | None:
        if not self._usable:
            return None
        if self._spent >= GIT_BUDGET_S:
            logger.info("git's time for this save or restore is spent: renames guessed by name")
            self._usable = False
            return None
        began = time.monotonic()
        try:
            done = await asyncio.to_thread(run_git, self.workspace, *args, timeout=GIT_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired):
            logger.info("git took too long or is missing: renames are guessed by name only")
            self._usable = False
            return None
        finally:
            self._spent += time.monotonic() - began
        if done.returncode != 0:  # not a git work tree, or no such commit
            if b"not a git repository" in done.stderr:
                self._usable = False
            return None
        return done.stdout.decode("utf-8", errors="replace")


_RENAMES = ("-M", "--name-status", "--diff-filter=R", "-z")


def _renames(out: str) -> dict[str, str]:
    """old path -> new path, from `--name-status -z` output (status, old, new, each NUL-ended)."""
    fields = out.split("\0")
    found: dict[str, str] = {}
    i = 0
    while i + 2 < len(fields):
        if fields[i].startswith("R"):
            found[fields[i + 1]] = fields[i + 2]
            i += 3
        else:
            i += 1
    return found
