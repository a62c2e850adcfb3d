"""The watcher follows git wherever git keeps a workspace's metadata: a linked worktree's and a
submodule checkout's `.git` is a file naming a folder elsewhere, a workspace below its
repository's top has no `.git` of its own, and the global excludes file lives in the user's
config. A change there that changes no file of the work tree (`git add -f`, `git reset`, a
pattern added) is indexed as it is in a plain repository."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
import watchfiles

from ocp_server.index.files import list_workspace
from ocp_server.index.gitdirs import excludes_file
from ocp_server.index.githead import GitHead
from ocp_server.index.watched import RelevantChanges, git_watch
from tests.index.watching import found, watched
from tests.workspace_fixture import git

FORCED = "forced_zebra_line\n"


def _repository(top: Path, sub: str = "") -> Path:
    """A repository at `top` ignoring `*.log`, with `main.py` (in `sub`); the folder of it."""
    folder = top / sub
    folder.mkdir(parents=True)
    (top / ".gitignore").write_text("*.log\n")
    (folder / "main.py").write_text("def main():\n    pass\n")
    git(top, "init", "-q", "-b", "main")
    git(top, "add", "-A")
    git(top, "commit", "-qm", "init")
    return folder


def _worktree(tmp_path: Path) -> Path:
    _repository(tmp_path / "repo")
    git(tmp_path / "repo", "worktree", "add", "-q", "-b", "feature", str(tmp_path / "ws"))
    return tmp_path / "ws"


def _worktree_with_a_forced_commit(tmp_path: Path) -> Path:
    """A worktree whose last commit force-added an ignored file, debug.log."""
    ws = _worktree(tmp_path)
    (ws / "debug.log").write_text(FORCED)
    git(ws, "add", "-f", "debug.log")
    git(ws, "commit", "-qm", "forced")
    return ws


def _submodule(tmp_path: Path) -> Path:
    _repository(tmp_path / "lib")
    _repository(tmp_path / "super")
    url = str(tmp_path / "lib")
    git(tmp_path / "super", "-c", "protocol.file.allow=always", "submodule", "add", "-q", url, "ws")
    return tmp_path / "super" / "ws"


def _subfolder(tmp_path: Path) -> Path:
    return _repository(tmp_path / "repo", "pkg")


LAYOUTS: dict[str, Callable[[Path], Path]] = {
    "worktree": _worktree,
    "submodule": _submodule,
    "subfolder": _subfolder,
}


async def _leaves_once_ignored(ws: Path, db: Path, rules: Path, pattern: str) -> None:
    """scratch_notes.py, indexed by a running watcher, leaves the index once `pattern` is
    added to `rules` (a file of ignore rules git reads)."""
    (ws / "scratch_notes.py").write_text("def scratch_notes():\n    pass\n")
    async with watched(ws, db) as index:
        assert "scratch_notes.py" in await found(index, "scratch_notes")
        with rules.open("a") as file:
            file.write(pattern)
        async with asyncio.timeout(15):
            while "scratch_notes.py" in await found(index, "scratch_notes"):
                await asyncio.sleep(0.1)


@pytest.mark.parametrize("layout", list(LAYOUTS))
async def test_a_file_force_added_is_indexed_by_the_watcher_wherever_git_keeps_its_index(
    tmp_path: Path, layout: str
) -> None:
    # The watcher watched `<workspace>/.git/` only: a worktree's or a submodule's index is in
    # a folder elsewhere, a sub-folder's in the top's `.git`; the file waited for another edit.
    ws = LAYOUTS[layout](tmp_path)
    assert (ws / ".git").is_file() or layout == "subfolder"
    (ws / "debug.log").write_text(FORCED)
    async with watched(ws, tmp_path / "ocp.db") as index:
        assert "debug.log" not in await found(index, "forced_zebra_line")
        git(ws, "add", "-f", "debug.log")
        async with asyncio.timeout(15):
            while "debug.log" not in await found(index, "forced_zebra_line"):
                await asyncio.sleep(0.1)


async def test_a_reset_in_a_worktree_is_followed_by_the_watcher(tmp_path: Path) -> None:
    # `git reset HEAD~1` of a commit that force-added a file: only the worktree's own index
    # and the branch (in the common folder) change, and the file is ignored again.
    ws = _worktree_with_a_forced_commit(tmp_path)
    async with watched(ws, tmp_path / "ocp.db") as index:
        assert "debug.log" in await found(index, "forced_zebra_line")
        git(ws, "reset", "-q", "HEAD~1")
        # git renames the index in place, then the branch (strace): under load the watcher's
        # update may fall between the two and drop the file at the old HEAD, the branch's own
        # event bringing the update that records the new one. Done once both are followed.
        async with asyncio.timeout(15):
            while (
                "debug.log" in await found(index, "forced_zebra_line")
                or (await index.status()).stale
            ):
                await asyncio.sleep(0.1)


async def test_a_branch_moved_after_its_index_is_followed_by_the_watcher(tmp_path: Path) -> None:
    # The reset above with an update between its two writes, as a loaded machine may have it:
    # the file leaves at the index's write, the index is current again at the branch's.
    ws = _worktree_with_a_forced_commit(tmp_path)
    async with watched(ws, tmp_path / "ocp.db") as index:
        parent = git(ws, "rev-parse", "HEAD~1").strip()
        git(ws, "read-tree", parent)  # the index, as `git reset` writes it first
        async with asyncio.timeout(15):
            while "debug.log" in await found(index, "forced_zebra_line"):
                await asyncio.sleep(0.1)
        assert not (await index.status()).stale  # HEAD has not moved yet
        git(ws, "update-ref", "refs/heads/feature", parent)  # once that update is done
        async with asyncio.timeout(15):
            while (await index.status()).stale:
                await asyncio.sleep(0.1)


async def test_a_worktrees_exclude_file_is_the_common_one_and_is_followed(tmp_path: Path) -> None:
    ws = _worktree(tmp_path)
    exclude = tmp_path / "repo" / ".git" / "info" / "exclude"
    exclude.parent.mkdir(exist_ok=True)
    await _leaves_once_ignored(ws, tmp_path / "ocp.db", exclude, "\nscratch_notes.py\n")


async def test_a_pattern_added_to_a_gitignore_above_a_subfolder_workspace_is_followed(
    tmp_path: Path,
) -> None:
    ws = _subfolder(tmp_path)
    gitignore = tmp_path / "repo" / ".gitignore"
    await _leaves_once_ignored(ws, tmp_path / "ocp.db", gitignore, "scratch_notes.py\n")


def test_head_in_a_worktree_follows_its_commits_and_resets(tmp_path: Path) -> None:
    # A worktree's branches are in the common folder: HEAD read as "ref: refs/heads/feature"
    # whatever the commit, so a commit or a reset there left the index's HEAD unchanged.
    ws = _worktree(tmp_path)
    head = GitHead(ws)
    assert head() == git(ws, "rev-parse", "HEAD").strip()
    git(ws, "commit", "-q", "--allow-empty", "-m", "two")
    assert head() == git(ws, "rev-parse", "HEAD").strip()
    git(ws, "reset", "-q", "--hard", "HEAD~1")
    assert head() == git(ws, "rev-parse", "HEAD").strip()
    git(tmp_path / "repo", "pack-refs", "--all")  # packed in the common folder
    assert head() == git(ws, "rev-parse", "HEAD").strip()


@pytest.mark.parametrize("linked", [False, True], ids=["file", "link"])
async def test_a_pattern_added_to_the_global_excludes_file_is_followed(
    workspace: Path, tmp_path: Path, linked: bool
) -> None:
    # git applies core.excludesFile to its listing, so the index does: a pattern added there
    # took a file out of git's listing, and the index kept it until some other change. A
    # dotfiles manager links the file to its own folder, where it is edited.
    excludes = tmp_path / "home" / ".gitignore_global"
    edited = tmp_path / "dotfiles" / "gitignore" if linked else excludes
    for path in (excludes, edited):
        path.parent.mkdir(exist_ok=True)
    edited.write_text("*.swp\n")
    if linked:
        excludes.symlink_to(edited)
    git(workspace, "config", "core.excludesFile", str(excludes))
    await _leaves_once_ignored(workspace, tmp_path / "ocp.db", edited, "scratch_notes.py\n")


async def test_core_excludesfile_pointed_at_another_file_is_followed_by_the_watcher(
    workspace: Path, tmp_path: Path
) -> None:
    # The excludes file was named once, at the watcher's start: pointed elsewhere, the new
    # one's rules were not applied until some other change, nor its edits followed.
    first, other = tmp_path / "first-ignore", tmp_path / "other-ignore"
    first.write_text("*.swp\n")
    other.write_text("scratch_notes.py\n")
    git(workspace, "config", "core.excludesFile", str(first))
    (workspace / "scratch_notes.py").write_text("def scratch_notes():\n    pass\n")
    async with watched(workspace, tmp_path / "ocp.db") as index:
        assert "scratch_notes.py" in await found(index, "scratch_notes")
        git(workspace, "config", "core.excludesFile", str(other))
        async with asyncio.timeout(15):
            while "scratch_notes.py" in await found(index, "scratch_notes"):
                await asyncio.sleep(0.1)
        other.write_text("*.swp\n")  # the file named now is the one followed
        async with asyncio.timeout(15):
            while "scratch_notes.py" not in await found(index, "scratch_notes"):
                await asyncio.sleep(0.1)


def test_the_global_excludes_file_is_gits_default_one_when_none_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no_config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    ws = _subfolder(tmp_path)
    default = tmp_path / "xdg" / "git" / "ignore"
    assert excludes_file(tmp_path / "repo") == default
    default.parent.mkdir(parents=True)
    default.write_text("notes.py\n")  # git applies it: the listing leaves it out
    (ws / "notes.py").write_text("untracked = True\n")
    assert [c.path for c in list_workspace(ws).candidates] == ["main.py"]
    watch = git_watch(ws)
    assert watch.follows(str(default)) and str(default.parent) in watch.folders
    # of the folders above the workspace, only their .gitignore counts
    assert watch.follows(str(tmp_path / "repo" / ".gitignore"))
    relevant = RelevantChanges(ws, tmp_path / "ocp.db", watch)
    assert not relevant(watchfiles.Change.modified, str(tmp_path / "repo" / "README.md"))
    # not read by git (GIT_CONFIG_GLOBAL names the user's config)
    assert not relevant(watchfiles.Change.modified, str(default.parent / "config"))
    # git's config may name another excludes file: followed
    assert relevant(watchfiles.Change.modified, str(tmp_path / "no_config"))
