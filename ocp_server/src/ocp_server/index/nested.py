"""Nested git repositories and submodules, which the index leaves out, counted and named.

Git lists each as one folder, not its files: a submodule as its gitlink (`sub`), a repository
inside the work tree that is not a submodule as `tools/inner/`. Their files have their own
history, ignore rules and HEAD, so the index does not read them (yet: indexing them means a
listing and a HEAD to watch per repository, a larger decision). They are counted as a skip
reason and the first few named in the status, so a search that finds nothing in them is
explained. Outside git there is no such line: a folder holding `.git` is walked like any other.
"""

from __future__ import annotations

import json

#: The skip reason, in `Listing.skipped` and the status.
NESTED_REASON = "nested_repository"
#: How many are named (in the `meta` table and the status); all of them are counted.
NAMED_AT_MOST = 5
#: The `meta` row holding the names, written with each update's skip counts.
META_KEY = "nested_repositories"


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


def describe(count: int, names: list[str]) -> str:
    """One line for the status: how many were left out, which, and how to search them."""
    more = ", …" if count > len(names) else ""
    return (
        f"{count:,} git repositories or submodules not indexed: {', '.join(names)}{more} "
        "(each has its own git; open one as its own workspace to search it)"
    )
