"""Nested git repositories and submodules, which the index leaves out, counted and named.

Git lists each as one folder, not its files: a submodule as its gitlink (`sub`), a repository
inside the work tree that is not a submodule as `tools/inner/`. Their files have their own
history, ignore rules and HEAD, so the index does not read them (yet: indexing them means a
listing and a HEAD to watch per repository, a larger decision). They are counted as a skip
reason, the first few named in the status, and a search's note says how many there are, so
a search that finds nothing in them is explained. Outside git the walk leaves out the same
folders (`is_repository`), and the watcher watches only their top folder (a `.git` removed
there is noticed).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ocp_server.index.gitdirs import linked_git_dir

#: The skip reason, in `Listing.skipped` and the status.
NESTED_REASON = "nested_repository"
#: How many are named (in the `meta` table and the status); all of them are counted.
NAMED_AT_MOST = 5
#: The `meta` row holding the names, written with each update's skip counts.
META_KEY = "nested_repositories"


def is_repository(folder: str) -> bool:
    """Whether a folder holding `.git` is a repository of its own, as git decides when it
    lists the work tree around it: a `.git` folder with a HEAD, or a `.git` file (a submodule's,
    a worktree's) naming a git folder with one."""
    dot_git = os.path.join(folder, ".git")
    if os.path.isdir(dot_git):
        return os.path.isfile(os.path.join(dot_git, "HEAD"))
    if not os.path.isfile(dot_git):  # nor open a pipe named `.git`: it would wait for a writer
        return False
    git_dir = linked_git_dir(Path(dot_git))
    return git_dir is not None and os.path.isfile(git_dir / "HEAD")


def count_in(skipped: str | None) -> int:
    """How many were left out, of the `meta` row of skip counts (0 when it cannot be read)."""
    try:
        counts = json.loads(skipped or "{}")
    except json.JSONDecodeError:
        return 0
    count = counts.get(NESTED_REASON, 0) if isinstance(counts, dict) else 0
    return count if isinstance(count, int) else 0


def search_note(count: int) -> str:
    """What a search's answer says of them: short, as every answer carries it."""
    what = "repository or submodule is" if count == 1 else "repositories or submodules are"
    return f"{count:,} nested git {what} not indexed (ocp-server status names them)"


def named(folders: list[str]) -> str:
    """The first NAMED_AT_MOST folders, as the `meta` row stores them."""
    return json.dumps(sorted(folders)[:NAMED_AT_MOST])


def read_named(value: str | None) -> list[str]:
    """The names a `meta` row holds ([] when there is none or it is not a list of names)."""
    try:
        names = json.loads(value or "[]")
    except json.JSONDecodeError:
        return []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def some(count: int, names: list[str]) -> str:
    """The names the status shows of `count` things left out: `a, b and 3 more`."""
    more = count - len(names)
    return ", ".join(names) + (f" and {more:,} more" if more > 0 else "")


def describe(count: int, names: list[str]) -> str:
    """One line for the status: how many were left out, which, and how to search them."""
    return (
        f"{count:,} git repositories or submodules not indexed: {some(count, names)} "
        "(each has its own git; open one as its own workspace to search it)"
    )
