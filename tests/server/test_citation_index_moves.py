"""A file renamed by a plain `mv` git does not know of (never added, or no git at all) is
followed as the index saw it: one file gone and one of the very same content new in the same
update (index/moves.py). Its short cited blocks, which found just anywhere prove nothing, were
stale ("was deleted") though the same code sat under the new name; a copy made while the
original stays is not followed."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ocp_server.index import indexer
from tests.server.citations import OTHER, Repo, followed, opened_repo

CONFIG = "import os\n\n\nTIMEOUT = 10\nRETRIES = 3\n\n\ndef load():\n    return os.environ\n"


@pytest.fixture(params=["no git", "git, never added"])
async def repo(workspace: Path, request: pytest.FixtureRequest) -> AsyncIterator[Repo]:
    if request.param == "no git":
        shutil.rmtree(workspace / ".git")
    async with opened_repo(workspace) as opened:
        yield opened


async def _note(repo: Repo, citation: str) -> None:
    await repo.note("timeouts are 10 s, with 3 retries", citation, session="s1")


async def _config_cited(repo: Repo) -> None:
    """src/config.py indexed, and a note citing its two constants (lines 4-5)."""
    repo.write("src/config.py", CONFIG)
    await repo.reindex()
    await _note(repo, "src/config.py:4-5")


async def _followed_to(repo: Repo, citation: str) -> None:
    """The note's citation of src/config.py:4-5 followed the file to `citation`."""
    cited = followed(await repo.memory.restore(), notes=True)
    assert (cited.status, cited.citation, cited.moved_from) == (
        "moved",
        citation,
        "src/config.py:4-5",
    )


async def test_a_short_block_follows_its_file_moved_to_a_new_folder_and_name(repo: Repo) -> None:
    # Was: stale, "src/config.py was deleted" (neither git nor the name could tell).
    await _config_cited(repo)
    (repo.root / "lib" / "net").mkdir(parents=True)
    (repo.root / "src/config.py").rename(repo.root / "lib/net/limits.py")
    await repo.reindex()
    await _followed_to(repo, "lib/net/limits.py:4-5")


async def test_a_moved_file_edited_later_is_still_followed_to_its_new_name(repo: Repo) -> None:
    # The index saw the move before the edit: the file is where the cited block went, found
    # there nearest its old lines (shifted by the line added above).
    await _config_cited(repo)
    (repo.root / "src/config.py").rename(repo.root / "src/limits.py")
    await repo.reindex()
    citation = followed(
        await repo.rewritten("src/limits.py", '"""Limits."""\n' + CONFIG), notes=True
    )
    assert (citation.status, citation.citation) == ("moved", "src/limits.py:5-6")


async def test_a_copy_is_not_followed_while_its_original_stays(repo: Repo) -> None:
    await _config_cited(repo)
    shutil.copy(repo.root / "src/config.py", repo.root / "src/limits.py")
    repo.edit("src/config.py", "TIMEOUT = 10", "TIMEOUT = 30")
    brief = await repo.reindexed()
    assert brief.notes == ()
    (stale,) = brief.stale
    assert stale.citations[0].citation == "src/config.py:4-5"
    assert "TIMEOUT = 30" in (stale.citations[0].change or "")


async def test_a_short_block_follows_its_file_moved_and_edited_before_the_index_saw_it(
    repo: Repo,
) -> None:
    # Was: stale, "src/config.py was deleted": the new file's bytes are not the old ones, so
    # only the lines the two share tell it is the same file (index/edited_moves.py).
    await _config_cited(repo)
    (repo.root / "lib").mkdir()
    (repo.root / "src/config.py").rename(repo.root / "lib/limits.py")
    repo.write("lib/limits.py", '"""Limits."""\n' + CONFIG + "\n\ndef save():\n    pass\n")
    await repo.reindex()
    await _followed_to(repo, "lib/limits.py:5-6")


async def test_a_file_that_merely_shares_the_cited_lines_is_not_taken_for_the_moved_one(
    repo: Repo,
) -> None:
    # The cited lines, and an import, in a file that is otherwise another: not the one moved.
    await _config_cited(repo)
    (repo.root / "src/config.py").unlink()
    brief = await repo.rewritten("src/defaults.py", OTHER)
    (stale,) = brief.stale
    assert stale.citations[0].change == "src/config.py was deleted"


async def test_a_copy_is_followed_once_its_original_is_removed_in_a_later_update(
    repo: Repo,
) -> None:
    # Was: stale, "src/config.py was deleted": the copy was indexed before the original
    # went, so it was no new file to pair the gone one with.
    await _config_cited(repo)
    (repo.root / "lib").mkdir()
    shutil.copy(repo.root / "src/config.py", repo.root / "lib/limits.py")
    brief = await repo.reindexed()
    assert brief.notes[0].citations[0].citation == "src/config.py:4-5"  # the original stays
    (repo.root / "src/config.py").unlink()
    await repo.reindex()
    await _followed_to(repo, "lib/limits.py:4-5")


async def test_a_file_moved_and_edited_into_two_alike_files_is_followed_to_neither(
    repo: Repo,
) -> None:
    # Two new files each as like the gone one: which one it became is a guess.
    await _config_cited(repo)
    (repo.root / "src/config.py").unlink()
    repo.write("src/limits.py", CONFIG + "\nDEBUG = False\n")
    repo.write("src/bounds.py", CONFIG + "\nDEBUG = True\n")
    brief = await repo.reindexed()
    (stale,) = brief.stale
    assert stale.citations[0].change == "src/config.py was deleted"


async def test_a_file_moved_unchanged_is_not_also_taken_for_a_deleted_look_alike(
    repo: Repo,
) -> None:
    # config.py moved as it was, and its near-copy config_old.py deleted in the same update:
    # lib/limits.py is config.py (its very bytes); config_old.py went nowhere. Was: the
    # near-copy was paired with lib/limits.py too (the file moved unchanged was left out of
    # the comparison, so the look-alike had no rival), and its citation followed there.
    repo.write("src/config.py", CONFIG)
    repo.write("src/config_old.py", CONFIG + "\nDEBUG = True\n")
    await repo.reindex()
    await _note(repo, "src/config_old.py:4-5")
    (repo.root / "lib").mkdir()
    (repo.root / "src/config.py").rename(repo.root / "lib/limits.py")
    (repo.root / "src/config_old.py").unlink()
    brief = await repo.reindexed()
    (stale,) = brief.stale
    assert stale.citations[0].change == "src/config_old.py was deleted"


async def test_a_file_moved_beside_an_old_copy_of_it_is_followed_where_it_went(
    repo: Repo,
) -> None:
    # An older copy of config.py stays; config.py itself is moved (and later edited). Was:
    # the copy was paired with it as the file dropped (before the new one was written), the
    # move never was, and the citation followed the copy, not the file.
    repo.write("src/config.py", CONFIG)
    repo.write("src/config_copy.py", CONFIG)
    await repo.reindex()
    await _note(repo, "src/config.py:4-5")
    (repo.root / "lib").mkdir()
    (repo.root / "src/config.py").rename(repo.root / "lib/limits.py")
    citation = followed(await repo.reindexed(), notes=True)
    assert (citation.status, citation.citation) == ("moved", "lib/limits.py:4-5")


async def test_a_file_moved_and_edited_is_paired_with_its_most_alike_in_any_batch(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The update writes its files in batches (BATCH_FILES, 200): a file half like the gone
    # one, written in an earlier batch than the one the gone file became, was taken for it
    # (each batch was compared alone, the first alike enough won).
    monkeypatch.setattr(indexer, "BATCH_FILES", 1)
    await _config_cited(repo)
    (repo.root / "src/config.py").unlink()
    repo.write("a/draft.py", "import os\nTIMEOUT = 10\nRETRIES = 3\nDEBUG = 1\nNAME = 'x'\n")
    repo.write("lib/limits.py", '"""Limits."""\n' + CONFIG)
    citation = followed(await repo.reindexed(), notes=True)
    assert (citation.status, citation.citation) == ("moved", "lib/limits.py:5-6")
