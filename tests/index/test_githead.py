"""HEAD is read once, and again only when .git changed: a checkout or a commit is seen at once."""

from __future__ import annotations

import shutil
from pathlib import Path

from ocp_server.index.githead import GitHead, git_head
from tests.workspace_fixture import git


def test_cached_head_follows_commits_checkouts_and_packed_refs(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.py").write_text("x = 1\n")
    git(ws, "init", "-q", "-b", "main")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "one")
    head = GitHead(ws)
    assert head() == git_head(ws) == git(ws, "rev-parse", "HEAD").strip()

    git(ws, "commit", "-q", "--allow-empty", "-m", "two")  # the branch's ref file moves
    assert head() == git(ws, "rev-parse", "HEAD").strip()

    git(ws, "checkout", "-qb", "feature")
    git(ws, "commit", "-q", "--allow-empty", "-m", "three")
    assert head() == git(ws, "rev-parse", "feature").strip()
    git(ws, "checkout", "-q", "main")  # HEAD itself changes
    assert head() == git(ws, "rev-parse", "main").strip()

    git(ws, "pack-refs", "--all")  # the loose ref goes: packed-refs holds it
    assert not (ws / ".git" / "refs" / "heads" / "main").exists()
    assert head() == git(ws, "rev-parse", "main").strip() == git_head(ws)

    git(ws, "checkout", "-q", "--detach", "HEAD~1")  # a detached HEAD holds the commit
    assert head() == git(ws, "rev-parse", "HEAD").strip()


def test_cached_head_sees_a_repository_created_after_the_first_read(tmp_path: Path) -> None:
    ws = tmp_path / "outer" / "ws"
    ws.mkdir(parents=True)
    (ws / "a.py").write_text("x = 1\n")
    head = GitHead(ws)
    assert head() is None
    git(tmp_path / "outer", "init", "-q")  # above the workspace
    git(tmp_path / "outer", "commit", "-q", "--allow-empty", "-m", "outer")
    assert head() == git(tmp_path / "outer", "rev-parse", "HEAD").strip()
    git(ws, "init", "-q")  # in the workspace itself: the nearer one wins
    git(ws, "commit", "-q", "--allow-empty", "-m", "inner")
    assert head() == git(ws, "rev-parse", "HEAD").strip() == git_head(ws)
    shutil.rmtree(ws / ".git")
    assert head() == git(tmp_path / "outer", "rev-parse", "HEAD").strip()
