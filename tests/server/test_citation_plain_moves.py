"""Cited lines followed through a plain `mv` git was not told of: a file never added (or a
move not staged) into a new folder under a new name, found by its content among the files
indexed last."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.server.citations import SETTINGS_PY, Repo, followed, opened_repo
from tests.workspace_fixture import git


@pytest.fixture
async def repo(workspace: Path) -> AsyncIterator[Repo]:
    git(workspace, "init", "-q")  # a work tree: git is asked, and knows of no rename
    async with opened_repo(workspace) as opened:
        yield opened


async def test_lines_follow_a_file_git_does_not_track_moved_to_a_new_folder_and_name(
    repo: Repo,
) -> None:
    # Was: stale, "src/settings.py was deleted" (neither git nor the name could tell).
    await repo.cite_timeouts()
    (repo.root / "lib" / "net").mkdir(parents=True)
    os.rename(repo.root / "src/settings.py", repo.root / "lib/net/timeouts.py")
    citation = followed(await repo.reindexed())
    assert (citation.status, citation.citation, citation.moved_from) == (
        "moved",
        "lib/net/timeouts.py:3-6",
        "src/settings.py:3-6",
    )


async def test_lines_of_a_moved_file_edited_there_are_stale_not_found_in_another(
    repo: Repo,
) -> None:
    await repo.cite_timeouts()
    (repo.root / "src/settings.py").unlink()
    # The lines live on only changed (read waits 20 s now), and in a file of another kind.
    repo.write("lib/timeouts.py", SETTINGS_PY.replace('"10"', '"20"'))
    repo.write("docs/settings.txt", SETTINGS_PY)
    brief = await repo.reindexed()
    assert brief.decisions == ()
    (stale,) = brief.stale
    # the file renamed and edited (much the same lines): where it went is said, not "deleted"
    assert stale.citations[0].change == "src/settings.py was renamed to lib/timeouts.py"
