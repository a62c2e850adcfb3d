"""An ignore file git applies from outside the workspace's own folders, edited since the last
update, is seen by the next search as the workspace's .gitignore files are: a `.gitignore` in
a folder above a workspace that is a sub-folder of its repository, the repository's
info/exclude (which is not in the workspace then), and the global excludes file
(`core.excludesFile`, else `$XDG_CONFIG_HOME/git/ignore`). Without a watcher: the search
alone must not return a file they now ignore."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ocp_server.index.workspace import WorkspaceIndex
from tests.workspace_fixture import git

DRAFT = "export function draftRefund(order: string) { return order }\n"


@pytest.fixture
def sub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`repo/app`, a sub-folder of a repository, holding an untracked `web/draft.ts` that no
    rule ignores yet; git's user config is the test's own (no global excludes file)."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    repo = tmp_path / "repo"
    (repo / "app" / "web").mkdir(parents=True)
    (repo / "app" / "web" / "billing.ts").write_text("export const cents = 1\n")
    (repo / ".gitignore").write_text("*.log\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    (repo / "app" / "web" / "draft.ts").write_text(DRAFT)
    return repo / "app"


def _later(path: Path) -> None:
    now = time.time()  # the clock's, not the file system's coarser time
    os.utime(path, (now, now))


async def _returned_after(ws: Path, edit: Path, line: str) -> list[str]:
    """The paths a search for the draft returns once `edit` got `line`, after an update that
    returned it."""
    index = await WorkspaceIndex.open(ws, ws.parent.parent / "db" / "ocp.db")
    try:
        await index.update()
        before = await index.search("draftRefund", refresh=True)
        assert [r.path for r in before.results][:1] == ["web/draft.ts"]
        edit.parent.mkdir(parents=True, exist_ok=True)
        with edit.open("a") as file:
            file.write(line)
        _later(edit)
        after = await index.search("draftRefund", refresh=True)
        assert after.note and "re-indexed first" in after.note, after.note
        return [r.path for r in after.results]
    finally:
        await index.close()


async def test_a_gitignore_above_the_workspace(sub: Path) -> None:
    returned = await _returned_after(sub, sub.parent / ".gitignore", "app/web/draft.ts\n")
    assert "web/draft.ts" not in returned


async def test_the_repositorys_info_exclude_above_the_workspace(sub: Path) -> None:
    exclude = sub.parent / ".git" / "info" / "exclude"
    assert "web/draft.ts" not in await _returned_after(sub, exclude, "draft.ts\n")


async def test_the_default_global_excludes_file(sub: Path, tmp_path: Path) -> None:
    default = tmp_path / "xdg" / "git" / "ignore"
    assert "web/draft.ts" not in await _returned_after(sub, default, "draft.ts\n")


async def test_the_global_excludes_file_named_by_core_excludesfile(
    sub: Path, tmp_path: Path
) -> None:
    named = tmp_path / "home" / ".gitignore_global"
    named.parent.mkdir()
    named.write_text("# mine\n")
    (tmp_path / "gitconfig").write_text(f"[core]\n\texcludesFile = {named}\n")
    assert "web/draft.ts" not in await _returned_after(sub, named, "draft.ts\n")


async def test_a_global_excludes_file_that_is_a_link_edited_at_its_target(
    sub: Path, tmp_path: Path
) -> None:
    target = tmp_path / "dotfiles" / "gitignore"  # a dotfiles manager's link
    target.parent.mkdir()
    target.write_text("# mine\n")
    default = tmp_path / "xdg" / "git" / "ignore"
    default.parent.mkdir(parents=True)
    default.symlink_to(target)
    assert "web/draft.ts" not in await _returned_after(sub, target, "draft.ts\n")


async def test_the_info_exclude_a_linked_worktree_shares(sub: Path, tmp_path: Path) -> None:
    """A linked worktree's `.git` is a file; info/exclude is in the main repository's."""
    repo = sub.parent
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"))
    wt = tmp_path / "wt"
    (wt / "app" / "web" / "draft.ts").write_text(DRAFT)
    exclude = repo / ".git" / "info" / "exclude"
    assert "web/draft.ts" not in await _returned_after(wt / "app", exclude, "draft.ts\n")
